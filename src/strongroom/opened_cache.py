"""What decrypting some stored bytes gave, kept for a short while and keyed by exactly those
bytes: opening the same ciphertext again skips the decryption. Used for secret versions (keyed
by their sealed key) and for sealed records (keyed by kind, name and sealed bytes). The key
is what the store returned for this read, after this request's access checks, so a cached
plaintext is only ever given for the ciphertext the store just returned: a rewritten, destroyed
or forged one (other bytes, or none) is never answered from here. Bounded in bytes and in time
(a destroyed version's plaintext leaves memory within ``TTL_SECONDS`` on every node); values
over ``MAX_VALUE_BYTES`` are not kept."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

__all__ = ["MAX_CACHE_BYTES", "MAX_VALUE_BYTES", "TTL_SECONDS", "OpenedCache"]

MAX_CACHE_BYTES = 32 * 1024 * 1024
MAX_VALUE_BYTES = 64 * 1024
TTL_SECONDS = 60.0


class OpenedCache:
    def __init__(
        self,
        max_bytes: int = MAX_CACHE_BYTES,
        ttl: float = TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_bytes, self._ttl, self._clock = max_bytes, ttl, clock
        self._entries: OrderedDict[Hashable, tuple[bytes, float, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            plaintext, expires, _ = found
            if self._clock() >= expires:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return plaintext

    def put(self, key: Hashable, plaintext: bytes, key_bytes: int = 0) -> None:
        size = key_bytes + len(plaintext)
        if len(plaintext) > MAX_VALUE_BYTES or size > self._max_bytes:
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (plaintext, self._clock() + self._ttl, size)
            self._bytes += size
            while self._bytes > self._max_bytes:
                self._drop(next(iter(self._entries)))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _drop(self, key: Hashable) -> None:
        _, _, size = self._entries.pop(key)
        self._bytes -= size

    def __len__(self) -> int:
        return len(self._entries)
