"""The Vault surface: Vault's HTTP API under ``/v1/`` for hvac, the ``vault``/``bao`` CLI and
Vault tooling, as a view of the same secrets, tokens and policies as the native API."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from strongroom.auth.authenticators import BearerToken, HeaderToken
from strongroom.auth.tokens import TokenRegistry
from strongroom.server.surface import Surface
from strongroom.server.vault.auth import AUTH_ROUTES
from strongroom.server.vault.kv import KV_ROUTES
from strongroom.server.vault.system import SYSTEM_ROUTES
from strongroom.server.vault.transit import TRANSIT_ROUTES
from strongroom.server.vault.wire import method_of, render, render_error

__all__ = ["PREFIX", "VAULT_ROUTES", "vault_surface"]

PREFIX = "/v1/"
# sys/ and auth/ first: a KV route's {mount} would match them too.
VAULT_ROUTES = (*SYSTEM_ROUTES, *AUTH_ROUTES, *KV_ROUTES, *TRANSIT_ROUTES)


def _claims(scope: Mapping[str, Any]) -> bool:
    path: str = scope["path"]
    return path.startswith(PREFIX)


def vault_surface(registry: Callable[[], TokenRegistry]) -> Surface:
    return Surface(
        name="vault",
        claims=_claims,
        routes=VAULT_ROUTES,
        render=render,
        render_error=render_error,
        authenticators=(HeaderToken(registry, "X-Vault-Token"), BearerToken(registry)),
        method=method_of,
    )
