"""Decoded secret versions kept for a short while, keyed by their sealed envelope: reading the
same version again skips unwrapping its data key and decrypting it. The key is the envelope the
store returned for this read, after this request's access checks: a cached plaintext is only
ever given for the version the store just named, and a destroyed or rewritten version (another
envelope, or none) is never served from here. Bounded in bytes and in time (a destroyed
version's plaintext leaves memory within ``TTL_SECONDS`` on every node); values over
``MAX_VALUE_BYTES`` are not kept."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["MAX_CACHE_BYTES", "MAX_VALUE_BYTES", "TTL_SECONDS", "PlaintextCache"]

MAX_CACHE_BYTES = 32 * 1024 * 1024
MAX_VALUE_BYTES = 64 * 1024
TTL_SECONDS = 60.0


class PlaintextCache:
    def __init__(
        self,
        max_bytes: int = MAX_CACHE_BYTES,
        ttl: float = TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_bytes, self._ttl, self._clock = max_bytes, ttl, clock
        self._entries: OrderedDict[bytes, tuple[bytes, float]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, envelope: bytes) -> bytes | None:
        with self._lock:
            found = self._entries.get(envelope)
            if found is None:
                return None
            plaintext, expires = found
            if self._clock() >= expires:
                self._drop(envelope)
                return None
            self._entries.move_to_end(envelope)
            return plaintext

    def put(self, envelope: bytes, plaintext: bytes) -> None:
        size = len(envelope) + len(plaintext)
        if len(plaintext) > MAX_VALUE_BYTES or size > self._max_bytes:
            return
        with self._lock:
            if envelope in self._entries:
                self._drop(envelope)
            self._entries[envelope] = (plaintext, self._clock() + self._ttl)
            self._bytes += size
            while self._bytes > self._max_bytes:
                self._drop(next(iter(self._entries)))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _drop(self, envelope: bytes) -> None:
        plaintext, _ = self._entries.pop(envelope)
        self._bytes -= len(envelope) + len(plaintext)

    def __len__(self) -> int:
        return len(self._entries)
