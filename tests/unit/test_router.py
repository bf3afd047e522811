"""The router's index (by method, and a dict for routes without parameters) answers as one scan
of the table in order would: the first route of the method that matches, fast routes first; 405
when only another method matches; 404 when nothing does."""

from __future__ import annotations

from strongroom.server.routes import Answer, Call, Route, Router


def _handler(call: Call) -> Answer:
    return Answer()


def _route(method: str, path: str, name: str, *, fast: bool = False) -> Route:
    return Route(method, path, _handler, name, fast=fast)


def test_the_first_matching_route_of_the_method_wins() -> None:
    router = Router(
        [
            _route("GET", "/v1/{mount}/config", "mount-config"),
            _route("GET", "/v1/sys/config", "sys-config"),  # shadowed by the route above
            _route("GET", "/v1/sys/health", "health"),
            _route("GET", "/v1/{mount}/data/{path:path}", "read", fast=True),
            _route("POST", "/v1/{mount}/data/{path:path}", "write"),
        ]
    )
    assert router.match("GET", "/v1/sys/config")[0].operation == "mount-config"  # type: ignore[union-attr]
    assert router.match("GET", "/v1/sys/health")[0].operation == "health"  # type: ignore[union-attr]
    assert router.match("HEAD", "/v1/sys/health")[0].operation == "health"  # type: ignore[union-attr]
    route, params, _ = router.match("POST", "/v1/secret/data/a/b")
    assert route is not None and route.operation == "write"
    assert params == {"mount": "secret", "path": "a/b"}


def test_another_method_is_a_405_and_nothing_is_a_404() -> None:
    router = Router(
        [
            _route("GET", "/v1/sys/health", "health"),
            _route("GET", "/v1/{mount}/data/{path:path}", "read"),
        ]
    )
    assert router.match("POST", "/v1/sys/health") == (None, {}, True)
    assert router.match("DELETE", "/v1/secret/data/x") == (None, {}, True)
    assert router.match("GET", "/v1/sys/nothing") == (None, {}, False)
    assert router.match("GET", "/v1/sys/health/") == (None, {}, False)
