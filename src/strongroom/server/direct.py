"""An entry that is not HTTP (a gRPC server, a queue consumer, an embedding program): one request
through every step of the front door without a socket. The seal gate, authentication and the
address's budget, URL checks, the audit trail (fail closed), the route's handler on its thread
and the request metrics are the front door's own (server/front.py); this module only makes the
ASGI exchange in memory. The caller names the peer it serves (``client``): the address that
rate limits and audit entries see, never a value a remote party chose."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

__all__ = ["DirectAnswer", "DirectRequest", "call"]

_App = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]


@dataclass(frozen=True)
class DirectRequest:
    method: str  # LIST included, as Vault's clients send it
    path: str  # as on the wire: percent-encoded, no query
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = field(default=b"", repr=False)
    query: str = ""
    client: tuple[str, int] = ("127.0.0.1", 0)
    scheme: str = "http"


@dataclass(frozen=True)
class DirectAnswer:
    status: int
    headers: dict[str, str]
    body: bytes = field(repr=False)

    def json(self) -> Any:
        return json.loads(self.body)


async def call(app: _App, request: DirectRequest) -> DirectAnswer:
    """``request`` answered by ``app`` (a ``Front``), as an HTTP client would have it."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": request.method.upper(),
        "scheme": request.scheme,
        "path": unquote(request.path),
        "raw_path": request.path.encode("latin-1"),
        "query_string": request.query.encode("latin-1"),
        "root_path": "",
        "headers": [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in request.headers
        ],
        "client": request.client,
        "server": ("direct", 0),
        "state": {},
    }
    sent_body = False

    async def receive() -> MutableMapping[str, Any]:
        nonlocal sent_body
        if sent_body:  # asked again: the exchange is over, as a client that went away
            return {"type": "http.disconnect"}
        sent_body = True
        return {"type": "http.request", "body": request.body, "more_body": False}

    status = 500
    headers: dict[str, str] = {}
    chunks: list[bytes] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
            for name, value in message.get("headers", ()):
                headers[bytes(name).decode("latin-1")] = bytes(value).decode("latin-1")
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body", b"")))

    await app(scope, receive, send)
    return DirectAnswer(status, headers, b"".join(chunks))
