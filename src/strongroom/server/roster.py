"""The nodes that serve one store, as ``sys/ha-status`` shows them. Each unsealed node writes a
heartbeat record (its name, address, whether it leads the scheduler) every ``HEARTBEAT_SECONDS``;
a node not heard from for ``STALE_SECONDS`` is left out. Every node serves every request: the
leader is only the one that runs the scheduler (server/leadership.py)."""

from __future__ import annotations

import contextlib
import threading

from strongroom.clock import Clock
from strongroom.errors import StrongroomError
from strongroom.server.leadership import Leadership
from strongroom.store.protocol import Store
from strongroom.store.records import Records
from strongroom.types import ClusterNode, time_of

__all__ = ["HEARTBEAT_SECONDS", "STALE_SECONDS", "Roster"]

HEARTBEAT_SECONDS = 2.0
STALE_SECONDS = 10.0
_KIND = "cluster-node"


class Roster:
    def __init__(
        self, store: Store, clock: Clock, name: str, api_address: str, leadership: Leadership
    ) -> None:
        self._entries = Records.of_json(store, _KIND)  # name -> its last heartbeat
        self._clock = clock
        self.name, self.api_address = name, api_address
        self._leadership = leadership
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="strongroom-roster", daemon=True)

    def start(self) -> Roster:
        self.beat()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        with contextlib.suppress(StrongroomError):  # gone from the list at once, not in 10 s
            self._entries.delete(self.name)

    def _loop(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            with contextlib.suppress(StrongroomError):  # the store away: the next beat
                self.beat()

    def beat(self) -> None:
        doc = {
            "api_address": self.api_address,
            "last_seen": self._clock.now(),
            "leader": self._leadership.held,
        }
        self._entries.put(self.name, doc)

    def nodes(self) -> list[ClusterNode]:
        now, found = self._clock.now(), []
        for name, doc in self._entries.items():
            if now - float(doc["last_seen"]) <= STALE_SECONDS:
                last_seen = time_of(float(doc["last_seen"]))
                found.append(ClusterNode(name, str(doc["api_address"]), last_seen, doc["leader"]))
        return found
