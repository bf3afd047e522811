"""The same conformance suite against a real PostgreSQL server started by the tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from strongroom.client import Client
from strongroom.store.postgres import PostgresStore
from strongroom.store.protocol import Store
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
