"""The outermost ASGI layer: refuses requests while sealed, bounds the body, and writes the
request and response audit entries around every request, fail closed.

The request entry is written before the app runs (an unaudited request never executes); the
response is held until its entry is written, so no secret leaves without a record."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from strongroom.audit import AuditBroker
from strongroom.errors import AuditUnavailable, PayloadTooLarge, Sealed, StrongroomError
from strongroom.server.http import RESPONSE_DOC, error_response, token_from_headers
from strongroom.server.node import Node
from strongroom.types import format_time

__all__ = ["AuditLayer"]

UNAUDITED = frozenset({"/healthz"})
OPEN_WHILE_SEALED = frozenset(
    {"/healthz", "/api/v1/sys/seal-status", "/api/v1/sys/unseal", "/api/v1/sys/init"}
)
_SENSITIVE = ("token", "accessor", "body", "data")


def _new_request_id() -> str:
    raw = os.urandom(16).hex()
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


def _json_or_none(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return {"unparsed_bytes": len(raw)}


class AuditLayer:
    def __init__(self, app: ASGIApp, node: Node) -> None:
        self.app = app
        self.node = node

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.node.requests.enter()
        try:
            await self._serve(scope, receive, send)
        finally:
            self.node.requests.leave()

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] in UNAUDITED:
            await self.app(scope, receive, send)
            return
        request_id = _new_request_id()
        scope["strongroom.request_id"] = request_id
        runtime = self.node.runtime
        if runtime is None:
            if scope["path"] in OPEN_WHILE_SEALED:
                await self.app(scope, receive, send)  # nothing to audit with: the keys are sealed
            else:
                await error_response(Sealed(), request_id)(scope, receive, send)
            return
        broker = runtime.audit
        if not broker.enabled:
            await self.app(scope, receive, send)
            return
        early: PayloadTooLarge | None = None
        try:
            body = await self._read_body(receive, runtime.settings.limits.max_body_bytes)
        except PayloadTooLarge as exc:
            body, early = b"", exc
        client = scope.get("client")
        request = {
            "method": scope["method"],
            "path": scope["path"],
            "query": scope.get("query_string", b"").decode("latin-1"),
            "remote_addr": client[0] if client else "",
        }
        base = {"time": format_time(time.time()), "request_id": request_id, "request": request}
        token = token_from_headers(scope["headers"])
        entry: dict[str, Any] = {**base, "type": "request", "body": _json_or_none(body)}
        if token:
            entry["token"] = token
        # A read changes nothing, so its request entry can wait for its response and both go out
        # in one write; the answer is still held until they are written. Anything else is on
        # record before it runs.
        deferred = entry if scope["method"] == "GET" else None
        if deferred is None:
            try:
                broker.log(entry, sensitive=_SENSITIVE)
            except AuditUnavailable as exc:
                await error_response(exc, request_id)(scope, receive, send)
                return
        held: list[Message] = []
        if early is not None:
            await error_response(early, request_id)(scope, self._replay(b""), self._hold(held))
        else:
            await self.app(scope, self._replay(body), self._hold(held))
        await self._answer(scope, receive, send, base, token, held, broker, deferred)

    @staticmethod
    async def _read_body(receive: Receive, limit: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"request body is larger than {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    @staticmethod
    def _replay(body: bytes) -> Receive:
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        return receive

    @staticmethod
    def _hold(held: list[Message]) -> Send:
        async def send(message: Message) -> None:
            held.append(message)

        return send

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        base: dict[str, Any],
        token: str | None,
        held: list[Message],
        broker: AuditBroker,
        request_entry: dict[str, Any] | None,
    ) -> None:
        start = next((m for m in held if m["type"] == "http.response.start"), None)
        status = int(start["status"]) if start else 500
        raw = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
        entry: dict[str, Any] = {**base, "type": "response", "status": status}
        if token:
            entry["token"] = token
        identity = scope.get("strongroom.identity")
        if identity is not None:
            entry["auth"] = {"display_name": identity.name, "policies": list(identity.policies)}
            entry["accessor"] = identity.accessor
        # The fast read path hands over the document it encoded; anything else is parsed back.
        doc = scope.get(RESPONSE_DOC) or _json_or_none(raw)
        if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
            error = dict(doc["error"])
            entry["error"] = {"code": error.pop("code", ""), "message": error.pop("message", "")}
            if error:
                entry["data"] = error
        elif doc is not None:
            entry["data"] = doc
        entries = (entry,) if request_entry is None else (request_entry, entry)
        try:
            broker.log(*entries, sensitive=_SENSITIVE)
        except StrongroomError as exc:
            await error_response(exc, base["request_id"])(scope, receive, send)
            return
        for message in held:
            await send(message)
