"""SQLite's cache of reads, kept by a server that is alone on its file: every commit outdates
it, so a read after a write, a destroy or a delete sees that change, and a failed write leaves
nothing stale either. A file opened by several processes keeps nothing, and a server cannot
share its file."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from strongroom.errors import Conflict, StoreUnavailable
from strongroom.store.protocol import SecretRecord, VersionRecord
from strongroom.store.sqlite import SqliteStore


def _write(store: SqliteStore, number: int, envelope: bytes, expected: int) -> None:
    secret = SecretRecord("ns", "app", number, 1.0, float(number))
    version = VersionRecord("ns", "app", number, envelope, "ref", float(number))
    store.write_version(secret, version, expected_current=expected, keep=10)


def test_every_commit_outdates_the_cached_reads(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite", exclusive=True)
    try:
        assert store.read_version("ns", "app", None) == (None, None)
        _write(store, 1, b"one", 0)
        for _ in range(3):  # cached from the second read on
            secret, version = store.read_version("ns", "app", None)
            assert secret is not None and version is not None and version.envelope == b"one"
        _write(store, 2, b"two", 1)
        assert store.read_version("ns", "app", None)[1].envelope == b"two"  # type: ignore[union-attr]
        assert store.read_version("ns", "app", 1)[1].envelope == b"one"  # type: ignore[union-attr]
        with pytest.raises(Conflict):  # a refused write: the cache still tells the truth
            _write(store, 3, b"three", 1)
        assert store.read_version("ns", "app", None)[1].envelope == b"two"  # type: ignore[union-attr]
        store.destroy_versions("ns", "app", [1])
        assert store.read_version("ns", "app", 1)[1].envelope is None  # type: ignore[union-attr]
        assert store.delete_secret("ns", "app")
        assert store.read_version("ns", "app", None) == (None, None)
    finally:
        store.close()


def test_records_too(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite", exclusive=True)
    try:
        assert store.get_record("k", "n") is None
        store.put_record("k", "n", b"one")
        assert store.get_record("k", "n") == b"one"
        assert store.get_record("k", "n") == b"one"
        assert store.replace_record("k", "n", b"one", b"two")
        assert store.get_record("k", "n") == b"two"
        assert not store.replace_record("k", "n", b"one", b"three")
        assert store.get_record("k", "n") == b"two"
        store.delete_record("k", "n")
        assert store.get_record("k", "n") is None
    finally:
        store.close()


def test_a_shared_file_keeps_nothing_and_a_server_has_its_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    mine, theirs = SqliteStore(path), SqliteStore(path)  # two processes, say
    try:
        mine.put_record("k", "n", b"one")
        assert mine.get_record("k", "n") == b"one"
        theirs.put_record("k", "n", b"two")
        assert mine.get_record("k", "n") == b"two"
        _write(theirs, 1, b"one", 0)
        assert mine.read_version("ns", "app", None)[1].envelope == b"one"  # type: ignore[union-attr]
        with pytest.raises(StoreUnavailable):
            SqliteStore(path, exclusive=True)
    finally:
        mine.close()
        theirs.close()
    server = SqliteStore(path, exclusive=True)
    try:
        with pytest.raises(StoreUnavailable):
            SqliteStore(path)
    finally:
        server.close()
    SqliteStore(path).close()  # the server's lock went with it


def test_the_writer_threads_reads_in_a_batch_are_kept_until_a_write_or_commit(
    tmp_path: Path,
) -> None:
    """Inside an open batch the writer thread reads what is not committed yet: kept apart, and
    outdated by its own writes, a refused one, another thread's, and the commit."""
    store = SqliteStore(tmp_path / "db.sqlite", exclusive=True)
    group = store.group_commit
    statements: list[str] = []
    group.connection.set_trace_callback(statements.append)

    def reads() -> int:
        return sum(s.startswith("SELECT") for s in statements)

    def envelope() -> bytes | None:
        version = store.read_version("ns", "app", None)[1]
        return version.envelope if version is not None else None

    try:
        with group.deferring() as deferred:
            _write(store, 1, b"one", 0)  # opens the batch: the reads below see it uncommitted
            assert envelope() == b"one"
            before = reads()
            assert envelope() == b"one"
            assert reads() == before  # kept
            _write(store, 2, b"two", 1)
            assert envelope() == b"two"  # its own write outdated it
            with pytest.raises(Conflict):
                _write(store, 3, b"three", 1)
            assert envelope() == b"two"
            elsewhere = threading.Thread(target=_write, args=(store, 3, b"three", 2))
            elsewhere.start()  # another thread's write joins the open batch
            elsewhere.join()
            assert envelope() == b"three"
            group.settle(deferred)
        assert deferred.error() is None
        assert envelope() == b"three"  # committed, read on the committed side again
        assert store.get_record("k", "n") is None
    finally:
        store.close()


class _FailingCommit:
    """The store's write connection, whose COMMIT fails when told (a disk gone away)."""

    def __init__(self, real: sqlite3.Connection) -> None:
        self.real = real
        self.fail_commit = False

    def execute(self, statement: str, params: Any = ()) -> Any:
        if statement == "COMMIT" and self.fail_commit:
            raise sqlite3.OperationalError("disk I/O error")
        return self.real.execute(statement, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_a_record_read_in_a_batch_outlives_writes_of_secrets_not_of_records(
    tmp_path: Path,
) -> None:
    """A KV write reads its mount's settings (a record): the writer thread keeps that read
    across the batch's writes of secrets, and any write of records (its own, a refused one,
    another thread's) or a lost batch outdates it."""
    store = SqliteStore(tmp_path / "db.sqlite", exclusive=True)
    group = store.group_commit
    connection = _FailingCommit(group.connection)
    group._conn = connection  # the test's way to fail a commit
    statements: list[str] = []
    connection.real.set_trace_callback(statements.append)

    def record_reads() -> int:
        return sum(s.startswith("SELECT value FROM records") for s in statements)

    def config() -> bytes | None:
        return store.get_record("kv-config", "ns")

    try:
        store.put_record("kv-config", "ns", b"one")
        with group.deferring() as deferred:
            _write(store, 1, b"one", 0)  # opens the batch
            assert config() == b"one"
            before = record_reads()
            _write(store, 2, b"two", 1)
            assert config() == b"one"
            assert record_reads() == before  # kept across a write of a secret
            store.put_record("kv-config", "ns", b"two")
            assert config() == b"two"
            assert not store.replace_record("kv-config", "ns", b"one", b"refused")
            assert config() == b"two"
            elsewhere = threading.Thread(
                target=store.put_record, args=("kv-config", "ns", b"three")
            )
            elsewhere.start()  # joins the open batch and commits it
            elsewhere.join()
            assert config() == b"three"
            group.settle(deferred)
        assert deferred.error() is None

        connection.fail_commit = True
        with group.deferring() as deferred:
            store.put_record("kv-config", "ns", b"lost")
            assert config() == b"lost"  # the open batch, as the writer thread sees it
            group.settle(deferred)
        assert deferred.error() is not None
        connection.fail_commit = False
        with group.deferring() as deferred:
            _write(store, 3, b"three", 2)  # a new batch: the lost one's record is gone
            assert config() == b"three"
            group.settle(deferred)
        assert deferred.error() is None
        assert config() == b"three"
    finally:
        store.close()
