"""Keep a long-running app on the current value of a rotated secret.

    watcher = SecretWatcher(client, "secret", "app/db", on_change=pool.reconnect).start()
    password = watcher.value.data["password"]

The watcher re-reads the secret every ``interval`` seconds and, when the current version
changed, swaps ``value`` and calls ``on_change(new_value)``. Call ``refresh()`` yourself when
the target system rejects the credentials you hold (the rotation may have just finished): it
reads at once. Read errors keep the last good value and are retried at the next tick."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from strongroom.client.client import Client
from strongroom.errors import StrongroomError
from strongroom.types import SecretValue

__all__ = ["SecretWatcher"]

log = logging.getLogger("strongroom.client")


class SecretWatcher:
    def __init__(
        self,
        client: Client,
        namespace: str,
        path: str,
        *,
        interval: float = 30.0,
        on_change: Callable[[SecretValue], None] | None = None,
    ) -> None:
        self._client = client
        self._namespace = namespace
        self._path = path
        self._interval = interval
        self._on_change = on_change
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._value = client.get(namespace, path)

    @property
    def value(self) -> SecretValue:
        return self._value

    def refresh(self) -> bool:
        """Read now; True when the version changed (``on_change`` has then run)."""
        fresh = self._client.get(self._namespace, self._path)
        with self._lock:
            changed = fresh.metadata.version != self._value.metadata.version
            if changed:
                self._value = fresh
        if changed and self._on_change is not None:
            self._on_change(fresh)
        return changed

    def start(self) -> SecretWatcher:
        self._thread = threading.Thread(target=self._loop, name="strongroom-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._interval + 5)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.refresh()
            except StrongroomError as exc:  # keep the last good value; try again next tick
                log.warning("cannot re-read %s/%s: %s", self._namespace, self._path, exc.code)

    def __enter__(self) -> SecretWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
