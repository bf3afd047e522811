"""The app factory: one composition root for the server."""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from strongroom.config import ServerSettings
from strongroom.errors import BadRequest, NotFound, StrongroomError
from strongroom.server.audit_layer import AuditLayer
from strongroom.server.auth_routes import auth_routes
from strongroom.server.fastpath import FastReads, path_of
from strongroom.server.http import error_response, json_response, request_id_of
from strongroom.server.native import native_routes
from strongroom.server.node import Node
from strongroom.server.openapi import openapi_document
from strongroom.server.rotation_routes import rotation_routes
from strongroom.server.sys_routes import sys_routes

__all__ = ["ServerApp", "create_app"]

log = logging.getLogger("strongroom.server")


async def healthz(request: Request) -> Response:
    status = request.app.state.node.status()
    if not status.initialized:
        return json_response({"status": "uninitialized", "sealed": True}, 501)
    if status.sealed:
        return json_response({"status": "sealed", "sealed": True}, 503)
    return json_response({"status": "ok", "sealed": False})


async def openapi(request: Request) -> Response:
    return json_response(openapi_document())


async def on_strongroom_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StrongroomError)
    return error_response(exc, request_id_of(request.scope))


async def on_unexpected_error(request: Request, exc: Exception) -> Response:
    # Log the type only: an exception's text may carry data from the request.
    log.error("unexpected %s on %s %s", type(exc).__name__, request.method, path_of(request.scope))
    error = StrongroomError("internal error; see the server log")
    return error_response(error, request_id_of(request.scope))


async def on_not_found(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 404)
    if status == 405:
        error = BadRequest(f"method {request.method} is not allowed on this path")
        response = error_response(error, request_id_of(request.scope))
        response.status_code = 405
        return response
    error_404 = NotFound(f"no route for {request.method} {request.url.path}")
    return error_response(error_404, request_id_of(request.scope))


class ServerApp(AuditLayer):
    """The ASGI app: audit layer → fast read path → Starlette routes."""

    @property
    def state(self) -> object:
        return self.node_app.state

    @property
    def routes(self) -> object:
        return self.node_app.routes

    def __init__(self, starlette: Starlette, node: Node) -> None:
        self.node_app = starlette
        super().__init__(FastReads(starlette, node), node)


def create_app(settings: ServerSettings, node: Node | None = None) -> ServerApp:
    node = node or Node(settings)
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/api/v1/openapi.json", openapi, methods=["GET"]),
        *native_routes(),
        *auth_routes(),
        *sys_routes(),
        *rotation_routes(),
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
    app.state.node = node
    return ServerApp(app, node)
