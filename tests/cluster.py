"""Several real strongroom server processes on one PostgreSQL, as an operator runs them: each
node with its own data directory, audit file and node name, one shared root key file, and a
database the test can restart (tests/integration/test_cluster.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.helpers import PostgresServer, free_port, stop_process


class Node:
    """``strongroom server`` (production mode, kms seal on a shared key file) on a free port."""

    def __init__(self, work: Path, name: str, store_url: str, key_file: Path) -> None:
        self.name = name
        self.data_dir = work / name
        self.port = free_port()
        self.addr = f"http://127.0.0.1:{self.port}"
        self.log_path = work / f"{name}.log"
        self.argv = [
            sys.executable,
            "-m",
            "strongroom",
            "server",
            "--data-dir",
            str(self.data_dir),
            "--port",
            str(self.port),
            "--store-url",
            store_url,
            "--seal",
            "kms",
            "--key-file",
            str(key_file),
            "--audit-file",
            str(self.data_dir / "audit.log"),
            "--node-name",
            name,
            "--scheduler-interval",
            "0.5",
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Node:
        """Started, and answering (any status: an uninitialized node answers 501)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT, env=env
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"node {self.name} exited: {self.log_path.read_text()}")
            try:
                httpx.get(f"{self.addr}/healthz", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"node {self.name} did not answer in 30 s")

    def health(self) -> int:
        try:
            return httpx.get(f"{self.addr}/v1/sys/health", timeout=1).status_code
        except httpx.HTTPError:
            return 0

    def stop(self) -> None:
        stop_process(self.process, grace=15)


HAPROXY_CONFIG = Path(__file__).parents[1] / "docs" / "haproxy.cfg"


def haproxy_config(nodes: list[Node], port: int) -> str:
    """docs/haproxy.cfg as it is, listening on ``port``, with ``nodes`` as its servers."""
    config = HAPROXY_CONFIG.read_text().replace("bind 127.0.0.1:8200", f"bind 127.0.0.1:{port}")
    head, rest = config.split("    # servers: begin\n")
    _, tail = rest.split("    # servers: end\n")
    servers = "".join(f"    server {n.name} 127.0.0.1:{n.port} check\n" for n in nodes)
    return head + servers + tail


def restart_postgres(postgres: PostgresServer) -> None:
    """A fast restart: every session ends (locks, listeners, pooled connections)."""
    postgres.restart()


def wait_for(check: object, seconds: float, what: str) -> float:
    """Poll ``check()`` until it is true; the seconds it took."""
    assert callable(check)
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if check():
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {seconds} s")
