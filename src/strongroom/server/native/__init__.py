"""The native surface: strongroom's own API under /api/v1, for the CLI and the SDK."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from strongroom import __version__
from strongroom.auth.authenticators import BearerToken, HeaderToken
from strongroom.auth.tokens import TokenRegistry
from strongroom.server.auth_paths import auth_path_router
from strongroom.server.native.access import ACCESS_ROUTES
from strongroom.server.native.keys import KEY_ROUTES
from strongroom.server.native.render import ERROR_SCHEMA, render, render_error
from strongroom.server.native.rotation import ROTATION_ROUTES
from strongroom.server.native.secrets import SECRET_ROUTES
from strongroom.server.native.system import SYSTEM_ROUTES
from strongroom.server.native.workload_auth import JWT_ROUTES, KUBERNETES_ROUTES
from strongroom.server.openapi import openapi_document
from strongroom.server.routes import Answer, Call, Handler, Route
from strongroom.server.surface import Surface
from strongroom.service.auth_methods import AuthMethodService

__all__ = ["OPENAPI_PATH", "native_document", "native_routes", "native_surface"]

PREFIX = "/api/"
OPENAPI_PATH = "/api/v1/openapi.json"


def native_routes(metrics: Handler) -> tuple[Route, ...]:
    return (
        *SECRET_ROUTES,
        *KEY_ROUTES,
        *ACCESS_ROUTES,
        *JWT_ROUTES,
        *KUBERNETES_ROUTES,
        *SYSTEM_ROUTES,
        *ROTATION_ROUTES,
        Route("GET", "/api/v1/sys/metrics", metrics, "metrics", "Prometheus metrics"),
    )


def native_document(routes: tuple[Route, ...]) -> dict[str, Any]:
    return openapi_document(
        routes, title="strongroom native API", version=__version__, error_schema=ERROR_SCHEMA
    )


def _claims(scope: Mapping[str, Any]) -> bool:
    path: str = scope["path"]
    return path.startswith(PREFIX)


def native_surface(
    registry: Callable[[], TokenRegistry],
    metrics: Handler,
    auth_mounts: Callable[[], AuthMethodService | None] = lambda: None,
) -> Surface:
    routes = native_routes(metrics)
    document = json.dumps(native_document(routes), separators=(",", ":")).encode()

    def openapi(call: Call) -> Answer:
        return Answer(raw=document)

    spec = Route("GET", OPENAPI_PATH, openapi, "openapi", "This document", public=True, fast=True)
    return Surface(
        name="native",
        claims=_claims,
        routes=(*routes, spec),
        render=render,
        render_error=render_error,
        authenticators=(BearerToken(registry), HeaderToken(registry, "X-Strongroom-Token")),
        path=auth_path_router("/api/v1/", auth_mounts),
    )
