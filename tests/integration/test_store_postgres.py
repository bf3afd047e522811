"""The same conformance suite against a real PostgreSQL server started by the tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from strongroom.client import Client
from strongroom.errors import Conflict, StoreUnavailable
from strongroom.store.postgres import PostgresStore
from strongroom.store.protocol import SecretRecord, Store, VersionRecord
from strongroom.testing import store_conformance
from tests.helpers import PostgresServer, StrongroomServer


@pytest.mark.parametrize("check", store_conformance.CHECKS, ids=lambda c: c.__name__)
def test_postgres_passes_the_store_conformance_suite(
    postgres: PostgresServer, check: Callable[[Store], None]
) -> None:
    store = PostgresStore(postgres.fresh_database())
    try:
        check(store)
    finally:
        store.close()


def test_migrations_are_idempotent(postgres_url: str) -> None:
    store = PostgresStore(postgres_url)
    assert store.migrate() == 1
    store.close()
    again = PostgresStore(postgres_url)
    assert again.migrate() == 1
    again.close()


def test_the_server_runs_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    server = StrongroomServer(tmp_path / "data", extra=["--store-url", postgres_url]).start()
    try:
        with Client(server.addr, server.root_token) as client:
            client.put("secret", "pg/db", {"password": "on-postgres"})
            client.put("secret", "pg/db", {"password": "on-postgres-2"})
            assert client.get("secret", "pg/db", version=1).data == {"password": "on-postgres"}
            assert client.list_recursive("secret", "pg") == ["pg/db"]
            client.rotate_keys("secret")
            assert client.rewrap_batch("secret").done
    finally:
        server.stop()
    assert not any((tmp_path / "data").glob("*.db")), "no SQLite file when the store is PostgreSQL"


def test_exactly_one_node_leads_the_scheduler(postgres_url: str) -> None:
    first, second = PostgresStore(postgres_url), PostgresStore(postgres_url)
    try:
        assert first.try_leader("strongroom-scheduler")
        assert not second.try_leader("strongroom-scheduler")
        assert second.try_leader("another-lock"), "locks are per name"
        first.close()  # the leader's node goes away, and its lock with its connection
        assert second.try_leader("strongroom-scheduler")
    finally:
        first.close()
        second.close()


def _write(store: PostgresStore, path: str, number: int) -> None:
    store.write_version(
        SecretRecord("ns", path, number, 1.0, 1.0, {}),
        VersionRecord("ns", path, number, b"sealed", "k1", 1.0, None),
        expected_current=number - 1,
        keep=100,
    )


def test_sixteen_writers_share_commits_and_lose_nothing(postgres_url: str) -> None:
    """Group commit on PostgreSQL (store/group_commit.py): a node's concurrent writes share one
    transaction and one commit, each write in a savepoint of its own."""
    store = PostgresStore(postgres_url)
    commits = 0
    commit = store._group._commit_open

    def counted() -> None:
        nonlocal commits
        commits += 1
        commit()

    store._group._commit_open = counted  # type: ignore[method-assign]
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            for number in range(1, 31):
                _write(store, f"w{worker}", number)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        for worker in range(16):
            secret = store.get_secret("ns", f"w{worker}")
            assert secret is not None and secret.current_version == 30
            assert len(store.list_versions("ns", f"w{worker}")) == 30
        assert commits < 16 * 30  # some writes shared a commit
        with pytest.raises(Conflict):  # a stale compare-and-set is still refused in a batch
            _write(store, "w0", 30)
        assert store.get_secret("ns", "w0").current_version == 30  # type: ignore[union-attr]
    finally:
        store.close()


def test_after_a_database_restart_the_next_write_reconnects() -> None:
    """The batch whose connection broke fails (nothing acknowledged); the next write opens a
    new connection and lands."""
    postgres = PostgresServer()
    try:
        store = PostgresStore(postgres.fresh_database())
        try:
            _write(store, "a", 1)
            postgres.restart()
            outcomes: list[str] = []
            for number in (2, 2, 2):  # the first may meet the dead connection
                try:
                    _write(store, "a", number)
                    outcomes.append("written")
                    break
                except StoreUnavailable:
                    outcomes.append("unavailable")
            assert outcomes[-1] == "written" and len(outcomes) <= 2, outcomes
            assert store.get_secret("ns", "a").current_version == 2  # type: ignore[union-attr]
        finally:
            store.close()
    finally:
        postgres.stop()
