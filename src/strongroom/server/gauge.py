"""How many requests this process is serving, so background work in worker threads can give
the GIL away while requests wait for it, and only then.

CPU-bound Python in a worker thread (a rewrap batch) starves the event loop: CPython hands the
GIL to a waiting thread only after a switch interval, and not at all while the busy thread keeps
releasing and retaking it for short system calls. A pause of a fraction of a millisecond every
half millisecond of work lets waiting requests run; pausing when nobody waits only costs time."""

from __future__ import annotations

import threading
import time

__all__ = ["RequestGauge"]

_PAUSE = 0.0002  # long enough for a waiting thread to be scheduled and take the GIL
_MAX_WAIT = 0.005  # background work still progresses under a steady stream of requests


class RequestGauge:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight = 0

    def enter(self) -> None:
        with self._lock:
            self._in_flight += 1

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def pause_if_busy(self) -> None:
        """Called by background work between slices: while other requests are in flight (``1``
        is the request running the work), step aside, for at most ``_MAX_WAIT``."""
        # Always a short pause: the event loop may be waiting for the GIL to read a request
        # that the gauge cannot see yet.
        time.sleep(_PAUSE)
        deadline = time.monotonic() + _MAX_WAIT
        while self._in_flight > 1 and time.monotonic() < deadline:
            time.sleep(_PAUSE)
