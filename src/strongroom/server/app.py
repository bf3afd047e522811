"""The app factory: one composition root for the server."""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from strongroom.config import ServerSettings
from strongroom.errors import BadRequest, NotFound, StrongroomError
from strongroom.runtime import Runtime
from strongroom.server.fastpath import FastReads, path_of
from strongroom.server.http import error_response, json_response
from strongroom.server.native import native_routes
from strongroom.server.openapi import openapi_document

__all__ = ["create_app"]

log = logging.getLogger("strongroom.server")


async def healthz(request: Request) -> Response:
    return json_response({"status": "ok"})


async def openapi(request: Request) -> Response:
    return json_response(openapi_document())


async def on_strongroom_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StrongroomError)
    return error_response(exc)


async def on_unexpected_error(request: Request, exc: Exception) -> Response:
    # Log the type only: an exception's text may carry data from the request.
    log.error("unexpected %s on %s %s", type(exc).__name__, request.method, path_of(request.scope))
    return error_response(StrongroomError("internal error; see the server log"))


async def on_not_found(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 404)
    if status == 405:
        error = BadRequest(f"method {request.method} is not allowed on this path")
        response = error_response(error)
        response.status_code = 405
        return response
    return error_response(NotFound(f"no route for {request.method} {request.url.path}"))


def create_app(settings: ServerSettings, runtime: Runtime | None = None) -> FastReads:
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
    return FastReads(app, runtime)
