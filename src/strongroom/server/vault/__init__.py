"""The Vault surface: Vault's HTTP API under ``/v1/`` for hvac, the ``vault``/``bao`` CLI and
Vault tooling, as a view of the same secrets, tokens and policies as the native API."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from strongroom.auth.authenticators import BearerToken, HeaderToken
from strongroom.auth.tokens import TokenRegistry
from strongroom.errors import NoSuchNamespace
from strongroom.server.auth_paths import auth_path_router
from strongroom.server.routes import Answer, Call, Handler, Route, RouteNotFound
from strongroom.server.surface import Surface
from strongroom.server.vault.auth import AUTH_ROUTES
from strongroom.server.vault.barrier import BARRIER_ROUTES
from strongroom.server.vault.catalogue import authorized
from strongroom.server.vault.identity import IDENTITY_ROUTES
from strongroom.server.vault.identity_store import IDENTITY_STORE_ROUTES
from strongroom.server.vault.kv import KV_ROUTES
from strongroom.server.vault.kv_v1 import KV_V1_ROUTES, KV_V1_UNSERVED, version_1_reroute
from strongroom.server.vault.quotas import QUOTA_ROUTES, with_quota
from strongroom.server.vault.system import SYSTEM_ROUTES
from strongroom.server.vault.transit import TRANSIT_ROUTES
from strongroom.server.vault.wire import absent_is_empty, method_of, render, render_error
from strongroom.server.vault.wrapping import WRAPPING_ROUTES, with_wrapping
from strongroom.service.auth_methods import AuthMethodService

__all__ = ["PREFIX", "VAULT_ROUTES", "vault_surface"]

PREFIX = "/v1/"
# Answered as they are, never wrapped: the wrapping endpoints and the seal's own.
_NEVER_WRAPPED = frozenset(
    {"sysHealth", "sysSealStatus", "sysInitStatus", "sysInit", "sysInitPut", "sysUnseal"}
    | {"sysUnsealPut", "sysLeader"}
    | {route.operation for route in WRAPPING_ROUTES}
)


def _null_is_empty(handler: Handler) -> Handler:
    """Vault reads a JSON ``null`` body as no body (``bao write -f`` sends one)."""

    def vault_body(call: Call) -> Answer:
        if call.body.strip() == b"null":
            call.parsed_body = {}
        return handler(call)

    vault_body.__name__ = handler.__name__
    return vault_body


def _mount_known(handler: Handler) -> Handler:
    """A path under a mount that does not exist has no handler in Vault: its 404 words."""

    def vault_mount(call: Call) -> Answer:
        try:
            return handler(call)
        except NoSuchNamespace:
            raise RouteNotFound(call.method, call.path, call.path.removeprefix(PREFIX)) from None

    vault_mount.__name__ = handler.__name__
    return vault_mount


_MOUNTED = frozenset(route.operation for route in (*KV_ROUTES, *TRANSIT_ROUTES, *KV_V1_ROUTES))
# Under a version 1 mount every path names a secret (server/vault/kv_v1.py).
_VERSIONED = frozenset(route.operation for route in (*KV_ROUTES, *TRANSIT_ROUTES))


def _adapted(routes: tuple[Route, ...]) -> tuple[Route, ...]:
    adapted = []
    for route in routes:
        handler = route.handler
        if route.operation in _MOUNTED:
            handler = _mount_known(handler)
        if route.operation not in _NEVER_WRAPPED:
            handler = with_wrapping(handler)
        if route.method == "DELETE":
            handler = absent_is_empty(handler)
        handler = authorized(replace(route, handler=handler))  # catalogue.py: rights first
        adapted.append(replace(route, handler=_null_is_empty(with_quota(handler))))
    return tuple(adapted)


# sys/, auth/ and identity/ first: a KV route's {mount} would match them too; KV version 1
# last, as its routes match any path under any mount.
VAULT_ROUTES = _adapted(
    (
        *WRAPPING_ROUTES,
        *QUOTA_ROUTES,
        *SYSTEM_ROUTES,
        *BARRIER_ROUTES,
        *AUTH_ROUTES,
        *IDENTITY_ROUTES,
        *IDENTITY_STORE_ROUTES,
        *KV_ROUTES,
        *TRANSIT_ROUTES,
        *KV_V1_ROUTES,
    )
)


# Under a version 1 mount every path names a secret: the version 1 route for each method, and a
# refusal for a method version 1 does not serve (checked by the catalogue first, as any route).
_VERSION_1 = {
    route.method: route
    for route in (*VAULT_ROUTES, *_adapted(KV_V1_UNSERVED))
    if route.operation.startswith("kv1") and route.path.endswith("{path:path}")
}


def _claims(scope: Mapping[str, Any]) -> bool:
    path: str = scope["path"]
    return path.startswith(PREFIX)


def vault_surface(
    registry: Callable[[], TokenRegistry],
    auth_mounts: Callable[[], AuthMethodService | None] = lambda: None,
) -> Surface:
    return Surface(
        name="vault",
        claims=_claims,
        routes=VAULT_ROUTES,
        render=render,
        render_error=render_error,
        authenticators=(HeaderToken(registry, "X-Vault-Token"), BearerToken(registry)),
        method=method_of,
        path=auth_path_router(PREFIX, auth_mounts),
        reroute=version_1_reroute(_VERSION_1, _VERSIONED),
    )
