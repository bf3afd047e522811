"""Keep a long-running app on the current value of a rotated secret.

    watcher = SecretWatcher(client, "secret", "app/db", on_change=pool.reconnect).start()
    password = watcher.value.data["password"]

The watcher re-reads the secret every ``interval`` seconds and, when the current version
changed, swaps ``value`` and calls ``on_change(new_value)``. Call ``refresh()`` yourself when
the target system rejects the credentials you hold (the rotation may have just finished): it
reads at once. Read errors keep the last good value and are retried at the next tick. An
``on_change`` that raises is logged (its type only) and called again, with the value it missed,
at every tick until it succeeds: the watcher never stops watching."""

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
        # The version on_change last took without raising (the first value needs no call).
        self._delivered = self._value.metadata.version

    @property
    def value(self) -> SecretValue:
        return self._value

    def refresh(self) -> bool:
        """Read now; True when the version changed (``on_change`` has then run; if it raised,
        the exception is yours, and the next tick calls it again)."""
        fresh = self._client.get(self._namespace, self._path)
        with self._lock:
            changed = fresh.metadata.version != self._value.metadata.version
            if changed:
                self._value = fresh
        self._deliver()
        return changed

    def _deliver(self) -> None:
        """Hand the value held to ``on_change`` unless it already took that version."""
        value = self._value
        if self._on_change is None or value.metadata.version == self._delivered:
            return
        self._on_change(value)
        self._delivered = value.metadata.version

    def start(self) -> SecretWatcher:
        self._thread = threading.Thread(target=self._loop, name="strongroom-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._interval + 5)

    def _loop(self) -> None:
        where = f"{self._namespace}/{self._path}"
        while not self._stop.wait(self._interval):
            try:
                self.refresh()
            except StrongroomError as exc:  # keep the last good value; try again next tick
                log.warning("cannot re-read %s: %s", where, exc.code)
                try:
                    self._deliver()  # a value a failed callback missed is retried all the same
                except Exception as callback_error:  # the app's code: keep watching
                    _callback_failed(where, callback_error)
            except Exception as exc:  # on_change is the app's code: keep watching
                _callback_failed(where, exc)

    def __enter__(self) -> SecretWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _callback_failed(where: str, exc: Exception) -> None:
    # The type only: the message of an app's exception may quote the secret it was given.
    log.error(
        "on_change for %s raised %s; called again at the next tick", where, type(exc).__name__
    )
