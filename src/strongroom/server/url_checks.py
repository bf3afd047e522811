"""The URL checks every request passes before routing: no encoded separator or dot segment,
and valid UTF-8 once percent-decoded (two raw paths must never alias one secret)."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.types import Scope

from strongroom.errors import BadRequest, StrongroomError

__all__ = ["url_error"]

# Percent-encoded '/', '\', '.' and NUL: a segment must not hide a separator or a dot segment.
_ENCODED_SEPARATORS = (b"%2f", b"%5c", b"%2e", b"%00")


def url_error(scope: Scope) -> StrongroomError | None:
    raw_path: bytes = scope.get("raw_path") or b""
    query: bytes = scope.get("query_string", b"")
    if raw_path.isascii() and b"%" not in raw_path and (not query or b"%" not in query):
        return None if query.isascii() else _url_error_slow(raw_path, query)
    return _url_error_slow(raw_path, query)


def _url_error_slow(raw_path: bytes, query: bytes) -> StrongroomError | None:
    if b"%" in raw_path and any(t in raw_path.lower() for t in _ENCODED_SEPARATORS):
        return BadRequest("the path must not contain encoded '/', '\\', '.' or NUL characters")
    for raw in (raw_path, query):
        if b"%" in raw or not raw.isascii():
            try:
                unquote_to_bytes(raw).decode("utf-8")
            except UnicodeDecodeError:
                # Decoded with replacement characters, two raw paths would alias one secret.
                return BadRequest(
                    "the URL is not valid UTF-8 once percent-decoded; encode it as UTF-8"
                )
    return None
