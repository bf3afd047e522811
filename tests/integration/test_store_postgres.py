"""The same conformance suite against a real PostgreSQL server started by the tests."""

from __future__ import annotations

from strongroom.store.postgres import PostgresStore
from strongroom.testing import store_conformance
from tests.helpers import PostgresServer


def test_postgres_passes_the_store_conformance_suite(postgres: PostgresServer) -> None:
    store_conformance.run_all(lambda: PostgresStore(postgres.fresh_database()))


def test_migrations_are_idempotent(postgres_url: str) -> None:
    store = PostgresStore(postgres_url)
    assert store.migrate() == 1
    store.close()
    again = PostgresStore(postgres_url)
    assert again.migrate() == 1
    again.close()
