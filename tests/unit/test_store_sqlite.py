from __future__ import annotations

import stat
from pathlib import Path

from strongroom.store import SqliteStore
from strongroom.testing import store_conformance


def test_sqlite_passes_the_store_conformance_suite(tmp_path: Path) -> None:
    counter = iter(range(1000))
    store_conformance.run_all(lambda: SqliteStore(tmp_path / f"s{next(counter)}.db"))


def test_database_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    store.put_record("k", "a", b"1")
    assert stat.S_IMODE((tmp_path / "s.db").stat().st_mode) == 0o600
    assert store._query("PRAGMA journal_mode")[0][0] == "wal"
    assert store._query("PRAGMA synchronous")[0][0] == 2  # FULL: fsync at every commit
    store.close()


def test_migrations_are_idempotent(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    assert store.migrate() == store.migrate() == 1
    store.close()
