from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from strongroom.config import ServerSettings
from strongroom.server.app import create_app
from tests.helpers import OpenBaoServer, PostgresServer, StrongroomServer

ROOT_TOKEN = "test-root-token"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> str:
    return postgres.fresh_database()


@pytest.fixture
def app_client(tmp_path: Path) -> Iterator[TestClient]:
    """The ASGI app in-process with a real SQLite store and local KMS."""
    settings = ServerSettings(
        tmp_path / "data", dev=True, root_token=ROOT_TOKEN, audit_file=tmp_path / "audit.log"
    )
    app = create_app(settings)
    with TestClient(app, headers={"Authorization": f"Bearer {ROOT_TOKEN}"}) as client:
        yield client
    app.node.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    """A real `strongroom server --dev` process, shared by the tests that only add data."""
    server = StrongroomServer(tmp_path_factory.mktemp("live") / "data", ROOT_TOKEN).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[StrongroomServer]:
    """A real `strongroom server --dev` process of the test's own (its data dir is fresh)."""
    server = StrongroomServer(tmp_path / "data").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def openbao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBaoServer]:
    """A real OpenBao dev server: the referee of the Vault-compatible API."""
    server = OpenBaoServer(tmp_path_factory.mktemp("openbao")).start()
    try:
        yield server
    finally:
        server.stop()
