"""The app factory: one composition root for the server."""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from strongroom.config import ServerSettings
from strongroom.errors import BadRequest, NotFound, StrongroomError
from strongroom.runtime import Runtime
from strongroom.server.http import error_response, json_response
from strongroom.server.native import native_routes
from strongroom.server.openapi import openapi_document

__all__ = ["create_app"]

log = logging.getLogger("strongroom.server")

# Percent-encoded '/', '\' and '.': a path segment must not hide a separator or a dot segment.
_ENCODED_SEPARATORS = (b"%2f", b"%5c", b"%2e", b"%00")


class RawPathGuard:
    """Refuses encoded separators before routing decodes them (no policy ever sees them)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope.get("raw_path") or b""
            lowered = raw.lower()
            if b"%" in lowered and any(token in lowered for token in _ENCODED_SEPARATORS):
                response = error_response(
                    BadRequest("the path must not contain encoded '/', '\\', '.' or NUL characters")
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def healthz(request: Request) -> Response:
    return json_response({"status": "ok"})


async def openapi(request: Request) -> Response:
    return json_response(openapi_document())


async def on_strongroom_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StrongroomError)
    return error_response(exc)


async def on_unexpected_error(request: Request, exc: Exception) -> Response:
    # Log the type only: an exception's text may carry data from the request.
    log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return error_response(StrongroomError("internal error; see the server log"))


async def on_not_found(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 404)
    if status == 405:
        error = BadRequest(f"method {request.method} is not allowed on this path")
        response = error_response(error)
        response.status_code = 405
        return response
    return error_response(NotFound(f"no route for {request.method} {request.url.path}"))


def create_app(settings: ServerSettings, runtime: Runtime | None = None) -> Starlette:
    runtime = runtime or Runtime.build(settings)
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/api/v1/openapi.json", openapi, methods=["GET"]),
        *native_routes(),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            StrongroomError: on_strongroom_error,
            404: on_not_found,
            405: on_not_found,
            Exception: on_unexpected_error,
        },
    )
    app.state.services = runtime
    app.add_middleware(RawPathGuard)
    return app
