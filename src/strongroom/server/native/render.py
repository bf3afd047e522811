"""The native surface's wire shapes: compact JSON answers and the one error shape
``{"error": {"code", "message"}, "request_id"}``."""

from __future__ import annotations

from typing import Any

from strongroom.errors import StrongroomError
from strongroom.server.json_out import encode_json
from strongroom.server.routes import Answer
from strongroom.server.surface import Rendered

__all__ = ["ERROR_SCHEMA", "render", "render_error"]

# Answers carry secrets and tokens: no browser, proxy or CDN may keep a copy.
_NO_STORE = (b"cache-control", b"no-store")
_JSON = (b"content-type", b"application/json")


_encode = encode_json


_JSON_HEADERS = (_JSON, _NO_STORE)


def render(answer: Answer) -> Rendered:
    if answer.raw is None and answer.status != 204 and not answer.headers:
        return Rendered(answer.status, _encode(answer.doc), _JSON_HEADERS)  # the common case
    extra = answer.header_pairs()
    if answer.raw is not None:
        content_type = (b"content-type", answer.media_type.encode())
        return Rendered(answer.status, answer.raw, (content_type, _NO_STORE, *extra))
    if answer.status == 204:
        return Rendered(204, b"", (_NO_STORE, *extra))
    return Rendered(answer.status, _encode(answer.doc), (_JSON, _NO_STORE, *extra))


def render_error(exc: StrongroomError, request_id: str) -> Rendered:
    error: dict[str, Any] = {"code": exc.code, "message": exc.message, **exc.details}
    body = _encode({"error": error, "request_id": request_id})
    headers: tuple[tuple[bytes, bytes], ...] = (_JSON, _NO_STORE)
    if exc.http_status == 401:
        headers += ((b"www-authenticate", b'Bearer realm="strongroom"'),)
    return Rendered(exc.http_status, body, headers)


ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        },
        "request_id": {"type": "string"},
    },
}
