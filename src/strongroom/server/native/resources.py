"""Named resources (``…/{name}``: a policy, a role, a user, an audit sink) as four routes:
read, create-or-update by PUT and by POST, delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strongroom.auth.identity import Identity
from strongroom.server.routes import Answer, Call, Route
from strongroom.server.services import Services

__all__ = ["Deleter", "Reader", "Writer", "named_resource"]

Reader = Callable[[Services, Identity, str], Any]
Writer = Callable[[Services, Identity, str, dict[str, Any]], object]
Deleter = Callable[[Services, Identity, str], object]


def named_resource(
    path: str,
    operation: str,
    noun: str,
    *,
    read: Reader | None,
    write: Writer,
    delete: Deleter,
    body: dict[str, Any] | None = None,
) -> tuple[Route, ...]:
    """GET (``{"data": read()}``), PUT and POST, and DELETE of ``…/{name}`` as four routes."""

    def read_handler(call: Call) -> Answer:
        assert read is not None
        return Answer({"data": read(call.services, call.identity, call.params["name"])})

    def write_handler(call: Call) -> Answer:
        warnings = write(call.services, call.identity, call.params["name"], call.json())
        if isinstance(warnings, list) and warnings:  # written, with what the caller should know
            return Answer({"warnings": warnings})
        return Answer.empty()

    def delete_handler(call: Call) -> Answer:
        delete(call.services, call.identity, call.params["name"])
        return Answer.empty()

    routes = [
        Route(
            "PUT",
            path,
            write_handler,
            f"write{operation}",
            f"Create or update {noun}",
            body=body,
            status=204,
        ),
        Route(
            "POST",
            path,
            write_handler,
            f"write{operation}Post",
            "Same as PUT",
            body=body,
            status=204,
        ),
        Route("DELETE", path, delete_handler, f"delete{operation}", f"Delete {noun}", status=204),
    ]
    if read is not None:
        routes.insert(0, Route("GET", path, read_handler, f"read{operation}", f"Read {noun}"))
    return tuple(routes)
