"""Password hashing under concurrent, unauthenticated logins (issue 9, finding 2), against a
real server process: no deadlock, no 500, bounded memory, and SIGTERM still stops it."""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from strongroom.auth.hash_queue import HASHES_RUNNING, HASHES_WAITING
from strongroom.crypto.password_hashing import verify_password
from tests.helpers import StrongroomServer

# Written by the earlier implementation (OpenSSL's Argon2id through cryptography) for "hunter2":
# old hashes keep verifying.
_OLD_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$AAECAwQFBgcICQoLDA0ODw==$"
    "i9IEUdjuDB2zbYs7gVvgymFH2HJWigtsFYT4gm0fp50="
)


def _peak_rss_mib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return 0


def test_eight_concurrent_logins_then_more_than_the_queue_holds(tmp_path: Path) -> None:
    server = StrongroomServer(tmp_path / "data").start()
    try:
        root = {"Authorization": f"Bearer {server.root_token}"}
        made = httpx.put(
            f"{server.addr}/api/v1/auth/userpass/users/alice",
            json={"password": "correct horse", "token_policies": ["default"]},
            headers=root,
        )
        assert made.status_code == 204, made.text

        def login(i: int) -> int:
            name = "alice" if i % 2 == 0 else f"nobody{i}"
            password = "correct horse" if i % 4 == 0 else "wrong"
            response = httpx.post(
                f"{server.addr}/api/v1/auth/userpass/login/{name}",
                json={"password": password},
                timeout=60,
            )
            return response.status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(login, range(8)))
        assert statuses.count(200) == 2 and statuses.count(401) == 6, statuses

        burst = 3 * (HASHES_RUNNING + HASHES_WAITING)
        with ThreadPoolExecutor(burst) as pool:
            statuses = list(pool.map(login, range(1, burst + 1)))
        assert set(statuses) <= {200, 401, 429}, statuses
        assert 429 in statuses  # more than the queue holds: refused at once, not queued
        assert login(0) == 200  # and hashing still works afterwards
        assert server.process is not None
        assert _peak_rss_mib(server.process.pid) < 600
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=20) in (0, -signal.SIGTERM)  # uvicorn re-raises it
    finally:
        server.stop()


def test_hashes_of_the_earlier_implementation_still_verify() -> None:
    assert verify_password("hunter2", _OLD_HASH)
    assert not verify_password("hunter3", _OLD_HASH)


def test_a_stored_hash_cannot_ask_for_unbounded_work() -> None:
    huge = _OLD_HASH.replace("m=65536,t=3,p=4", "m=67108864,t=3,p=4")
    assert not verify_password("hunter2", huge)
    assert not verify_password("hunter2", _OLD_HASH.replace("t=3", "t=100000"))
    assert not verify_password("hunter2", "$argon2id$v=19$garbage")
