"""A bounded line for password hashing: each Argon2id check takes 64 MiB and ~0.2 s of a core,
so unauthenticated callers must not be able to start as many as they like.

At most ``running`` hashes run at once (one per core) and ``waiting`` more wait their turn; a
check beyond that is refused at once with 429, before any hashing work. Memory for hashing is
bounded by running x 64 MiB, and threads by running + waiting."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from strongroom.errors import RateLimited

__all__ = ["HASHES_RUNNING", "HASHES_WAITING", "HashQueue"]

HASHES_RUNNING = 2
HASHES_WAITING = 8
_T = TypeVar("_T")


class HashQueue:
    def __init__(self, running: int = HASHES_RUNNING, waiting: int = HASHES_WAITING) -> None:
        self._places = threading.BoundedSemaphore(running + waiting)
        self._running = threading.BoundedSemaphore(running)

    def run(self, work: Callable[[], _T]) -> _T:
        if not self._places.acquire(blocking=False):
            error = RateLimited("too many password checks in progress; retry in a second")
            error.details["retry_after"] = 1
            raise error
        try:
            with self._running:
                return work()
        finally:
            self._places.release()
