from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from strongroom.store import SqliteStore
from strongroom.store.protocol import Store
from strongroom.testing import store_conformance


@pytest.mark.parametrize("check", store_conformance.CHECKS, ids=lambda c: c.__name__)
def test_sqlite_passes_the_store_conformance_suite(
    tmp_path: Path, check: Callable[[Store], None]
) -> None:
    store = SqliteStore(tmp_path / "s.db")
    try:
        check(store)
    finally:
        store.close()


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
