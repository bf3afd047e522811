"""A plain-ASGI fast path for the hottest route, secret reads, in front of the Starlette app.

It does exactly what the Starlette route does (same service call, same JSON, same errors), minus
the middleware stack and router, which cost more than the read itself. Everything else, and any
request this module does not recognise, goes to the Starlette app."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from starlette.types import Receive, Scope, Send

from strongroom.errors import BadRequest, StrongroomError
from strongroom.server.http import (
    OPERATION,
    RESPONSE_DOC,
    authenticate_scope,
    error_response,
    needs_token,
    parse_query_int,
    request_id_of,
)
from strongroom.server.node import Node

__all__ = [
    "FastReads",
    "has_encoded_separator",
    "path_of",
    "read_secret_body",
]

log = logging.getLogger("strongroom.server")

_PREFIX = "/api/v1/secrets/"
_READ_TEMPLATE = "/api/v1/secrets/{namespace}/{path:path}"  # as the Starlette route names it
# Percent-encoded '/', '\', '.' and NUL: a segment must not hide a separator or a dot segment.
_ENCODED_SEPARATORS = (b"%2f", b"%5c", b"%2e", b"%00")


def is_valid_utf8(raw: bytes) -> bool:
    """Whether percent-decoded ``raw`` is valid UTF-8: otherwise the server would decode it into
    U+FFFD and two different raw paths would alias one secret."""
    if b"%" not in raw and raw.isascii():
        return True  # the common case, without decoding
    try:
        unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def has_encoded_separator(raw_path: bytes) -> bool:
    if b"%" not in raw_path:
        return False
    lowered = raw_path.lower()
    return any(token in lowered for token in _ENCODED_SEPARATORS)


def path_of(scope: Scope) -> str:
    """The route prefix of a request, for logs: never the secret path itself."""
    path: str = scope.get("path", "")
    return "/".join(path.split("/")[:4])


def read_secret_body(node: Node, scope: Scope, namespace: str, path: str) -> bytes:
    """The JSON of a secret read: the one implementation behind both routes to it."""
    identity = authenticate_scope(node, scope)
    runtime = node.require_runtime()
    query = scope["query_string"]
    stage = _stage(query) if b"stage=" in query else None
    if stage is not None:
        value = runtime.secrets.get_stage(identity, namespace, path, stage)
    else:
        value = runtime.secrets.get(identity, namespace, path, version=_version(query))
    doc = value.to_json()
    scope[RESPONSE_DOC] = doc  # the audit layer logs it without parsing the body back
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def _version(query: bytes) -> int | None:
    if not query:
        return None
    for name, value in parse_qsl(query.decode("latin-1")):
        if name == "version" and value:
            return parse_query_int(value, "version")
    return None


def _stage(query: bytes) -> str | None:
    for name, value in parse_qsl(query.decode("latin-1")):
        if name == "stage" and value:
            return value
    return None


class FastReads:
    """Wraps the Starlette app; exposes its ``state`` and ``routes`` for the rest of the code."""

    def __init__(self, app: Any, node: Node) -> None:
        self.app = app
        self._node = node

    @property
    def state(self) -> Any:
        return self.app.state

    @property
    def routes(self) -> Any:
        return self.app.routes

    async def _delegate(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            # Starlette has already answered 500 through our handler, and re-raises so that the
            # server can log it; uvicorn would log the message and traceback, which may carry
            # request data. Log the type only.
            log.error(
                "unexpected %s on %s %s", type(exc).__name__, scope.get("method"), path_of(scope)
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._delegate(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or b""
        if has_encoded_separator(raw_path):
            error = BadRequest("the path must not contain encoded '/', '\\', '.' or NUL characters")
            await error_response(error)(scope, receive, send)
            return
        if not is_valid_utf8(raw_path) or not is_valid_utf8(scope.get("query_string", b"")):
            error = BadRequest(
                "the URL is not valid UTF-8 once percent-decoded; encode it as UTF-8"
            )
            await error_response(error)(scope, receive, send)
            return
        path: str = scope["path"]
        if scope["method"] != "GET" or not path.startswith(_PREFIX):
            if needs_token(path):
                try:
                    authenticate_scope(self._node, scope)
                except StrongroomError as exc:
                    await error_response(exc, request_id_of(scope))(scope, receive, send)
                    return
            await self._delegate(scope, receive, send)
            return
        namespace, slash, secret_path = path[len(_PREFIX) :].partition("/")
        scope[OPERATION] = _READ_TEMPLATE
        if not slash:
            await self._delegate(scope, receive, send)
            return
        try:
            body = read_secret_body(self._node, scope, namespace, secret_path)
        except StrongroomError as exc:
            response = error_response(exc, request_id_of(scope))
        except Exception as exc:  # the same rule as the app's handler: type only, no text
            log.error("unexpected %s on GET %s", type(exc).__name__, _PREFIX)
            response = error_response(
                StrongroomError("internal error; see the server log"), request_id_of(scope)
            )
        else:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"cache-control", b"no-store"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await response(scope, receive, send)
