"""The outermost ASGI layer: refuses requests while sealed, bounds the body, authenticates or
rate-limits the caller, and writes the request and response audit entries around every request,
fail closed.

The request entry is written before the app runs (an unaudited request never executes); the
response is held until its entry is written, so no secret leaves without a record.

What an unauthenticated caller can make the server do is bounded: the caller is authenticated
(or, on the few public paths, charged against its address's budget) before anything parses or
audits its body; the body of an unauthenticated or refused request, and any body over
AUDITED_BODY_BYTES, is audited only as its size and one HMAC of its bytes; a body of some size
is parsed and HMAC'd on a worker thread, not on the event loop."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from strongroom.audit import AuditBroker
from strongroom.errors import (
    AuditUnavailable,
    BadRequest,
    PayloadTooLarge,
    Sealed,
    StrongroomError,
)
from strongroom.jsondata import check_json
from strongroom.server.http import (
    OPERATION,
    RESPONSE_DOC,
    authenticate_scope,
    client_address,
    error_response,
    needs_token,
    token_from_headers,
)
from strongroom.server.node import Node
from strongroom.types import format_time

__all__ = ["AUDITED_BODY_BYTES", "AuditLayer"]

log = logging.getLogger("strongroom.server")

AUDITED_BODY_BYTES = 64 * 1024  # a larger body is audited as its size and HMAC
_INLINE_BYTES = 4 * 1024  # a smaller body is parsed and HMAC'd on the event loop (cheaper)
RESPONSE_METADATA = "metadata"  # the version metadata of a secret read (never secret data)

UNAUDITED = frozenset({"/healthz"})
OPEN_WHILE_SEALED = frozenset(
    {"/healthz", "/api/v1/sys/seal-status", "/api/v1/sys/unseal", "/api/v1/sys/init"}
)
_SENSITIVE = ("token", "accessor", "body", "data")


def _new_request_id() -> str:
    raw = os.urandom(16).hex()
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


def _opaque(raw: bytes) -> str:
    """The whole body as one string leaf, which each sink HMACs: its size and digest, never its
    content (a SHA-256 of a short password would be guessable; a keyed HMAC is not)."""
    return raw.decode("latin-1")


def _audited_form(raw: bytes, trusted: bool, depth_limit: int) -> tuple[Any, int]:
    """What the audit entry carries for a body, and its size. Only an authenticated caller's
    well-formed body of a bounded size is parsed (every leaf is then HMAC'd)."""
    if not raw:
        return None, 0
    if not trusted or len(raw) > AUDITED_BODY_BYTES:
        return _opaque(raw), len(raw)
    try:
        doc = json.loads(raw)
        check_json(doc, depth_limit)
    except (ValueError, RecursionError, BadRequest):
        return _opaque(raw), len(raw)
    return doc, len(raw)


def _operation_of(scope: Scope) -> tuple[str, str]:
    """The surface and the operation (method and route template) a request went to: labels of
    bounded number, never the path a caller sent."""
    path: str = scope["path"]
    surface = "native" if path.startswith("/api/") else "ops"
    route = scope.get("route")
    template = getattr(route, "path", None) or scope.get(OPERATION)
    return surface, f"{scope['method']} {template}" if template else "unmatched"


class AuditLayer:
    def __init__(self, app: ASGIApp, node: Node) -> None:
        self.app = app
        self.node = node

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.node.requests.enter()
        if self.node.proxies:
            self.node.proxies.apply(scope)
        started = time.perf_counter()
        status = [500]

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self._serve(scope, receive, counted)
        except Exception as exc:
            # Nothing a caller sends may reach the log as a traceback (it may quote the request):
            # the type only, and a JSON 500 unless an answer has started (then send refuses).
            log.error("unexpected %s in the audit layer", type(exc).__name__)
            error = StrongroomError("internal error; see the server log")
            with contextlib.suppress(Exception):
                await error_response(error, scope.get("strongroom.request_id"))(
                    scope, receive, send
                )
        finally:
            self.node.requests.leave()
            surface, operation = _operation_of(scope)
            self.node.metrics.observe(surface, operation, status[0], time.perf_counter() - started)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] in UNAUDITED:
            await self.app(scope, receive, send)
            return
        request_id = _new_request_id()
        scope["strongroom.request_id"] = request_id
        runtime = self.node.runtime
        if runtime is None:
            if scope["path"] in OPEN_WHILE_SEALED:
                try:
                    self.node.limiter.hit(client_address(scope))
                except StrongroomError as exc:
                    await error_response(exc, request_id)(scope, receive, send)
                    return
                await self.app(scope, receive, send)  # nothing to audit with: the keys are sealed
            else:
                error = Sealed()
                if not self.node.status().initialized:
                    error = Sealed("the server is not initialized; run: strongroom operator init")
                await error_response(error, request_id)(scope, receive, send)
            return
        # Who is asking, before anything reads, parses or audits what they sent.
        refused = self._gate(scope)
        broker = runtime.audit
        if not broker.enabled:
            if refused is not None:
                await error_response(refused, request_id)(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        early: StrongroomError | None = refused
        body = b""
        if early is None:
            try:
                read = await self._read_body(receive, runtime.settings.limits.max_body_bytes)
            except PayloadTooLarge as exc:
                early = exc
            else:
                if read is None:
                    return  # the client went away mid-body: a cut body is never acted on
                body = read
        request = {
            "method": scope["method"],
            "path": scope["path"],
            "query": scope.get("query_string", b"").decode("latin-1"),
            "remote_addr": client_address(scope),
        }
        base = {"time": format_time(time.time()), "request_id": request_id, "request": request}
        token = token_from_headers(scope["headers"])
        trusted = early is None and "strongroom.identity" in scope
        form, size = _audited_form(body, trusted, runtime.settings.limits.max_json_depth + 2)
        entry: dict[str, Any] = {**base, "type": "request", "body": form}
        if size:
            entry["body_size"] = size
        if token:
            entry["token"] = token
        # A read changes nothing, so its request entry can wait for its response and both go out
        # in one write; the answer is still held until they are written. Anything else is on
        # record before it runs.
        deferred = entry if scope["method"] == "GET" else None
        if deferred is None:
            try:
                if size > _INLINE_BYTES:
                    await run_in_threadpool(broker.log, entry, sensitive=_SENSITIVE)
                else:
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

    def _gate(self, scope: Scope) -> StrongroomError | None:
        """Authenticate a request that needs a token (a failure spends the address's budget of
        unauthenticated requests); charge one that does not against that budget. The error to
        answer with, or None."""
        try:
            if needs_token(scope["path"]):
                authenticate_scope(self.node, scope)
            else:
                self.node.limiter.hit(client_address(scope))
        except StrongroomError as exc:
            return exc
        return None

    @staticmethod
    async def _read_body(receive: Receive, limit: int) -> bytes | None:
        """The whole body, or None when the client disconnected before sending all of it."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
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
        doc = scope.get(RESPONSE_DOC)
        if doc is None and raw:
            doc, size = _audited_form(raw, True, 64)
            if size > AUDITED_BODY_BYTES:
                entry["data_size"] = size
        if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
            error = dict(doc["error"])
            entry["error"] = {"code": error.pop("code", ""), "message": error.pop("message", "")}
            if error:
                entry["data"] = error
        elif isinstance(doc, dict) and RESPONSE_METADATA in doc and RESPONSE_DOC in scope:
            # A secret read: its version metadata (number, times, state) is system metadata,
            # audited in clear beside the HMAC'd data, as Vault's non-HMAC response keys.
            entry["data"] = {k: v for k, v in doc.items() if k != RESPONSE_METADATA}
            entry["response_metadata"] = doc[RESPONSE_METADATA]
        elif doc is not None:
            entry["data"] = doc
        entries = (entry,) if request_entry is None else (request_entry, entry)
        try:
            if len(raw) > _INLINE_BYTES:
                await run_in_threadpool(broker.log, *entries, sensitive=_SENSITIVE)
            else:
                broker.log(*entries, sensitive=_SENSITIVE)
        except StrongroomError as exc:
            await error_response(exc, base["request_id"])(scope, receive, send)
            return
        for message in held:
            await send(message)
