"""A full data disk, on a real server (issue 20, 20): a write answers 507 storage_full saying
what to do, never a 500; nothing half-written is left; reads go on; and once there is room
again, writes do too. And a server whose console cannot be written still serves."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import StrongroomServer, free_port, small_disk


@pytest.fixture
def small_data_disk(tmp_path: Path) -> Iterator[Path]:
    with small_disk(tmp_path / "data-disk", "8m") as mount:
        yield mount


def test_a_full_data_disk_is_507_and_recovers(tmp_path: Path, small_data_disk: Path) -> None:
    server = StrongroomServer(
        small_data_disk / "data", extra=["--audit-file", str(tmp_path / "audit.log")]
    ).start()
    headers = {"Authorization": f"Bearer {server.root_token}"}
    try:
        with httpx.Client(base_url=server.addr, headers=headers, timeout=30) as api:
            api.put("/api/v1/secrets/secret/kept", json={"data": {"v": "kept"}}).raise_for_status()
            filler = small_data_disk / "filler"
            with filler.open("wb", buffering=0) as handle, contextlib.suppress(OSError):
                while True:
                    handle.write(b"\0" * 65536)
            answers = []
            for i in range(300):  # until the database needs a page the disk does not have
                answer = api.put(
                    f"/api/v1/secrets/secret/big{i}", json={"data": {"v": "x" * 60_000}}
                )
                answers.append(answer.status_code)
                if answer.status_code != 200:
                    break
            assert answers[-1] == 507, answers
            error = answer.json()["error"]
            assert error["code"] == "storage_full" and "free space" in error["message"]
            failed = f"big{len(answers) - 1}"
            assert 500 not in answers
            # reads go on; the refused write left nothing
            assert api.get("/api/v1/secrets/secret/kept").json()["data"] == {"v": "kept"}
            assert api.get(f"/api/v1/secrets/secret/{failed}").status_code == 404
            vault = httpx.post(
                f"{server.addr}/v1/secret/data/vault-full",
                headers={"X-Vault-Token": str(server.root_token)},
                json={"data": {"v": "x" * 60_000}},
            )
            assert vault.status_code == 507 and "free space" in vault.text
            filler.unlink()
            again = api.put(f"/api/v1/secrets/secret/{failed}", json={"data": {"v": "now"}})
            assert again.status_code == 200, again.text
    finally:
        server.stop()


def test_a_server_whose_console_fails_still_serves(tmp_path: Path) -> None:
    """Its output goes to a pipe nobody reads, closed at once: the banner and the logs fail."""
    port = free_port()
    argv = [sys.executable, "-m", "strongroom", "server", "--dev", "--access-log"]
    read, write = os.pipe()
    os.close(read)  # every write to the console now fails (EPIPE)
    process = subprocess.Popen(
        [*argv, "--data-dir", str(tmp_path / "data"), "--port", str(port)],
        stdout=write,
        stderr=write,
    )
    os.close(write)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, "the server stopped when its console failed"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            assert time.monotonic() < deadline
            time.sleep(0.1)
        for _ in range(5):
            assert httpx.get(f"http://127.0.0.1:{port}/v1/sys/health", timeout=5).status_code == 200
        assert process.poll() is None
    finally:
        process.terminate()
        process.wait(timeout=15)
