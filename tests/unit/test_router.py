"""The router's index (by method, and a dict for routes without parameters) answers as one scan
of the table in order would: the first route of the method that matches, fast routes first; 405
when only another method matches; 404 when nothing does."""

from __future__ import annotations

from pathlib import Path

from strongroom.config import ServerSettings
from strongroom.server.app import create_app
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


def _scan(router: Router, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
    """The reference: every route of the method in table order, the first that matches."""
    method = "GET" if method == "HEAD" else method
    exact = router._exact.get((method, path))
    if exact is not None:
        return exact, {}
    for entry in router._by_method.get(method, ()):
        found = entry.pattern.match(path)
        if found is not None:
            params = found.groupdict()
            if not entry.as_text:
                params = {k: entry.convertors[k].convert(v) for k, v in params.items()}
            return entry.route, params
    return None, {}


def _paths(routes: list[Route]) -> list[str]:
    """Every route's path with sample values, and the near misses around it."""
    odd = ["", "/", "//", "/v1", "/v1/", "/v1//", "v1/sys/mounts/x", "/v1/sys", "/v1/sys/"]
    out = set(odd)
    for route in routes:
        filled = route.path
        for sample in ("secret", "a/b", "sys", "x"):
            path = filled
            while "{" in path:
                start, end = path.index("{"), path.index("}")
                path = path[:start] + sample + path[end + 1 :]
            out |= {path, path + "/", path.rstrip("/") + "/extra", path.replace("/v1/", "/v2/")}
    return sorted(out)


def test_the_index_by_head_finds_what_a_scan_of_the_table_finds(tmp_path: Path) -> None:
    settings = ServerSettings(tmp_path / "data", dev=True, root_token="root")
    app = create_app(settings)
    try:
        for surface in app.surfaces:
            router = surface.router
            routes = [e.route for entries in router._by_method.values() for e in entries]
            routes += list(router._exact.values())
            methods = {r.method for r in routes} | {"HEAD", "OPTIONS"}
            for method in sorted(methods):
                for path in _paths(routes):
                    route, params, _ = router.match(method, path)
                    assert (route, params) == _scan(router, method, path), (method, path)
    finally:
        app.node.close()
