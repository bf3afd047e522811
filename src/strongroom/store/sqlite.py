"""The embedded default: SQLite (stdlib driver) in WAL mode with fsync on every commit."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from strongroom.errors import StorageFull, StoreUnavailable
from strongroom.store.protocol import SecretRecord, VersionRecord
from strongroom.store.sql import SqlStore

__all__ = ["SqliteStore"]

_SQLITE_FULL = 13  # the database or its disk is full
_CACHED_READS = 10_000  # secret reads kept between commits


def _store_error(exc: sqlite3.Error) -> StoreUnavailable | StorageFull:
    """A failed write in a precise error: a full disk is the operator's to fix (507)."""
    if getattr(exc, "sqlite_errorcode", 0) & 0xFF == _SQLITE_FULL:
        return StorageFull()
    return StoreUnavailable(f"database write failed: {type(exc).__name__}")


class SqliteStore(SqlStore):
    integrity_errors = (sqlite3.IntegrityError,)

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        # Writers in this process queue here rather than in SQLite's sleep-and-retry busy
        # handler, whose back-off turns contention into long latency tails.
        self._writer = threading.Lock()
        # Reads of a secret's row and version, and of records, kept per thread until the
        # database changes: this process's commits move a generation number, and any other
        # connection's (another process's too) move SQLite's data_version (``_cached``).
        self._generation = 0
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            # Create the file 0600 before SQLite opens it.
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        self.migrate()

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"

    def _connect(self) -> Any:
        try:
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open the database: {type(exc).__name__}") from None
        conn.execute("PRAGMA journal_mode=WAL")
        # FULL: the WAL is fsynced at every commit, so an acknowledged write survives kill -9
        # and power loss.
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    @contextmanager
    def _transaction(self, conn: Any) -> Iterator[None]:
        if conn.in_transaction:
            yield
            return
        with self._writer:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreUnavailable(
                    f"database busy or unavailable: {type(exc).__name__}"
                ) from None
            try:
                yield
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                if isinstance(exc, self.integrity_errors):
                    raise  # a caller's compare-and-set decides on these
                raise _store_error(exc) from None
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise
            finally:
                self._generation += 1  # every cached read is older than this commit

    @contextmanager
    def _snapshot(self) -> Iterator[Any]:
        """A connection of its own in a read transaction: in WAL mode it sees one moment of the
        database while writers go on."""
        conn = self._connect()
        try:
            conn.execute("BEGIN")
            yield conn
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"database snapshot failed: {type(exc).__name__}") from None
        finally:
            conn.close()

    def _cached(self) -> dict[Any, Any]:
        """This thread's cache of reads, emptied when the database may have changed since it
        was filled: a commit by this process (the generation) or by any other connection,
        another process's included (SQLite's ``data_version`` of this thread's connection)."""
        generation = self._generation  # read before the check: a commit meanwhile outdates it
        try:
            changes = self._conn().execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"database read failed: {type(exc).__name__}") from None
        local = self._local
        stamp = (generation, changes)
        if getattr(local, "stamp", None) != stamp:
            local.stamp, local.reads = stamp, {}
        reads: dict[Any, Any] = local.reads
        if len(reads) >= _CACHED_READS:
            reads.clear()
        return reads

    def read_version(
        self, namespace: str, path: str, version: int | None
    ) -> tuple[SecretRecord | None, VersionRecord | None]:
        reads = self._cached()
        key = ("version", namespace, path, version)
        if key in reads:
            found: tuple[SecretRecord | None, VersionRecord | None] = reads[key]
            return found
        found = reads[key] = super().read_version(namespace, path, version)
        return found

    def get_record(self, kind: str, name: str) -> bytes | None:
        reads = self._cached()
        key = ("record", kind, name)
        if key in reads:
            record: bytes | None = reads[key]
            return record
        record = reads[key] = super().get_record(kind, name)
        return record

    def _query(self, statement: str, params: Any = ()) -> list[Any]:
        # Reads run outside an explicit transaction: one statement is a consistent snapshot.
        try:
            return list(self._conn().execute(statement, params).fetchall())
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"database read failed: {type(exc).__name__}") from None
