"""The web console's surface: ``/ui/`` and its assets, shipped in the package and served from
memory. The page is a client of the same APIs as any other (the native API, and the Vault API
for what only it has): every action it offers passes the front door, the policies and the audit
log as a request from the CLI would. It holds its token in memory only and sends it in a header;
the server sets no cookie and reads none, so a forged cross-site request carries no authority."""

from __future__ import annotations

from importlib import resources
from typing import Any

from strongroom.errors import NotFound, StrongroomError
from strongroom.server.native.render import render_error as native_error
from strongroom.server.routes import Answer, Call, Handler, Route
from strongroom.server.surface import Rendered, Surface

__all__ = ["CONSOLE_HEADERS", "console_surface"]

# The page runs only its own scripts and styles, talks only to its origin, and is never framed.
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
CONSOLE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", _CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), clipboard-read=()"),
    (b"cache-control", b"no-store"),
)
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


def _load_assets() -> dict[str, tuple[bytes, str]]:
    """Every file under assets/, by its path below /ui/, read once."""
    found: dict[str, tuple[bytes, str]] = {}
    pending: list[tuple[str, Any]] = [("", resources.files(__package__).joinpath("assets"))]
    while pending:
        prefix, folder = pending.pop()
        for item in folder.iterdir():
            if item.is_dir():
                pending.append((f"{prefix}{item.name}/", item))
                continue
            suffix = item.name[item.name.rfind(".") :]
            if suffix in _TYPES:
                found[prefix + item.name] = (item.read_bytes(), _TYPES[suffix])
    return found


def console_surface() -> Surface:
    assets = _load_assets()

    def asset(call: Call) -> Answer:
        name = call.params.get("asset", "") or "index.html"
        found = assets.get(name)
        if found is None:
            raise NotFound(f"no console file {name!r}")
        return Answer(raw=found[0], media_type=found[1])

    def to_console(call: Call) -> Answer:
        return Answer(status=302, raw=b"", headers=(("location", "/ui/"),))

    def render(answer: Answer) -> Rendered:
        extra = tuple((k.encode(), v.encode()) for k, v in answer.headers)
        content_type = (b"content-type", answer.media_type.encode())
        return Rendered(answer.status, answer.raw or b"", (content_type, *CONSOLE_HEADERS, *extra))

    def render_error(exc: StrongroomError, request_id: str) -> Rendered:
        rendered = native_error(exc, request_id)
        kept = tuple(h for h in rendered.headers if h[0] != b"cache-control")
        return Rendered(rendered.status, rendered.body, (*kept, *CONSOLE_HEADERS))

    routes = (
        _page("/", to_console, "consoleRedirect", "To the web console"),
        _page("/ui", to_console, "consoleRedirect", "To the web console"),
        _page("/ui/", asset, "console", "The web console"),
        _page("/ui/{asset:path}", asset, "consoleAsset", "The console's files"),
    )
    return Surface(
        name="console",
        claims=_claims,
        routes=routes,
        render=render,
        render_error=render_error,
    )


def _page(path: str, handler: Handler, operation: str, summary: str) -> Route:
    """Static files: open, unaudited (they hold nothing), served while sealed, from memory."""
    return Route(
        "GET",
        path,
        handler,
        operation,
        summary,
        public=True,
        open_while_sealed=True,
        audited=False,
        fast=True,
    )


def _claims(scope: Any) -> bool:
    path: str = scope["path"]
    if path == "/":
        return bool(scope["method"] in ("GET", "HEAD"))
    return path == "/ui" or path.startswith("/ui/")
