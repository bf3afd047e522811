"""A bounded cache of data keys: max age, max uses per key, max entries (least recently used
goes first). Bounds limit how much one cached key protects and for how long it lives."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, TypeVar

from strongroom.clock import Clock, SystemClock

__all__ = ["CacheLimits", "DataKeyCache"]

V = TypeVar("V")


@dataclass(frozen=True)
class CacheLimits:
    max_age: float = 300.0
    max_uses: int = 4096
    max_entries: int = 1024


class DataKeyCache(Generic[V]):
    def __init__(self, limits: CacheLimits | None = None, clock: Clock | None = None) -> None:
        self.limits = limits or CacheLimits()
        self._clock = clock or SystemClock()
        self._entries: OrderedDict[object, list[object]] = (
            OrderedDict()
        )  # key -> [value, born, uses]
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DataKeyCache(entries={len(self._entries)})"

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: object) -> V | None:
        """The cached value, counting one use; None when absent, too old or used up."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            value, born, uses = entry
            assert isinstance(born, float) and isinstance(uses, int)
            if (
                uses >= self.limits.max_uses
                or self._clock.monotonic() - born >= self.limits.max_age
            ):
                del self._entries[key]
                return None
            entry[2] = uses + 1
            self._entries.move_to_end(key)
            return value  # type: ignore[return-value]

    def put(self, key: object, value: V) -> None:
        with self._lock:
            self._entries[key] = [value, float(self._clock.monotonic()), 1]
            self._entries.move_to_end(key)
            while len(self._entries) > self.limits.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
