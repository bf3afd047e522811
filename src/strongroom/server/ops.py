"""The ops surface: ``/healthz`` for load balancers (open, unaudited) and ``/metrics`` for
Prometheus (a token with ``read`` on ``sys/metrics``). Errors in the native shape."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST

from strongroom.auth.authenticators import BearerToken, HeaderToken
from strongroom.auth.tokens import TokenRegistry
from strongroom.server.native.render import render, render_error
from strongroom.server.routes import Answer, Call, Route
from strongroom.server.surface import Surface

__all__ = ["healthz", "metrics_handler", "ops_surface"]


def healthz(call: Call) -> Answer:
    """From the node's memory alone, on the event loop: it answers at once, loaded or not."""
    health = call.seal.health()
    if not health.initialized:
        return Answer({"status": "uninitialized", "sealed": True}, status=501)
    if health.sealed:
        return Answer({"status": "sealed", "sealed": True}, status=503)
    if not health.serving:
        return Answer({"status": "reconnecting to the database", "sealed": False}, status=503)
    return Answer({"status": "ok", "sealed": False})


def metrics_handler(render_metrics: Callable[[], bytes]) -> Callable[[Call], Answer]:
    def metrics(call: Call) -> Answer:
        call.identity.require("read", "sys/metrics")
        return Answer(raw=render_metrics(), media_type=CONTENT_TYPE_LATEST)

    return metrics


def ops_surface(
    registry: Callable[[], TokenRegistry], render_metrics: Callable[[], bytes]
) -> Surface:
    routes = (
        Route(
            "GET",
            "/healthz",
            healthz,
            "healthz",
            "Health for load balancers",
            public=True,
            open_while_sealed=True,
            audited=False,
            fast=True,
        ),
        Route("GET", "/metrics", metrics_handler(render_metrics), "metrics", "Prometheus metrics"),
    )
    paths = frozenset(
        route.path for route in routes
    )  # its own table's paths, not a list of its own
    return Surface(
        name="ops",
        claims=lambda scope: scope["path"] in paths,
        routes=routes,
        render=render,
        render_error=render_error,
        authenticators=(BearerToken(registry), HeaderToken(registry, "X-Strongroom-Token")),
    )
