"""Starting a server, as an operator meets it (issue 20, 22 and 30): one server per data
directory, a taken port refused before any banner, and a damaged record never a traceback: a
damaged default policy leaves a server a root token can repair, the others told why (503)."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.helpers import StrongroomServer, free_port


def _serve(data_dir: Path, port: int, timeout: float = 30) -> subprocess.CompletedProcess[bytes]:
    """A dev server expected to exit by itself (refused), run to its end."""
    argv = [sys.executable, "-m", "strongroom", "server", "--dev", "--data-dir", str(data_dir)]
    return subprocess.run(
        [*argv, "--port", str(port)], capture_output=True, timeout=timeout, check=False
    )


def _refused_cleanly(done: subprocess.CompletedProcess[bytes], words: bytes) -> None:
    output = done.stdout + done.stderr
    assert done.returncode == 3, output
    assert words in output, output
    assert b"Traceback" not in output and b"root token" not in output  # no banner


def test_a_second_server_on_one_data_directory_exits_at_once(tmp_path: Path) -> None:
    first = StrongroomServer(tmp_path / "data", "startup-root").start()
    try:
        headers = {"Authorization": "Bearer startup-root"}
        httpx.put(f"{first.addr}/api/v1/secrets/secret/a", headers=headers, json={"data": {}})
        started = time.monotonic()
        second = _serve(tmp_path / "data", free_port())
        assert time.monotonic() - started < 15
        _refused_cleanly(second, b"uses " + str(tmp_path / "data").encode())
        httpx.put(f"{first.addr}/api/v1/secrets/secret/b", headers=headers, json={"data": {}})
        verified = httpx.post(f"{first.addr}/api/v1/sys/audit/file/verify", headers=headers)
        assert verified.json()["data"]["ok"] is True
    finally:
        first.stop()


def test_a_taken_port_is_refused_before_a_banner(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        _refused_cleanly(_serve(tmp_path / "data", taken.getsockname()[1]), b"is in use")


def test_a_damaged_default_policy_leaves_a_server_root_can_repair(tmp_path: Path) -> None:
    server = StrongroomServer(tmp_path / "data", "repair-root").start()
    root = {"Authorization": "Bearer repair-root"}
    try:
        httpx.put(
            f"{server.addr}/api/v1/sys/policies/acl/app",
            headers=root,
            json={"policy": 'path "secret/data/*" { capabilities = ["read"] }'},
        ).raise_for_status()
        httpx.put(
            f"{server.addr}/api/v1/secrets/secret/app", headers=root, json={"data": {"k": "v"}}
        ).raise_for_status()
        made = httpx.post(
            f"{server.addr}/api/v1/auth/token/create", headers=root, json={"policies": ["app"]}
        )
        user = {"Authorization": f"Bearer {made.json()['auth']['client_token']}"}
        default_text = httpx.get(
            f"{server.addr}/api/v1/sys/policies/acl/default", headers=root
        ).json()["data"]["policy"]
    finally:
        server.stop()
    with sqlite3.connect(tmp_path / "data" / "strongroom.db") as db:  # a database writer
        (value,) = db.execute(
            "SELECT value FROM records WHERE kind = 'policy' AND name = 'default'"
        ).fetchone()
        damaged = bytes(value[:-1]) + bytes([value[-1] ^ 1])
        db.execute(
            "UPDATE records SET value = ? WHERE kind = 'policy' AND name = 'default'", (damaged,)
        )
    server.start()  # starts, no traceback
    try:
        assert b"Traceback" not in server.log_path.read_bytes()
        refused = httpx.get(f"{server.addr}/api/v1/secrets/secret/app", headers=user)
        assert refused.status_code == 503, refused.text
        assert "strongroom policy write default" in refused.json()["error"]["message"]
        assert (
            httpx.get(f"{server.addr}/api/v1/secrets/secret/app", headers=root).status_code == 200
        )
        httpx.put(
            f"{server.addr}/api/v1/sys/policies/acl/default",
            headers=root,
            json={"policy": default_text},
        ).raise_for_status()
        healed = httpx.get(f"{server.addr}/api/v1/secrets/secret/app", headers=user)
        assert healed.status_code == 200 and healed.json()["data"] == {"k": "v"}
    finally:
        server.stop()


def test_a_moved_data_directory_starts_and_keeps_its_audit_chain(tmp_path: Path) -> None:
    """Issue 20, 14: the file sink's path is the node's (DATA_DIR/audit.log here), not the one
    the store remembers from before the move."""
    server = StrongroomServer(tmp_path / "before", "moved-root").start()
    headers = {"Authorization": "Bearer moved-root"}
    httpx.put(f"{server.addr}/api/v1/secrets/secret/m", headers=headers, json={"data": {}})
    server.stop()
    (tmp_path / "before").rename(tmp_path / "after")
    moved = StrongroomServer(tmp_path / "after", "moved-root").start()
    try:
        assert b"Traceback" not in moved.log_path.read_bytes()
        read = httpx.get(f"{moved.addr}/api/v1/secrets/secret/m", headers=headers)
        assert read.status_code == 200
        verified = httpx.post(f"{moved.addr}/api/v1/sys/audit/file/verify", headers=headers)
        assert verified.json()["data"]["ok"] is True, verified.text
        assert (tmp_path / "after" / "audit.log").stat().st_size > 0
    finally:
        moved.stop()


def test_a_server_started_from_a_config_file(tmp_path: Path) -> None:
    """Issue 21, 5: ``--config FILE`` (TOML) carries the flags; the command line wins; a key
    that names no flag is refused before anything starts."""
    port, other = free_port(), free_port()
    config = tmp_path / "strongroom.toml"
    config.write_text(
        f'dev = true\ndata-dir = "{tmp_path / "data"}"\nport = {other}\n'
        f'root-token = "config-root"\nno-access-log = true\nscheduler-interval = 0\n'
    )
    argv = [sys.executable, "-m", "strongroom", "server", "--config", str(config)]
    process = subprocess.Popen([*argv, "--port", str(port)], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None
            try:
                answer = httpx.get(
                    f"http://127.0.0.1:{port}/api/v1/namespaces",
                    headers={"Authorization": "Bearer config-root"},
                    timeout=1,
                )
                if answer.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert (tmp_path / "data" / "strongroom.db").exists()  # data-dir from the file
    finally:
        process.terminate()
        process.wait(timeout=15)
    config.write_text("dev = true\nprot = 8200\n")
    refused = subprocess.run(argv, capture_output=True, timeout=60, check=False)
    assert refused.returncode == 2
    assert b"'prot' is not a server flag" in refused.stderr
