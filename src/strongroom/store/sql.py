"""The SQL shared by the SQLite and PostgreSQL stores; each backend supplies a dialect.

Longer than 400 lines on purpose: every statement of the Store protocol is here once, so the two
backends cannot drift apart (the conformance suite runs each check against both)."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from strongroom.errors import Conflict
from strongroom.store.migrations import MIGRATIONS
from strongroom.store.protocol import SecretRecord, VersionRecord

__all__ = ["BACKUP_TABLES", "SqlStore"]

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

_SECRET_COLUMNS = "namespace, path, current_version, created_time, updated_time, settings"  # noqa: S105
_VERSION_COLUMNS = "namespace, path, version, envelope, key_ref, created_time, deletion_time"


def _secret(row: Sequence[Any]) -> SecretRecord:
    text = row[5]
    return SecretRecord(
        row[0], row[1], int(row[2]), float(row[3]), float(row[4]), json.loads(text), text
    )


def _version(row: Sequence[Any]) -> VersionRecord:
    envelope = bytes(row[3]) if row[3] is not None else None
    deletion = float(row[6]) if row[6] is not None else None
    return VersionRecord(row[0], row[1], int(row[2]), envelope, row[4], float(row[5]), deletion)


def _prefix_end(prefix: str) -> str:
    # Every path starting with `prefix` sorts below prefix + U+10FFFF in code-point order.
    return prefix + "\U0010ffff"


class SqlStore:
    """Implements the Store protocol in portable SQL over one connection per thread."""

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

    @contextmanager
    def _transaction(self, conn: Any) -> Iterator[None]:
        raise NotImplementedError
        yield

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
        with self._write() as conn:
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
        conn = self._conn()
        with self._transaction(conn):
            cursor = conn.execute(self._sql(statement), params)
            return list(cursor.fetchall())

    @contextmanager
    def _write(self) -> Iterator[Any]:
        conn = self._conn()
        with self._transaction(conn):
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
        with self._write() as conn:
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

    # -- records and counters
    def get_record(self, kind: str, name: str) -> bytes | None:
        rows = self._query("SELECT value FROM records WHERE kind = ? AND name = ?", (kind, name))
        return bytes(rows[0][0]) if rows else None

    def put_record(self, kind: str, name: str, value: bytes) -> None:
        with self._write() as conn:
            self._exec(
                conn,
                "INSERT INTO records (kind, name, value) VALUES (?, ?, ?) "
                "ON CONFLICT (kind, name) DO UPDATE SET value = excluded.value",
                (kind, name, value),
            )

    def replace_record(self, kind: str, name: str, old: bytes | None, new: bytes) -> bool:
        with self._write() as conn:
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
        with self._write() as conn:
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

    # -- secrets
    def get_secret(self, namespace: str, path: str) -> SecretRecord | None:
        rows = self._query(
            f"SELECT {_SECRET_COLUMNS} FROM secrets WHERE namespace = ? AND path = ?",
            (namespace, path),
        )
        return _secret(rows[0]) if rows else None

    def put_secret(self, secret: SecretRecord) -> None:
        with self._write() as conn:
            self._upsert_secret(conn, secret)

    def replace_secret(self, old: SecretRecord, new: SecretRecord) -> bool:
        with self._write() as conn:
            cursor = self._exec(
                conn,
                "UPDATE secrets SET current_version = ?, updated_time = ?, settings = ?"
                " WHERE namespace = ? AND path = ? AND current_version = ? AND settings = ?",
                (
                    new.current_version,
                    new.updated_time,
                    json.dumps(new.settings, sort_keys=True),
                    old.namespace,
                    old.path,
                    old.current_version,
                    json.dumps(old.settings, sort_keys=True),
                ),
            )
            replaced = bool(cursor.rowcount == 1)
        if not replaced:
            self._refused()
        return replaced

    def _upsert_secret(self, conn: Any, secret: SecretRecord) -> None:
        self._exec(
            conn,
            f"INSERT INTO secrets ({_SECRET_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (namespace, path) DO UPDATE SET"
            " current_version = excluded.current_version,"
            " updated_time = excluded.updated_time, settings = excluded.settings",
            (
                secret.namespace,
                secret.path,
                secret.current_version,
                secret.created_time,
                secret.updated_time,
                json.dumps(secret.settings, sort_keys=True),
            ),
        )

    def write_version(
        self,
        secret: SecretRecord,
        version: VersionRecord,
        *,
        expected_current: int,
        keep: int,
        protected: Sequence[int] = (),
    ) -> None:
        try:
            with self._write() as conn:
                self._advance_secret(conn, secret, expected_current)
                self._insert_version(conn, version)
                floor = version.version - keep
                if floor >= 1:  # older versions to prune (none while a secret is young)
                    spared = sorted({int(v) for v in protected})
                    sparing = f" AND version NOT IN ({', '.join('?' * len(spared))})"
                    self._exec(
                        conn,
                        "DELETE FROM versions WHERE namespace = ? AND path = ? AND version <= ?"
                        + (sparing if spared else ""),
                        (secret.namespace, secret.path, floor, *spared),
                    )
        except Conflict:
            self._refused()
            raise

    def _advance_secret(self, conn: Any, secret: SecretRecord, expected_current: int) -> None:
        """Move the secret's row to its new version, if it is still at ``expected_current``: one
        statement, whose row lock (PostgreSQL) holds off a concurrent writer until commit."""
        settings = json.dumps(secret.settings, sort_keys=True)
        if expected_current == 0:  # a new secret, or one with metadata and no version yet
            cursor = self._exec(
                conn,
                f"INSERT INTO secrets ({_SECRET_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (namespace, path) DO UPDATE SET"
                " current_version = excluded.current_version,"
                " updated_time = excluded.updated_time, settings = excluded.settings"
                " WHERE secrets.current_version = 0",
                (
                    secret.namespace,
                    secret.path,
                    secret.current_version,
                    secret.created_time,
                    secret.updated_time,
                    settings,
                ),
            )
        else:
            cursor = self._exec(
                conn,
                "UPDATE secrets SET current_version = ?, updated_time = ?, settings = ?"
                " WHERE namespace = ? AND path = ? AND current_version = ?",
                (
                    secret.current_version,
                    secret.updated_time,
                    settings,
                    secret.namespace,
                    secret.path,
                    expected_current,
                ),
            )
        if cursor.rowcount != 1:
            raise Conflict("another write changed this secret first; read it and retry")

    def _insert_version(self, conn: Any, version: VersionRecord) -> None:
        try:
            self._exec(
                conn,
                f"INSERT INTO versions ({_VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    version.namespace,
                    version.path,
                    version.version,
                    version.envelope,
                    version.key_ref,
                    version.created_time,
                    version.deletion_time,
                ),
            )
        except self.integrity_errors:
            raise Conflict("this version already exists; read the secret and retry") from None

    def _refused(self) -> None:
        """A compare-and-set was refused: the caller will read again and retry."""

    def get_version(self, namespace: str, path: str, version: int) -> VersionRecord | None:
        rows = self._query(
            f"SELECT {_VERSION_COLUMNS} FROM versions"
            " WHERE namespace = ? AND path = ? AND version = ?",
            (namespace, path, version),
        )
        return _version(rows[0]) if rows else None

    def read_version(
        self, namespace: str, path: str, version: int | None
    ) -> tuple[SecretRecord | None, VersionRecord | None]:
        rows = self._query(
            "SELECT s.namespace, s.path, s.current_version, s.created_time, s.updated_time,"
            " s.settings, v.namespace, v.path, v.version, v.envelope, v.key_ref, v.created_time,"
            " v.deletion_time FROM secrets s LEFT JOIN versions v ON v.namespace = s.namespace"
            " AND v.path = s.path AND v.version = COALESCE(?, s.current_version)"
            " WHERE s.namespace = ? AND s.path = ?",
            (version, namespace, path),
        )
        if not rows:
            return None, None
        row = rows[0]
        return _secret(row[:6]), (_version(row[6:]) if row[6] is not None else None)

    def list_versions(self, namespace: str, path: str) -> list[VersionRecord]:
        rows = self._query(
            f"SELECT {_VERSION_COLUMNS} FROM versions WHERE namespace = ? AND path = ?"
            " ORDER BY version",
            (namespace, path),
        )
        return [_version(row) for row in rows]

    def set_deletion(
        self, namespace: str, path: str, versions: Sequence[int], deletion_time: float | None
    ) -> None:
        with self._write() as conn:
            for number in versions:
                self._exec(
                    conn,
                    "UPDATE versions SET deletion_time = ?"
                    " WHERE namespace = ? AND path = ? AND version = ? AND envelope IS NOT NULL",
                    (deletion_time, namespace, path, number),
                )

    def destroy_versions(self, namespace: str, path: str, versions: Sequence[int]) -> None:
        with self._write() as conn:
            for number in versions:
                self._exec(
                    conn,
                    "UPDATE versions SET envelope = NULL"
                    " WHERE namespace = ? AND path = ? AND version = ?",
                    (namespace, path, number),
                )

    def delete_secret(self, namespace: str, path: str) -> bool:
        with self._write() as conn:
            self._exec(
                conn, "DELETE FROM versions WHERE namespace = ? AND path = ?", (namespace, path)
            )
            cursor = self._exec(
                conn, "DELETE FROM secrets WHERE namespace = ? AND path = ?", (namespace, path)
            )
            return bool(cursor.rowcount)

    def scan_paths(self, namespace: str, prefix: str, after: str, limit: int) -> list[str]:
        rows = self._query(
            "SELECT path FROM secrets WHERE namespace = ? AND path >= ? AND path < ? AND path > ?"
            " ORDER BY path LIMIT ?",
            (namespace, prefix, _prefix_end(prefix), after, limit),
        )
        return [row[0] for row in rows]

    def scan_secrets(self, namespace: str, after: str, limit: int) -> list[SecretRecord]:
        rows = self._query(
            f"SELECT {_SECRET_COLUMNS} FROM secrets WHERE namespace = ? AND path > ?"
            " ORDER BY path LIMIT ?",
            (namespace, after, limit),
        )
        return [_secret(row) for row in rows]

    # -- keys
    def scan_versions_not_under(
        self, namespace: str, key_ref: str, after: tuple[str, int], limit: int
    ) -> list[VersionRecord]:
        path, version = after
        rows = self._query(
            f"SELECT {_VERSION_COLUMNS} FROM versions WHERE namespace = ? AND key_ref <> ?"
            # A row-value bound: with bound parameters, SQLite plans the equivalent OR form as a
            # scan of the whole namespace, which made each batch of a big rewrap slower.
            " AND envelope IS NOT NULL AND (path, version) > (?, ?)"
            " ORDER BY path, version LIMIT ?",
            (namespace, key_ref, path, version, limit),
        )
        return [_version(row) for row in rows]

    def replace_envelope(self, record: VersionRecord, envelope: bytes, key_ref: str) -> bool:
        return self.replace_envelopes([(record, envelope, key_ref)]) == 1

    def replace_envelopes(self, items: Sequence[tuple[VersionRecord, bytes, str]]) -> int:
        replaced = 0
        with self._write() as conn:
            for record, envelope, key_ref in items:
                cursor = self._exec(
                    conn,
                    "UPDATE versions SET envelope = ?, key_ref = ?"
                    " WHERE namespace = ? AND path = ? AND version = ? AND envelope = ?",
                    (
                        envelope,
                        key_ref,
                        record.namespace,
                        record.path,
                        record.version,
                        record.envelope,
                    ),
                )
                replaced += cursor.rowcount
        return replaced

    def count_by_key_ref(self, namespace: str) -> dict[str, int]:
        rows = self._query(
            "SELECT key_ref, count(*) FROM versions WHERE namespace = ? AND envelope IS NOT NULL"
            " GROUP BY key_ref",
            (namespace,),
        )
        return {row[0]: int(row[1]) for row in rows}

    def delete_namespace_data(self, namespace: str) -> None:
        with self._write() as conn:
            self._exec(conn, "DELETE FROM versions WHERE namespace = ?", (namespace,))
            self._exec(conn, "DELETE FROM secrets WHERE namespace = ?", (namespace,))
