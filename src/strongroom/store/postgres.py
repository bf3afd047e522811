"""PostgreSQL (psycopg 3) for several stateless nodes. Commits are synchronous (durable)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from strongroom.errors import StoreUnavailable
from strongroom.store.sql import SqlStore

try:
    import psycopg
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError("PostgreSQL support needs: pip install 'strongroom[postgres]'") from exc

__all__ = ["PostgresStore"]

_CHANNEL = "strongroom_invalidate"  # payload: "topic:key"


class PostgresStore(SqlStore):
    placeholder = "%s"
    text_type = 'TEXT COLLATE "C"'
    blob_type = "BYTEA"
    integrity_errors = (psycopg.errors.UniqueViolation,)

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url
        self._leaders: dict[str, Any] = {}
        self._leader_guard = threading.Lock()
        self.migrate()

    def __repr__(self) -> str:
        return "PostgresStore(<url hidden>)"

    def try_leader(self, name: str) -> bool:
        """A session advisory lock on a connection of its own, held until close: exactly one
        node holds it; when that node dies, its connection and the lock go with it."""
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        with self._leader_guard:
            conn = self._leaders.get(name)
            if conn is not None and not conn.closed:
                return True
            try:
                conn = psycopg.connect(self._url, autocommit=True)
                row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            except psycopg.Error:
                return False
            if row is None or not row[0]:
                conn.close()
                return False
            self._leaders[name] = conn
            return True

    def publish(self, topic: str, key: str = "") -> None:
        # Delivered when the (autocommit) statement commits, to every listening node.
        with self._write() as conn:
            self._exec(conn, "SELECT pg_notify(?, ?)", (_CHANNEL, f"{topic}:{key}"))

    def subscribe(self, handler: Callable[[str, str], None]) -> Callable[[], None]:
        stop = threading.Event()

        def listen() -> None:
            while not stop.is_set():
                try:
                    with psycopg.connect(self._url, autocommit=True) as conn:
                        conn.execute(f"LISTEN {_CHANNEL}")
                        # Notifications sent while we were not listening are lost: drop it all.
                        handler("*", "")
                        while not stop.is_set():
                            for note in conn.notifies(timeout=0.5):
                                topic, _, key = note.payload.partition(":")
                                handler(topic, key)
                except psycopg.Error:
                    stop.wait(1.0)  # the database is away; caches expire on their own meanwhile

        thread = threading.Thread(target=listen, name="strongroom-invalidate", daemon=True)
        thread.start()

        def stop_listening() -> None:
            stop.set()
            thread.join(timeout=5)

        return stop_listening

    def close(self) -> None:
        with self._leader_guard:
            for conn in self._leaders.values():
                conn.close()
            self._leaders.clear()
        super().close()

    def _connect(self) -> Any:
        try:
            return psycopg.connect(self._url, autocommit=True)
        except psycopg.Error as exc:
            raise StoreUnavailable(f"cannot connect to PostgreSQL: {type(exc).__name__}") from None

    @contextmanager
    def _transaction(self, conn: Any) -> Iterator[None]:
        try:
            with conn.transaction():
                yield
        except psycopg.OperationalError as exc:
            self._local.conn = None
            raise StoreUnavailable(f"PostgreSQL unavailable: {type(exc).__name__}") from None

    def _lock_suffix(self) -> str:
        return " FOR UPDATE"

    def migrate(self) -> int:
        # Several nodes may start at once: serialize migrations with an advisory lock.
        with self._write() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(7432001)")
            return super().migrate()
