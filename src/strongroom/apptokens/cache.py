"""A bounded cache of data keys: max age, max uses per key, max entries (the oldest entry goes
first). Bounds limit how much one cached key protects and for how long it lives."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Generic, TypeVar

from strongroom.clock import Clock, SystemClock

__all__ = ["CacheLimits", "DataKeyCache", "V"]

V = TypeVar("V")


@dataclass(frozen=True)
class CacheLimits:
    max_age: float = 300.0
    max_uses: int = 4096
    max_entries: int = 1024


class _Entry(Generic[V]):
    __slots__ = ("expires", "uses_left", "value")

    def __init__(self, value: V, expires: float, uses_left: int) -> None:
        self.value = value
        self.expires = expires
        self.uses_left = uses_left


class DataKeyCache(Generic[V]):
    def __init__(self, limits: CacheLimits | None = None, clock: Clock | None = None) -> None:
        self.limits = limits or CacheLimits()
        self._clock = clock or SystemClock()
        self._entries: dict[object, _Entry[V]] = {}  # insertion order: oldest first
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DataKeyCache(entries={len(self._entries)})"

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: object) -> V | None:
        """The cached value, counting one use; None when absent, too old or used up (``take``
        for one use, without its tuple: the token library's hot path)."""
        now = self._clock.monotonic()
        with self._lock:
            entry = self._live(key, now)
            if entry is None:
                return None
            entry.uses_left -= 1
            return entry.value

    def take(self, key: object, wanted: int) -> tuple[V, int] | None:
        """The cached value and how many of ``wanted`` uses it grants (at least one, at most
        what it has left); None when absent, too old or used up."""
        now = self._clock.monotonic()
        with self._lock:
            entry = self._live(key, now)
            if entry is None:
                return None
            granted = min(wanted, entry.uses_left)
            entry.uses_left -= granted
            return entry.value, granted

    def _live(self, key: object, now: float) -> _Entry[V] | None:
        """The entry, if it may still be used (one too old or used up goes); under the lock."""
        entry = self._entries.get(key)
        if entry is not None and (entry.uses_left <= 0 or now >= entry.expires):
            del self._entries[key]
            return None
        return entry

    def put(self, key: object, value: V, used: int = 1) -> None:
        """Cache ``value``, which was just used ``used`` times (at most its limit)."""
        entry = _Entry(
            value, self._clock.monotonic() + self.limits.max_age, self.limits.max_uses - used
        )
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = entry
            while len(self._entries) > self.limits.max_entries:
                del self._entries[next(iter(self._entries))]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
