"""uvicorn's httptools protocol with the bounds a server facing untrusted clients needs.

uvicorn bounds none of these itself: a client that opens a connection and sends nothing, or
trickles its request head a byte at a time, or sends 50,000 headers, or never finishes its body,
holds a connection (and memory) for as long as it likes. Here:

- the request head (request line and headers) must arrive within HEAD_SECONDS of the
  connection opening or of the request's first byte;
- at most MAX_HEADERS headers and MAX_HEAD_BYTES bytes of URL and headers (431 beyond);
- a body must arrive within BODY_SECONDS of its head;
- an idle keep-alive connection closes after uvicorn's ``timeout_keep_alive``.

It also accepts Vault's ``LIST`` method, which uvicorn's parser (llhttp) does not know.

A connection past a deadline gets a 408 when no answer has started, and is closed.

An answer's head is written with its body, in one write (one ``send`` system call) instead of
uvicorn's two."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

__all__ = [
    "BODY_SECONDS",
    "HEAD_SECONDS",
    "MAX_HEADERS",
    "MAX_HEAD_BYTES",
    "BoundedHttpProtocol",
    "bounded_protocol",
]

HEAD_SECONDS = 10.0
BODY_SECONDS = 30.0
MAX_HEADERS = 100
MAX_HEAD_BYTES = 64 * 1024

_ANSWERS = {
    408: b"HTTP/1.1 408 Request Timeout\r\n",
    431: b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
}


class _HeadTooLarge(Exception):
    pass


class _Held:
    """A transport that keeps what is written until ``flush`` (or ``close``, which flushes
    first); everything else is the real transport's."""

    def __init__(self, real: asyncio.Transport, parts: list[bytes] | None = None) -> None:
        self.real = real
        self.parts = parts if parts is not None else []

    def write(self, data: bytes) -> None:
        self.parts.append(data)

    def flush(self) -> None:
        if self.parts:
            data, self.parts = b"".join(self.parts), []
            if not self.real.is_closing():
                self.real.write(data)

    def close(self) -> None:
        self.flush()
        self.real.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class _OneWriteCycle(RequestResponseCycle):
    """uvicorn's request cycle, holding the head it writes for ``http.response.start`` until
    the first ``http.response.body``, and writing both at once."""

    _held: _Held | None = None

    async def send(self, message: Any) -> None:
        real = self.transport
        starting = message.get("type") == "http.response.start" and not self.response_started
        held = _Held(real) if starting else self._held
        if held is None:
            await super().send(message)
            return
        self.transport = held  # type: ignore[assignment]
        try:
            await super().send(message)
        finally:
            self.transport = real
        if starting:
            self._held = held
        else:
            self._held = None
            held.flush()


class BoundedHttpProtocol(HttpToolsProtocol):
    """A deadline is a time stamp, checked by one watchdog timer per connection, so a request
    costs two attribute writes instead of creating and cancelling a timer."""

    head_seconds = HEAD_SECONDS
    body_seconds = BODY_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._watchdog: asyncio.TimerHandle | None = None
        self._due = 0.0  # when the head or body now awaited must have arrived (0: nothing due)
        self._head_bytes = 0
        self._header_count = 0
        self._too_large = False
        self._in_head = False
        self._has_body = False
        self._listing = False  # this request arrived as LIST (see data_received)

    # -- deadlines
    def _tick(self) -> float:
        return max(0.05, min(1.0, self.head_seconds / 4, self.body_seconds / 4))

    def _watch(self) -> None:
        self._watchdog = None
        if self.transport.is_closing():
            return
        if self._due and self.loop.time() >= self._due:
            self._due = 0.0
            if self.cycle is None or not self.cycle.response_started:
                self._answer(408, "the request did not arrive in time")
            else:
                self.transport.close()
            return
        self._watchdog = self.loop.call_later(self._tick(), self._watch)

    def _answer(self, status: int, message: str) -> None:
        body = message.encode()
        self.transport.write(
            _ANSWERS[status]
            + b"content-type: text/plain; charset=utf-8\r\n"
            + b"content-length: "
            + str(len(body)).encode()
            + b"\r\nconnection: close\r\n\r\n"
            + body
        )
        self.transport.close()

    # -- connection
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._due = self.loop.time() + self.head_seconds  # a silent connection is dropped
        self._watchdog = self.loop.call_later(self._tick(), self._watch)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._in_head:
            idle = self.cycle is None or self.cycle.response_complete
            if idle and not self._due:  # the first bytes of the next request, kept alive
                self._due = self.loop.time() + self.head_seconds
            if idle and data[:5] == b"LIST ":
                # Vault's LIST verb is not one llhttp parses: the request is parsed as a GET
                # and its method set back to LIST once its head is complete.
                data = b"GET " + data[5:]
                self._listing = True
        super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        if self._too_large:
            self._answer(431, f"at most {MAX_HEADERS} headers and {MAX_HEAD_BYTES} bytes of head")
            return
        super().send_400_response(msg)

    # -- parser callbacks
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = self._header_count = 0
        self._in_head = True
        self._has_body = False
        if not self._due:
            self._due = self.loop.time() + self.head_seconds

    def on_url(self, url: bytes) -> None:
        self._head_bytes += len(url)
        if self._head_bytes > MAX_HEAD_BYTES:
            self._refuse()
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_bytes += len(name) + len(value)
        self._header_count += 1
        if self._head_bytes > MAX_HEAD_BYTES or self._header_count > MAX_HEADERS:
            self._refuse()
        if len(name) in (14, 17) and name.lower() in (b"content-length", b"transfer-encoding"):
            self._has_body = True
        super().on_header(name, value)

    def _refuse(self) -> None:
        self._too_large = True
        raise _HeadTooLarge()  # httptools turns it into a parser error: send_400_response

    def on_headers_complete(self) -> None:
        self._in_head = False
        # The body (if any) must follow in time; a request without one has nothing due.
        self._due = self.loop.time() + self.body_seconds if self._has_body else 0.0
        listing, self._listing = self._listing, False
        super().on_headers_complete()
        if listing:  # the cycle shares this scope and has not started yet
            self.scope["method"] = "LIST"
        if type(self.cycle) is RequestResponseCycle:
            # Made just now by uvicorn, its task not yet run: it sends through the subclass.
            self.cycle.__class__ = _OneWriteCycle

    def on_message_complete(self) -> None:
        self._due = 0.0
        super().on_message_complete()


def bounded_protocol(head_seconds: float, body_seconds: float) -> type[BoundedHttpProtocol]:
    """The protocol class with these deadlines (uvicorn takes a class, not an instance)."""
    return type(
        "BoundedHttpProtocol",
        (BoundedHttpProtocol,),
        {"head_seconds": head_seconds, "body_seconds": body_seconds},
    )
