"""The SQL of secrets and their versions, shared by the SQLite and PostgreSQL stores; with
``SqlBase`` (sql_base.py), the whole Store protocol, each statement once."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from strongroom.errors import Conflict
from strongroom.store.protocol import SecretRecord, VersionRecord
from strongroom.store.sql_base import SqlBase

__all__ = ["SqlStore"]

_SECRET_COLUMNS = "namespace, path, current_version, created_time, updated_time, settings"  # noqa: S105
_VERSION_COLUMNS = "namespace, path, version, envelope, key_ref, created_time, deletion_time"
# A secret row's settings as stored (json.dumps with sorted keys, one encoder made once): a
# compare-and-set matches this text.
_settings_text = json.JSONEncoder(sort_keys=True).encode


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


class SqlStore(SqlBase):
    """Implements the Store protocol in portable SQL over one connection per thread."""

    # -- secrets
    def get_secret(self, namespace: str, path: str) -> SecretRecord | None:
        rows = self._query(
            f"SELECT {_SECRET_COLUMNS} FROM secrets WHERE namespace = ? AND path = ?",
            (namespace, path),
        )
        return _secret(rows[0]) if rows else None

    def replace_secret(self, old: SecretRecord | None, new: SecretRecord) -> bool:
        with self._write() as conn:
            if old is None:  # create only
                cursor = self._exec(
                    conn,
                    f"INSERT INTO secrets ({_SECRET_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (namespace, path) DO NOTHING",
                    _secret_values(new),
                )
            else:
                cursor = self._exec(
                    conn,
                    "UPDATE secrets SET current_version = ?, updated_time = ?, settings = ?"
                    " WHERE namespace = ? AND path = ? AND current_version = ? AND settings = ?",
                    (
                        new.current_version,
                        new.updated_time,
                        _settings_text(new.settings),
                        old.namespace,
                        old.path,
                        old.current_version,
                        _settings_text(old.settings),
                    ),
                )
            replaced = bool(cursor.rowcount == 1)
        if not replaced:
            self._refused()
        return replaced

    def write_version(
        self,
        secret: SecretRecord,
        version: VersionRecord,
        *,
        expected_current: int,
        keep: int,
        protected: Sequence[int] = (),
        expected_settings: Mapping[str, Any] | None = None,
    ) -> str:
        try:
            with self._write() as conn:
                stored = self._advance_secret(conn, secret, expected_current, expected_settings)
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
        return stored

    def _advance_secret(
        self,
        conn: Any,
        secret: SecretRecord,
        expected_current: int,
        expected_settings: Mapping[str, Any] | None,
    ) -> str:
        """Move the secret's row to its new version, if it is still at ``expected_current`` (and
        its settings still ``expected_settings``, when given): one statement, whose row lock
        (PostgreSQL) holds off a concurrent writer until commit. Returns the settings as
        stored."""
        settings = _settings_text(secret.settings)
        unchanged, was = "", list[str]()
        if expected_settings is not None:
            unchanged = " AND secrets.settings = ?"
            was = [_settings_text(expected_settings)]
        if expected_current == 0:  # a new secret, or one with metadata and no version yet
            cursor = self._exec(
                conn,
                f"INSERT INTO secrets ({_SECRET_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (namespace, path) DO UPDATE SET"
                " current_version = excluded.current_version,"
                " updated_time = excluded.updated_time, settings = excluded.settings"
                " WHERE secrets.current_version = 0" + unchanged,
                (*_secret_values(secret), *was),
            )
        else:
            cursor = self._exec(
                conn,
                "UPDATE secrets SET current_version = ?, updated_time = ?, settings = ?"
                " WHERE namespace = ? AND path = ? AND current_version = ?" + unchanged,
                (
                    secret.current_version,
                    secret.updated_time,
                    settings,
                    secret.namespace,
                    secret.path,
                    expected_current,
                    *was,
                ),
            )
        if cursor.rowcount != 1:
            raise Conflict("another write changed this secret first; read it and retry")
        return settings

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


def _secret_values(secret: SecretRecord) -> tuple[Any, ...]:
    """A secret row's values, in ``_SECRET_COLUMNS``' order."""
    return (
        secret.namespace,
        secret.path,
        secret.current_version,
        secret.created_time,
        secret.updated_time,
        _settings_text(secret.settings),
    )
