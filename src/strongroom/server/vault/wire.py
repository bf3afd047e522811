"""The Vault surface's wire shapes: Vault's response envelope, ``{"errors": [...]}`` with
``Content-Type: application/json`` exactly (hvac compares it for equality), Vault's status codes
and wording, and the ``LIST`` verb (``GET ?list=true`` is the same request)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from strongroom.errors import (
    Absent,
    AccessDenied,
    CheckAndSetMismatch,
    NotFound,
    Sealed,
    StrongroomError,
    Unauthenticated,
)
from strongroom.server.json_out import encode_json
from strongroom.server.routes import (
    Answer,
    Call,
    Handler,
    MethodNotAllowed,
    Route,
    RouteNotFound,
)
from strongroom.server.surface import Rendered

__all__ = [
    "VaultForbidden",
    "absent_is_empty",
    "envelope",
    "from_native",
    "list_answer",
    "method_of",
    "render",
    "render_error",
    "writes",
]

_JSON = (b"content-type", b"application/json")
_NO_STORE = (b"cache-control", b"no-store")
_HEADERS = (_JSON, _NO_STORE)
_CAS_MISMATCH = "check-and-set parameter did not match the current version"
_ENVELOPE_CLEAR = ("request_id", "lease_id", "renewable", "lease_duration", "warnings")


class VaultForbidden(AccessDenied):
    """A 403 whose message Vault sends as it is (a lookup of a bad token: "bad token")."""


# What Go's strconv.ParseBool reads as true: Vault's reading of ?list= (hvac sends "True").
_TRUE = frozenset(f"list={v}".encode() for v in ("1", "t", "T", "TRUE", "true", "True"))


def method_of(scope: Mapping[str, Any]) -> str:
    """``GET …?list=true`` is Vault's ``LIST`` (the Go client, the CLI and hvac send it that
    way)."""
    method: str = scope["method"]
    if method == "GET":
        query: bytes = scope.get("query_string", b"")
        if query and b"list=" in query:
            for pair in query.split(b"&"):
                if pair in _TRUE:
                    return "LIST"
    return method


def envelope(
    call: Call,
    data: Any = None,
    *,
    auth: Any = None,
    warnings: list[str] | None = None,
    status: int = 200,
    wrap_info: Any = None,
    clear: tuple[str, ...] = (),
) -> Answer:
    """Vault's response envelope around ``data`` (or ``auth``, or ``wrap_info``). The audit
    entry carries the envelope's bookkeeping and ``clear``'s fields as they are; every other
    value (data, tokens in ``auth`` and ``wrap_info``) is HMAC'd."""
    return Answer(
        {
            "request_id": call.request_id,
            "lease_id": "",
            "renewable": False,
            "lease_duration": 0,
            "data": data,
            "wrap_info": wrap_info,
            "warnings": warnings,
            "auth": auth,
        },
        status=status,
        clear=(*_ENVELOPE_CLEAR, *clear),
    )


def list_answer(call: Call, keys: list[str]) -> Answer:
    """A LIST answer; Vault answers an empty list with 404 ``{"errors":[]}``."""
    if not keys:
        raise NotFound("nothing to list")
    return envelope(call, {"keys": keys})


def from_native(handler: Handler) -> Handler:
    """A native route's handler, answering in Vault's envelope. The native auth routes already
    speak Vault's shapes (``{"data": …}``, ``{"auth": …}``, ``{"keys": […]}``)."""

    def vault_handler(call: Call) -> Answer:
        answer = handler(call)
        if answer.status == 204 or answer.raw is not None:
            return answer
        doc = answer.doc
        if isinstance(doc, dict) and "auth" in doc:
            return envelope(call, None, auth=doc["auth"])
        if isinstance(doc, dict) and set(doc) == {"data"}:
            return envelope(call, doc["data"])
        if isinstance(doc, dict) and set(doc) == {"keys"}:
            return list_answer(call, doc["keys"])
        if isinstance(doc, dict) and set(doc) == {"warnings"}:
            return envelope(call, None, warnings=doc["warnings"])
        return envelope(call, doc)

    vault_handler.__name__ = handler.__name__
    return vault_handler


def absent_is_empty(handler: Handler) -> Handler:
    """Vault answers the delete of something that is not there 204, as if it had just been
    deleted (a policy, a role, a user, a secret, an audit device), and the look-up of an AppRole
    secret ID that is not there 204 too; a missing mount stays 404."""

    def vault_absent(call: Call) -> Answer:
        try:
            return handler(call)
        except Absent:
            return Answer.empty()

    vault_absent.__name__ = handler.__name__
    return vault_absent


def writes(
    path: str, handler: Handler, operation: str, summary: str = "", **flags: Any
) -> tuple[Route, ...]:
    """A write route as Vault takes it: POST and PUT alike."""
    route = Route("POST", path, handler, operation, summary, **flags)
    return (route, replace(route, method="PUT", operation=f"{operation}Put"))


_encode = encode_json


def render(answer: Answer) -> Rendered:
    extra = answer.header_pairs()
    if answer.raw is not None:
        content_type = (b"content-type", answer.media_type.encode())
        return Rendered(answer.status, answer.raw, (content_type, _NO_STORE, *extra))
    if answer.status == 204:
        return Rendered(204, b"", (_NO_STORE, *extra))
    return Rendered(answer.status, _encode(answer.doc), _HEADERS + extra)


# Vault's ACL check reports its refusal as a list of one error (its multi-error form).
_DENIED = "1 error occurred:\n\t* permission denied\n\n"


def _messages(exc: StrongroomError) -> tuple[int, list[str]]:
    """Vault's status and wording for an error; callers match on the text."""
    if isinstance(exc, VaultForbidden):
        return 403, [exc.message]
    if isinstance(exc, AccessDenied):
        return 403, [_DENIED]  # a valid token without the capability: Vault's ACL words
    if isinstance(exc, Unauthenticated):
        return 403, ["permission denied"]
    if isinstance(exc, RouteNotFound):
        route = exc.route
        if exc.method == "LIST" and not route.endswith("/"):
            route += "/"  # Vault lists a folder: it adds the slash before routing
        return 404, [f'no handler for route "{route}". route entry not found.']
    if isinstance(exc, NotFound):
        return 404, []
    if isinstance(exc, MethodNotAllowed):
        return 405, ["unsupported operation"]
    if isinstance(exc, CheckAndSetMismatch):
        return 400, [_CAS_MISMATCH]
    if isinstance(exc, Sealed):
        return 503, ["Vault is sealed"]
    return exc.http_status, [exc.message]


def render_error(exc: StrongroomError, request_id: str) -> Rendered:
    status, messages = _messages(exc)
    return Rendered(status, _encode({"errors": messages}), _HEADERS)
