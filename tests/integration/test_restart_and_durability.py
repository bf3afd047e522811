"""Dev mode persists across restarts without an unseal step, and kill -9 loses no acked write."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx

from tests.helpers import StrongroomServer


def test_dev_server_restarts_with_data_and_the_same_root_token(tmp_path: Path) -> None:
    first = StrongroomServer(tmp_path / "data", root_token=None).start()
    token = first.root_token
    assert token and token.startswith("srs.")
    try:
        httpx.put(
            f"{first.addr}/api/v1/secrets/secret/keep",
            json={"data": {"v": "kept"}},
            headers={"Authorization": f"Bearer {token}"},
        ).raise_for_status()
    finally:
        first.stop()
    second = StrongroomServer(tmp_path / "data", root_token=None).start()
    try:
        assert second.root_token == token
        response = httpx.get(
            f"{second.addr}/api/v1/secrets/secret/keep",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.json()["data"] == {"v": "kept"}
    finally:
        second.stop()


def test_kill_9_during_writes_loses_no_acknowledged_write(tmp_path: Path) -> None:
    server = StrongroomServer(tmp_path / "data").start()
    headers = {"Authorization": f"Bearer {server.root_token}"}
    acknowledged: list[tuple[str, int]] = []
    stop = threading.Event()

    def writer(worker: int) -> None:
        with httpx.Client(base_url=server.addr, headers=headers, timeout=5) as http:
            for i in range(100_000):
                if stop.is_set():
                    return
                path = f"/api/v1/secrets/secret/dur/w{worker}/{i % 50}"
                try:
                    response = http.put(path, json={"data": {"i": i}})
                except httpx.HTTPError:
                    return
                if response.status_code == 200:
                    acknowledged.append((f"dur/w{worker}/{i % 50}", response.json()["version"]))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(2.0)
    server.kill()
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    assert len(acknowledged) > 50
    restarted = StrongroomServer(tmp_path / "data").start()
    try:
        with httpx.Client(base_url=restarted.addr, headers=headers) as http:
            latest: dict[str, int] = {}
            for path, version in acknowledged:
                latest[path] = max(version, latest.get(path, 0))
            for path, version in latest.items():
                response = http.get(f"/api/v1/secrets/secret/{path}", params={"version": version})
                assert response.status_code == 200, (path, version, response.text)
    finally:
        restarted.stop()
