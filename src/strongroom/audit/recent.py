"""The last entries each sink took, as written (HMAC'd), for the console's live view. Kept in
memory on the node that wrote them: a bounded ring per sink, numbered so a reader can ask only
for what it has not seen."""

from __future__ import annotations

import threading
from collections import deque

__all__ = ["RECENT_ENTRIES", "Recent", "RecentEntries"]

# (numbered entries, oldest first; the highest number given out so far)
Recent = tuple[list[tuple[int, object]], int]

RECENT_ENTRIES = 500  # per sink; older entries are in the log itself


class RecentEntries:
    def __init__(self, size: int = RECENT_ENTRIES) -> None:
        self._size = size
        self._rings: dict[str, deque[tuple[int, object]]] = {}
        self._seq = 0
        self._lock = threading.Lock()

    def add(self, sink: str, entries: list[object]) -> None:
        with self._lock:
            ring = self._rings.get(sink)
            if ring is None:
                ring = self._rings[sink] = deque(maxlen=self._size)
            for entry in entries:
                self._seq += 1
                ring.append((self._seq, entry))

    def forget(self, sink: str) -> None:
        with self._lock:
            self._rings.pop(sink, None)

    def after(self, sink: str, seq: int, limit: int) -> Recent:
        """Up to ``limit`` of the newest entries numbered above ``seq``, oldest first, and the
        highest number given out so far (the reader's next ``seq``)."""
        with self._lock:
            ring = self._rings.get(sink, ())
            newer = [item for item in ring if item[0] > seq]
            return newer[-limit:] if limit else [], self._seq
