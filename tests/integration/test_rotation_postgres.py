"""The PostgreSQL rotator against a real PostgreSQL server, driven through a real strongroom
server process: the app logs in with the new password, the old one stops working when its turn
comes, and no login fails while an alternating-users rotation runs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from strongroom.client import Client
from tests.helpers import PASSWORD_GROUP, PostgresServer, StrongroomServer

pytestmark = pytest.mark.postgres


@pytest.fixture
def database(postgres: PostgresServer) -> Iterator[tuple[PostgresServer, str]]:
    url = postgres.fresh_database()
    name = url.rsplit("/", 1)[1]
    suffix = name.replace("_", "")[-12:]
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        if not _role_exists(conn, PASSWORD_GROUP):
            conn.execute(f"CREATE ROLE {PASSWORD_GROUP} NOLOGIN")
        for role, password, extra in (
            (f"admin_{suffix}", "admin-initial", "CREATEROLE"),
            (f"app_a_{suffix}", "a-initial", ""),
            (f"app_b_{suffix}", "b-initial", ""),
            (f"solo_{suffix}", "solo-initial", ""),
        ):
            conn.execute(
                f"CREATE ROLE {role} LOGIN {extra} PASSWORD '{password}' IN ROLE {PASSWORD_GROUP}"
            )
    yield postgres, suffix


def _role_exists(conn: Any, role: str) -> bool:
    row = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    return row is not None


def _login(postgres: PostgresServer, dbname: str, user: str, password: str) -> bool:
    try:
        with psycopg.connect(
            host="127.0.0.1",
            port=postgres.port,
            dbname=dbname,
            user=user,
            password=password,
            connect_timeout=5,
        ) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.OperationalError:
        return False


@pytest.fixture
def server(tmp_path: Path) -> Iterator[StrongroomServer]:
    # The test database is on loopback: the operator allows it (docs/rotation.md, egress).
    running = StrongroomServer(
        tmp_path / "data", "pg-rotation-root", extra=["--egress-allow", "127.0.0.1/32"]
    ).start()
    try:
        yield running
    finally:
        running.stop()


def test_alternating_users_rotation_never_fails_a_login(
    database: tuple[PostgresServer, str], server: StrongroomServer
) -> None:
    postgres, suffix = database
    a, b = f"app_a_{suffix}", f"app_b_{suffix}"
    client = Client(server.addr, server.root_token)
    client.put("secret", "pg-admin", {"username": f"admin_{suffix}", "password": "admin-initial"})
    client.put("secret", "app/db", {"username": b, "password": "b-initial"})
    assert _login(postgres, "postgres", a, "wrong-password") is False, "passwords are checked"
    client.configure_rotation(
        "secret",
        "app/db",
        "postgres",
        interval="30d",
        params={
            "strategy": "alternating",
            "usernames": [a, b],
            "admin": "secret/pg-admin",
            "port": postgres.port,
        },
    )
    stop = threading.Event()
    logins = {"ok": 0, "failed": 0}

    def app() -> None:  # a running app: read the current credentials, log in, repeat
        with Client(server.addr, server.root_token) as reader:
            while not stop.is_set():
                creds = reader.get("secret", "app/db").data
                ok = _login(postgres, "postgres", creds["username"], creds["password"])
                logins["ok" if ok else "failed"] += 1

    thread = threading.Thread(target=app)
    thread.start()
    seen: list[dict[str, Any]] = []
    try:  # rotate again and again while the app keeps logging in
        while len(seen) < 3 or logins["ok"] < 40:
            result = client.rotate_now("secret", "app/db")
            assert result.result == "success", result
            seen.append(client.get("secret", "app/db").data)
    finally:
        stop.set()
        thread.join()
    assert logins["failed"] == 0, logins
    assert [s["username"] for s in seen[:4]] == [a, b, a, b][: len(seen[:4])]
    for creds in seen[-2:]:  # current and previous both log in
        assert _login(postgres, "postgres", creds["username"], creds["password"])
    # Older values were replaced when their role's turn came again: they no longer work.
    assert not _login(postgres, "postgres", seen[-3]["username"], seen[-3]["password"])
    assert not _login(postgres, "postgres", b, "b-initial")
    status = client.rotation_status("secret", "app/db")
    assert status.labels["current"] == len(seen) + 1
    assert status.labels["previous"] == len(seen)
    assert {h["result"] for h in status.history} == {"success"}
    client.close()


def test_single_user_rotation_and_a_failed_test_rolls_back(
    database: tuple[PostgresServer, str], server: StrongroomServer
) -> None:
    postgres, suffix = database
    solo = f"solo_{suffix}"
    client = Client(server.addr, server.root_token)
    client.put("secret", "pg-admin", {"username": f"admin_{suffix}", "password": "admin-initial"})
    client.put("secret", "solo", {"username": solo, "password": "solo-initial"})
    params: dict[str, Any] = {"strategy": "single", "username": solo, "admin": "secret/pg-admin"}
    params["port"] = postgres.port
    client.configure_rotation("secret", "solo", "postgres", interval="30d", params=params)
    assert client.rotate_now("secret", "solo").result == "success"
    new = client.get("secret", "solo").data["password"]
    assert _login(postgres, "postgres", solo, new)
    assert not _login(postgres, "postgres", solo, "solo-initial")
    assert client.get("secret", "solo", stage="previous").data["password"] == "solo-initial"
    # A role that does not exist: set fails with a clear reason, three times, then rolls back.
    params["username"] = "no_such_role"
    client.configure_rotation("secret", "solo", "postgres", interval="30d", params=params)
    results = [client.rotate_now("secret", "solo") for _ in range(3)]
    assert [r.result for r in results] == ["failed", "failed", "rolled_back"]
    assert "does not exist" in results[0].error
    assert client.get("secret", "solo").data["password"] == new
    assert _login(postgres, "postgres", solo, new), "the current password still works"
    client.close()
