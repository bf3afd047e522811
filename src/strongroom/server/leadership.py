"""This node's part in the one election the nodes hold: who runs the scheduler. One object per
node, asked under one name; the store proves the lock at each check (a PostgreSQL advisory lock
whose connection must still answer), so after a database restart a node that lost the lock
knows it at its next check, and two nodes never both believe they lead."""

from __future__ import annotations

import logging
import threading

from strongroom.store.protocol import Store

__all__ = ["LEADER_LOCK", "Leadership"]

log = logging.getLogger("strongroom.scheduler")
LEADER_LOCK = "strongroom-scheduler"


class Leadership:
    def __init__(self, store: Store, *, shared: bool) -> None:
        self._store = store
        self.shared = shared  # several nodes may share the store (PostgreSQL)
        self._held = False
        self._lock = threading.Lock()

    def check(self) -> bool:
        """Whether this node leads now: the lock proved, or taken if it is free."""
        held = self._store.try_leader(LEADER_LOCK)
        with self._lock:
            if held != self._held:
                log.info("scheduler leadership %s", "taken" if held else "lost")
            self._held = held
        return held

    @property
    def held(self) -> bool:
        """As of the last check (the scheduler checks each round)."""
        return self._held
