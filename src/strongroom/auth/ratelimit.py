"""Per-client-address token buckets for requests that carry no valid credentials."""

from __future__ import annotations

import threading

from strongroom.clock import Clock
from strongroom.errors import RateLimited

__all__ = ["AddressLimiter"]

_MAX_ADDRESSES = 100_000


class AddressLimiter:
    def __init__(self, clock: Clock, *, rate: float = 10.0, burst: float = 50.0) -> None:
        self._clock = clock
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}  # address -> (tokens, last time)
        self._lock = threading.Lock()

    def hit(self, address: str) -> None:
        """Spend one request of ``address``'s budget, or raise RateLimited (429)."""
        now = self._clock.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(address, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[address] = (tokens, now)
                error = RateLimited("too many unauthenticated requests from this address")
                error.details["retry_after"] = int((1.0 - tokens) / self.rate) + 1
                raise error
            if len(self._buckets) >= _MAX_ADDRESSES:
                self._buckets.clear()
            self._buckets[address] = (tokens - 1.0, now)
