from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from strongroom.clock import ManualClock
from strongroom.config import ServerSettings
from strongroom.server.app import create_app
from strongroom.server.node import Node
from strongroom.server.runtime import Runtime
from tests.helpers import (
    AWS_TEST_ENV,
    SOFTHSM_MODULE,
    MotoServer,
    OpenBaoServer,
    PostgresServer,
    SoftHsm,
    StrongroomServer,
    close_aws_clients,
)

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
def dev_runtime(tmp_path: Path) -> Iterator[Runtime]:
    """An unsealed dev node's runtime in process, on a manual clock (closed after the test)."""
    node = Node(ServerSettings(tmp_path, dev=True, root_token="t"), ManualClock())
    try:
        yield node.require_runtime()
    finally:
        node.close()


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


@pytest.fixture(scope="session", autouse=True)
def _aws_clients_closed() -> Iterator[None]:
    yield
    close_aws_clients()


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """moto's server mode: a second, independent implementation of AWS KMS. Tests make keys
    of their own in it; AWS credentials for it are in the environment of the session."""
    server = MotoServer(tmp_path_factory.mktemp("moto")).start()
    saved = {name: os.environ.get(name) for name in AWS_TEST_ENV}
    os.environ.update(AWS_TEST_ENV)
    try:
        yield server
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> SoftHsm:
    """SoftHSM2 with a token directory of the session's own. SoftHSM reads SOFTHSM2_CONF once
    per process, so the whole session (and the servers it starts) shares this one."""
    if not SOFTHSM_MODULE:
        pytest.fail("SoftHSM2 is not installed: run scripts/setup --dev (it installs softhsm2)")
    hsm = SoftHsm(tmp_path_factory.mktemp("softhsm"))
    os.environ.update(hsm.env)
    return hsm
