"""Reading a request's body for the front door: whole, bounded in size, and, before its
signature is checked, bounded in how many are read at once."""

from __future__ import annotations

from starlette.types import Receive

from strongroom.errors import PayloadTooLarge, RateLimited

__all__ = ["MAX_UNVERIFIED_BODIES", "UnverifiedBodies", "read_body"]

# Bodies read at once before their signature is checked (SigV4): 64 MiB at most at the default
# body limit; one more is told to retry.
MAX_UNVERIFIED_BODIES = 64


async def read_body(receive: Receive, limit: int) -> bytes | None:
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


class UnverifiedBodies:
    """Bodies read before their signature is checked: at most MAX_UNVERIFIED_BODIES at once
    (each within the body limit and the protocol's body timeout), so many connections cannot
    make the server hold many bodies nobody has proved the right to send. One more is told to
    retry at once (a counter on the event loop: no lock, no wait)."""

    def __init__(self) -> None:
        self._reading = 0

    async def read(self, receive: Receive, limit: int) -> bytes | None:
        if self._reading >= MAX_UNVERIFIED_BODIES:
            raise RateLimited(
                "too many request bodies are waiting for their signature to be checked; retry"
            )
        self._reading += 1
        try:
            return await read_body(receive, limit)
        finally:
            self._reading -= 1
