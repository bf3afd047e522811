"""A write is answered only once its audit entries are on disk (issue 22, 2): sixteen writers
through the Vault API, the server killed with SIGKILL among them; every write that was answered
has its request and response entries in the log, and its version in the store after a restart.
The writes are group-committed (store/group_commit.py): many share one commit."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import httpx

from tests.helpers import StrongroomServer

ROOT = "ack-root"


def test_no_acknowledged_write_without_its_audit_entries(tmp_path: Path) -> None:
    server = StrongroomServer(tmp_path / "data", ROOT).start()
    acknowledged: dict[str, str] = {}  # request id -> path
    stop = threading.Event()

    def writer(worker: int) -> None:
        with httpx.Client(base_url=server.addr, headers={"X-Vault-Token": ROOT}, timeout=5) as api:
            for i in range(10_000):
                if stop.is_set():
                    return
                path = f"ack/w{worker}-{i}"
                try:
                    answer = api.post(f"/v1/secret/data/{path}", json={"data": {"n": str(i)}})
                except httpx.HTTPError:
                    return  # the server is gone
                if answer.status_code == 200:
                    acknowledged[answer.json()["request_id"]] = path

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(16)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 300 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.process is not None
    server.process.send_signal(signal.SIGKILL)
    stop.set()
    for thread in threads:
        thread.join()
    server.stop()  # reaps the killed process and closes its log
    assert len(acknowledged) >= 300
    entries = [
        json.loads(line)
        for line in (server.data_dir / "audit.log").read_bytes().splitlines()
        if line.endswith(b"}")
    ]
    responses = {e["request_id"] for e in entries if e.get("type") == "response"}
    requests = {e["request_id"] for e in entries if e.get("type") == "request"}
    missing = [rid for rid in acknowledged if rid not in responses or rid not in requests]
    assert missing == [], f"{len(missing)} acknowledged writes without their audit entries"
    server.start()
    try:
        with httpx.Client(base_url=server.addr, headers={"X-Vault-Token": ROOT}) as api:
            for path in acknowledged.values():
                assert api.get(f"/v1/secret/data/{path}").status_code == 200, path
    finally:
        server.stop()
