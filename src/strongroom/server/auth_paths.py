"""Routing a request for an auth method mounted at a path of its own (``/v1/auth/approle-ci/
login``) to the routes of its type (``/v1/auth/approle/login``). The mount's path travels in the
scope, so the handler gets that mount's backend (``Call.services``) and the audit entry keeps the
path as sent."""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from typing import Any, cast

from strongroom.service.auth_methods import AUTH_TYPES, AuthMethodService

__all__ = ["MOUNT", "WIRE_PATH", "auth_path_router"]

MOUNT = "strongroom.auth_mount"  # the auth mount a request was routed by, if not its type's own
WIRE_PATH = "strongroom.wire_path"  # the path as sent, when routing rewrote it
_OWN_PATHS = frozenset((*AUTH_TYPES, "token"))
_MAX_MOUNT = 64


def auth_path_router(
    prefix: str, mounts: Callable[[], AuthMethodService | None]
) -> Callable[[Mapping[str, Any]], str]:
    """The path a surface under ``prefix`` ("/v1/", "/api/v1/") routes a request by."""
    base = f"{prefix}auth/"

    def route_path(scope: Mapping[str, Any]) -> str:
        path: str = scope["path"]
        if not path.startswith(base):
            return path  # almost every request: one comparison
        mount, slash, rest = path[len(base) :].partition("/")
        if mount in _OWN_PATHS or not 0 < len(mount) <= _MAX_MOUNT:
            return path
        service = mounts()
        kind = service.kind_at(mount) if service is not None else None
        if kind is None:
            return path
        writable = cast(MutableMapping[str, Any], scope)  # the ASGI scope is a dict
        writable[MOUNT] = mount
        writable[WIRE_PATH] = path
        return f"{base}{kind}{slash}{rest}"

    return route_path
