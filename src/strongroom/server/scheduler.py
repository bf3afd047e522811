"""The scheduler: a thread per node that, on the one leader node, runs due rotations, warns of
expiring values and rotates keyring terms that are too old. Any node may tick; only the holder
of the store's leader lock (a PostgreSQL advisory lock; always the one node on SQLite) acts."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from strongroom.server.leadership import LEADER_LOCK, Leadership

if TYPE_CHECKING:
    from strongroom.server.runtime import Runtime

__all__ = ["LEADER_LOCK", "Scheduler"]

log = logging.getLogger("strongroom.scheduler")
_BATCH = 10  # rotations per tick: a backlog after downtime drains without a stampede


class Scheduler:
    def __init__(self, runtime: Runtime, interval: float, leadership: Leadership) -> None:
        self._runtime = runtime
        self._leadership = leadership
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="strongroom-scheduler", daemon=True)
        self.ticks = 0

    def start(self) -> Scheduler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.tick()
            except Exception as exc:  # keep ticking; the type only (the text may hold data)
                log.error("scheduler tick failed: %s", type(exc).__name__)

    def tick(self) -> bool:
        """One round; False when another node is the leader."""
        runtime = self._runtime
        if not self._leadership.check():
            return False
        self.ticks += 1
        for result in runtime.rotation.run_due(_BATCH):
            log.info("rotation of %s/%s: %s", result.namespace, result.path, result.result)
        runtime.rotation.warn_expiring()
        runtime.login_guard.prune()
        runtime.services.wrapping.tidy()
        backup = runtime.services.backup.run_due()
        if backup is not None:
            log.info("scheduled backup written to %s", backup)
        for name in runtime.services.transit.rotate_due():
            log.info("transit key %s rotated on its auto_rotate_period", name)
        if runtime.settings.rotate_keys_every > 0:
            for namespace in runtime.keyrings.rotate_older_than(runtime.settings.rotate_keys_every):
                log.info("keyring of %s rotated on schedule", namespace)
        return True
