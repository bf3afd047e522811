"""The SQL plumbing the SQLite and PostgreSQL stores share: one connection per thread, the
dialect hooks, records and counters, migrations and backups. The secrets and their versions are
``SqlStore``'s (sql.py); each statement is written once, so the two backends cannot drift apart
(the conformance suite runs each check against both)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from strongroom.errors import Conflict
from strongroom.store.migrations import MIGRATIONS

__all__ = ["BACKUP_TABLES", "SqlBase"]

# The tables a backup holds, each with the order it is dumped in.
BACKUP_TABLES = (
    ("records", "kind, name"),
    ("counters", "kind, name"),
    ("secrets", "namespace, path"),
    ("versions", "namespace, path, version"),
)
_BACKUP_TABLE_NAMES = frozenset(table for table, _ in BACKUP_TABLES)
_COLUMNS = {
    "records": frozenset({"kind", "name", "value"}),
    "counters": frozenset({"kind", "name", "value"}),
    "secrets": frozenset(
        {"namespace", "path", "current_version", "created_time", "updated_time", "settings"}
    ),
    "versions": frozenset(
        {"namespace", "path", "version", "envelope", "key_ref", "created_time", "deletion_time"}
    ),
}


class SqlBase:
    """Records, counters, backups and the connections, in portable SQL."""

    placeholder = "?"
    text_type = "TEXT"
    blob_type = "BLOB"
    integrity_errors: tuple[type[BaseException], ...] = ()

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: list[Any] = []
        self._all_lock = threading.Lock()

    # -- dialect hooks
    def _connect(self) -> Any:
        raise NotImplementedError

    # -- plumbing
    def _sql(self, statement: str) -> str:
        return statement.replace("?", self.placeholder) if self.placeholder != "?" else statement

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    # -- backups: every row, as stored (ciphertext and sealed records stay as they are)
    def dump(self) -> Iterator[tuple[str, tuple[str, ...], tuple[Any, ...]]]:
        """Every row of every table, ``(table, columns, row)``, from one consistent snapshot
        taken while writers go on (a read transaction)."""
        with self._snapshot() as conn:
            for table, key in BACKUP_TABLES:
                cursor = conn.execute(f"SELECT * FROM {table} ORDER BY {key}")
                columns = tuple(d[0] for d in cursor.description)
                for row in cursor:
                    yield table, columns, tuple(row)

    def load(self, rows: Iterable[tuple[str, tuple[str, ...], tuple[Any, ...]]]) -> int:
        """Write ``rows`` (from ``dump``) into this store, which must hold no secret and no
        record yet; one transaction. How many rows."""
        count = 0
        with self._write_records() as conn:
            for table, _ in BACKUP_TABLES:
                if self._exec(conn, f"SELECT count(*) FROM {table}").fetchone()[0]:
                    raise Conflict("restore needs an empty store: a new data directory or database")
            for table, columns, row in rows:
                if table not in _BACKUP_TABLE_NAMES or not set(columns) <= _COLUMNS[table]:
                    raise Conflict(f"the backup names an unknown table or column ({table})")
                marks = ", ".join("?" for _ in columns)
                statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
                self._exec(conn, statement, row)
                count += 1
        return count

    @contextmanager
    def _snapshot(self) -> Iterator[Any]:
        raise NotImplementedError
        yield

    def _drop(self, conn: Any) -> None:
        """Forget a broken connection of this thread, closed (its socket is not left open)."""
        self._local.conn = None
        with self._all_lock:
            if conn in self._all:
                self._all.remove(conn)
        with contextlib.suppress(Exception):
            conn.close()

    def _query(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        """One statement's rows (each database runs it its own way)."""
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[Any]:
        """A connection whose statements commit together (group commit, both databases)."""
        raise NotImplementedError

    @contextmanager
    def _write_records(self) -> Iterator[Any]:
        """``_write`` for a write that may change records (a store that keeps record reads
        longer than others is told here)."""
        with self._write() as conn:
            yield conn

    def _exec(self, conn: Any, statement: str, params: Sequence[Any] = ()) -> Any:
        return conn.execute(self._sql(statement), params)

    def try_leader(self, name: str) -> bool:
        return True  # one node per database file (SQLite); PostgreSQL overrides this

    @property
    def listening(self) -> bool:
        return True  # one node: nobody else changes what it caches

    def publish(self, topic: str, key: str = "") -> None:
        return None  # one node: its own caches were already updated by the writer

    def subscribe(self, handler: Callable[[str, str], None]) -> Callable[[], None]:
        return lambda: None

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                try:
                    conn.close()
                except Exception:  # noqa: S112 - closing is best effort
                    continue
            self._all.clear()
        self._local = threading.local()

    def migrate(self) -> int:
        """Apply the schema steps not yet applied; return the schema version."""
        with self._write_records() as conn:
            self._exec(conn, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            rows = self._exec(conn, "SELECT max(version) FROM schema_version").fetchall()
            current = int(rows[0][0] or 0)
            for number, step in enumerate(MIGRATIONS, start=1):
                if number <= current:
                    continue
                for statement in step:
                    self._exec(conn, statement.format(text=self.text_type, blob=self.blob_type))
                self._exec(conn, "INSERT INTO schema_version (version) VALUES (?)", (number,))
                current = number
        return current

    def _refused(self) -> None:
        """A compare-and-set was refused: the caller will read again and retry."""

    # -- records and counters
    def get_record(self, kind: str, name: str) -> bytes | None:
        rows = self._query("SELECT value FROM records WHERE kind = ? AND name = ?", (kind, name))
        return bytes(rows[0][0]) if rows else None

    def put_record(self, kind: str, name: str, value: bytes) -> None:
        with self._write_records() as conn:
            self._exec(
                conn,
                "INSERT INTO records (kind, name, value) VALUES (?, ?, ?) "
                "ON CONFLICT (kind, name) DO UPDATE SET value = excluded.value",
                (kind, name, value),
            )

    def replace_record(self, kind: str, name: str, old: bytes | None, new: bytes) -> bool:
        with self._write_records() as conn:
            if old is None:
                cursor = self._exec(
                    conn,
                    "INSERT INTO records (kind, name, value) VALUES (?, ?, ?) "
                    "ON CONFLICT (kind, name) DO NOTHING",
                    (kind, name, new),
                )
            else:
                cursor = self._exec(
                    conn,
                    "UPDATE records SET value = ? WHERE kind = ? AND name = ? AND value = ?",
                    (new, kind, name, old),
                )
            replaced = bool(cursor.rowcount == 1)
        if not replaced:
            self._refused()
        return replaced

    def delete_record(self, kind: str, name: str) -> bool:
        with self._write_records() as conn:
            cursor = self._exec(
                conn, "DELETE FROM records WHERE kind = ? AND name = ?", (kind, name)
            )
            return bool(cursor.rowcount)

    def list_records(self, kind: str) -> list[str]:
        rows = self._query("SELECT name FROM records WHERE kind = ? ORDER BY name", (kind,))
        return [row[0] for row in rows]

    def list_kinds(self) -> list[str]:
        return [row[0] for row in self._query("SELECT DISTINCT kind FROM records ORDER BY kind")]

    def add_counter(self, kind: str, name: str, delta: int) -> int:
        with self._write() as conn:
            self._exec(
                conn,
                "INSERT INTO counters (kind, name, value) VALUES (?, ?, ?) "
                "ON CONFLICT (kind, name) DO UPDATE SET value = counters.value + excluded.value",
                (kind, name, delta),
            )
            rows = self._exec(
                conn, "SELECT value FROM counters WHERE kind = ? AND name = ?", (kind, name)
            ).fetchall()
            return int(rows[0][0])
