"""The client address comes from the socket unless the operator names trusted proxies (issue 9,
finding 4), against real servers: a spoofed X-Forwarded-For defeats neither CIDR binding, nor the
rate limit, nor the audit log's remote_addr."""

from __future__ import annotations

from pathlib import Path

import httpx
from click.testing import CliRunner

from strongroom.cli.main import cli
from strongroom.cli.server import _is_loopback, _url_host
from tests.helpers import StrongroomServer, audit_entries

SPOOF = {"X-Forwarded-For": "10.1.2.3"}


def _bound_role(server: StrongroomServer) -> str:
    root = {"Authorization": f"Bearer {server.root_token}"}
    made = httpx.put(
        f"{server.addr}/api/v1/auth/approle/role/office",
        json={"bind_secret_id": False, "secret_id_bound_cidrs": ["10.1.2.0/24"]},
        headers=root,
    )
    assert made.status_code == 204, made.text
    role = httpx.get(f"{server.addr}/api/v1/auth/approle/role/office/role-id", headers=root)
    role_id: str = role.json()["data"]["role_id"]
    return role_id


def _remote_addrs(server: StrongroomServer) -> set[str]:
    entries = audit_entries(server.data_dir / "audit.log")
    return {entry["request"]["remote_addr"] for entry in entries}


def test_a_spoofed_forwarded_for_is_ignored(tmp_path: Path) -> None:
    server = StrongroomServer(tmp_path / "data").start()
    try:
        role_id = _bound_role(server)
        login = httpx.post(
            f"{server.addr}/api/v1/auth/approle/login", json={"role_id": role_id}, headers=SPOOF
        )
        assert login.status_code == 401, login.text
        with httpx.Client(base_url=server.addr) as client:  # quick: the budget refills
            statuses = [
                client.get(
                    "/api/v1/sys/policies/acl",
                    headers={"X-Forwarded-For": f"10.9.{i // 250}.{i % 250}"},
                ).status_code
                for i in range(200)
            ]
        assert 429 in statuses  # one budget for the socket's address, whatever the header says
        assert _remote_addrs(server) == {"127.0.0.1"}
    finally:
        server.stop()


def test_a_trusted_proxy_forwards_the_client_address(tmp_path: Path) -> None:
    server = StrongroomServer(tmp_path / "data", extra=["--trusted-proxy", "127.0.0.1/32"]).start()
    try:
        role_id = _bound_role(server)
        through_proxy = httpx.post(
            f"{server.addr}/api/v1/auth/approle/login", json={"role_id": role_id}, headers=SPOOF
        )
        assert through_proxy.status_code == 200, through_proxy.text
        # The client cannot prepend its own choice: the nearest untrusted hop is the client.
        chained = {"X-Forwarded-For": "10.1.2.3, 192.0.2.7"}
        spoofed = httpx.post(
            f"{server.addr}/api/v1/auth/approle/login", json={"role_id": role_id}, headers=chained
        )
        assert spoofed.status_code == 401
        assert {"10.1.2.3", "192.0.2.7"} <= _remote_addrs(server)
    finally:
        server.stop()


def test_a_production_server_refuses_a_chosen_root_token(tmp_path: Path) -> None:
    for args, env in (
        (["server", "--data-dir", str(tmp_path), "--root-token", "a"], {}),
        (["server", "--data-dir", str(tmp_path)], {"STRONGROOM_DEV_ROOT_TOKEN": "a"}),
    ):
        result = CliRunner().invoke(cli, args, env=env)
        assert result.exit_code == 2
        assert "dev mode only" in result.output
    assert not (tmp_path / "strongroom.db").exists()


def test_loopback_and_ipv6_addresses() -> None:
    assert _is_loopback("127.0.0.2") and _is_loopback("::1") and _is_loopback("localhost")
    assert not _is_loopback("0.0.0.0") and not _is_loopback("10.0.0.1")
    assert _url_host("::1") == "[::1]" and _url_host("127.0.0.1") == "127.0.0.1"
