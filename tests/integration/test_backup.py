"""Backups on real servers (issue 21, 2): `strongroom operator backup` takes an encrypted
snapshot online, to a file or to S3 (moto's server); `operator restore` puts it into a new data
directory or PostgreSQL database, and a server started there serves the same secrets, policies
and tokens. A backup that was cut, changed, or opened with another root key restores nothing."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import (
    MotoServer,
    PostgresServer,
    StrongroomServer,
    aws_client,
    free_port,
    stop_process,
)

ROOT = "backup-root"
AUTH = {"Authorization": f"Bearer {ROOT}"}


def _cli(
    *args: str, server: StrongroomServer | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    if server is not None:
        environment |= {"STRONGROOM_ADDR": server.addr, "STRONGROOM_TOKEN": ROOT}
    return subprocess.run(
        [sys.executable, "-m", "strongroom", *args],
        env=environment | env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _fill(server: StrongroomServer) -> str:
    """Secrets with versions (one deleted), a policy and a token that carries it."""
    with httpx.Client(base_url=server.addr, headers=AUTH) as api:
        for i in range(30):
            api.put(f"/api/v1/secrets/secret/app/s{i}", json={"data": {"v": f"one-{i}"}})
        api.put("/api/v1/secrets/secret/app/s0", json={"data": {"v": "two-0"}})
        api.post("/api/v1/delete/secret/app/s1", json={"versions": [1]})
        api.put(
            "/api/v1/sys/policies/acl/reader",
            json={"policy": 'path "secret/data/app/*" { capabilities = ["read"] }'},
        ).raise_for_status()
        made = api.post("/api/v1/auth/token/create", json={"policies": ["reader"]})
        return str(made.json()["auth"]["client_token"])


def _check(server: StrongroomServer, token: str) -> None:
    user = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.addr, headers=user) as api:
        assert api.get("/api/v1/secrets/secret/app/s0").json()["data"] == {"v": "two-0"}
        assert api.get("/api/v1/secrets/secret/app/s29").json()["data"] == {"v": "one-29"}
        assert api.get("/api/v1/secrets/secret/app/s1").status_code == 404  # still deleted
        assert api.put("/api/v1/secrets/secret/app/s2", json={"data": {}}).status_code == 403
    verified = httpx.post(f"{server.addr}/api/v1/sys/audit/file/verify", headers=AUTH)
    assert verified.json()["data"]["ok"] is True  # a new chain, whole


def test_a_backup_restores_on_another_data_directory(tmp_path: Path) -> None:
    source = StrongroomServer(tmp_path / "a", ROOT).start()
    try:
        token = _fill(source)
        made = _cli("operator", "backup", str(tmp_path / "snap.srbk"), server=source)
        assert made.returncode == 0, made.stderr
        again = _cli("operator", "backup", str(tmp_path / "snap.srbk"), server=source)
        assert again.returncode != 0 and "never overwrites" in again.stderr
        denied = _cli(
            "operator", "backup", str(tmp_path / "no.srbk"), server=source, STRONGROOM_TOKEN=token
        )
        assert denied.returncode == 3 and not (tmp_path / "no.srbk").exists()
    finally:
        source.stop()
    snapshot = (tmp_path / "snap.srbk").read_bytes()
    assert oct((tmp_path / "snap.srbk").stat().st_mode)[-3:] == "600"
    assert b"one-29" not in snapshot and b"reader" not in snapshot  # values and records sealed
    target = tmp_path / "b"
    target.mkdir()
    shutil.copy(tmp_path / "a" / "kms.key", target / "kms.key")  # the key travels apart
    restored = _cli("operator", "restore", str(tmp_path / "snap.srbk"), "--data-dir", str(target))
    assert restored.returncode == 0, restored.stderr
    again = _cli("operator", "restore", str(tmp_path / "snap.srbk"), "--data-dir", str(target))
    assert again.returncode == 5 and "empty store" in again.stderr  # never into a used store
    server = StrongroomServer(target, ROOT).start()
    try:
        _check(server, token)
    finally:
        server.stop()


@pytest.mark.parametrize("damage", ["flip", "cut", "append", "other-key"])
def test_a_damaged_backup_restores_nothing(tmp_path: Path, damage: str) -> None:
    source = StrongroomServer(tmp_path / "a", ROOT).start()
    try:
        _fill(source)
        assert _cli("operator", "backup", str(tmp_path / "s.srbk"), server=source).returncode == 0
    finally:
        source.stop()
    path = tmp_path / "s.srbk"
    data = bytearray(path.read_bytes())
    target = tmp_path / "b"
    target.mkdir()
    shutil.copy(tmp_path / "a" / "kms.key", target / "kms.key")
    if damage == "flip":
        data[len(data) // 2] ^= 1
    elif damage == "cut":
        data = data[: len(data) - 40]
    elif damage == "append":
        data += data[-60:]
    else:
        other = StrongroomServer(tmp_path / "other", ROOT).start()
        other.stop()
        shutil.copy(tmp_path / "other" / "kms.key", target / "kms.key")
    path.write_bytes(bytes(data))
    refused = _cli("operator", "restore", str(path), "--data-dir", str(target))
    assert refused.returncode == 6, refused.stderr  # the one opaque decryption error
    assert "Traceback" not in refused.stderr
    server = StrongroomServer(target, ROOT).start()  # nothing half-restored: a fresh server
    try:
        answer = httpx.get(f"{server.addr}/api/v1/secrets/secret/app/s0", headers=AUTH)
        assert answer.status_code == 404
    finally:
        server.stop()


def test_a_backup_to_s3_and_from_postgres_to_postgres(
    tmp_path: Path, moto: MotoServer, postgres: PostgresServer
) -> None:
    s3: Any = aws_client("s3", moto.endpoint, "us-east-1", ("testing", "testing"))
    s3.create_bucket(Bucket="strongroom-backups")
    source = StrongroomServer(
        tmp_path / "a", ROOT, extra=["--store-url", postgres.fresh_database()]
    ).start()
    aws_env = {
        "AWS_ENDPOINT_URL": moto.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    try:
        token = _fill(source)
        made = _cli(
            "operator", "backup", "s3://strongroom-backups/nightly", server=source, **aws_env
        )
        assert made.returncode == 0, made.stderr
    finally:
        source.stop()
    listed = s3.list_objects_v2(Bucket="strongroom-backups", Prefix="nightly/")["Contents"]
    assert len(listed) == 1 and listed[0]["Key"].endswith(".srbk")
    body = s3.get_object(Bucket="strongroom-backups", Key=listed[0]["Key"])["Body"].read()
    (tmp_path / "from-s3.srbk").write_bytes(body)
    database = postgres.fresh_database()
    restored = _cli(
        "operator",
        "restore",
        str(tmp_path / "from-s3.srbk"),
        "--store-url",
        database,
        "--key-file",
        str(tmp_path / "a" / "kms.key"),
    )
    assert restored.returncode == 0, restored.stderr
    target = tmp_path / "b"
    target.mkdir()
    shutil.copy(tmp_path / "a" / "kms.key", target / "kms.key")
    server = StrongroomServer(target, ROOT, extra=["--store-url", database]).start()
    try:
        _check(server, token)
    finally:
        server.stop()


def test_scheduled_backups_keep_the_newest(tmp_path: Path) -> None:
    """--backup-dir/--backup-every/--backup-keep: the scheduler's leader writes a backup when
    the last is old enough and keeps the newest ones; each restores."""
    from strongroom.clock import ManualClock
    from strongroom.config import ServerSettings
    from strongroom.server.node import Node

    clock = ManualClock()
    settings = ServerSettings(
        tmp_path / "a",
        dev=True,
        root_token=ROOT,
        backup_dir=tmp_path / "backups",
        backup_every=3600,
        backup_keep=2,
    )
    node = Node(settings, clock)
    try:
        backups = node.require_runtime().services.backup
        written = [backups.run_due()]
        assert backups.run_due() is None  # not due yet
        for _ in range(3):
            clock.advance(3601)
            written.append(backups.run_due())
        kept = sorted(p.name for p in (tmp_path / "backups").iterdir())
        assert kept == sorted(Path(p).name for p in written[-2:] if p is not None)
        assert all(oct((tmp_path / "backups" / k).stat().st_mode)[-3:] == "600" for k in kept)
    finally:
        node.close()
    target = tmp_path / "b"
    target.mkdir()
    shutil.copy(tmp_path / "a" / "kms.key", target / "kms.key")
    newest = tmp_path / "backups" / kept[-1]
    assert _cli("operator", "restore", str(newest), "--data-dir", str(target)).returncode == 0


def test_a_server_takes_its_first_scheduled_backup_at_once(tmp_path: Path) -> None:
    extra = ["--backup-dir", str(tmp_path / "nightly"), "--backup-every", "24h"]
    server = StrongroomServer(tmp_path / "a", ROOT, extra=[*extra, "--scheduler-interval", "0.2"])
    server.start()
    try:
        deadline = time.monotonic() + 20
        while not list((tmp_path / "nightly").glob("strongroom-*.srbk")):
            assert time.monotonic() < deadline, "no scheduled backup"
            time.sleep(0.1)
    finally:
        server.stop()
    refused = _cli("server", "--dev", "--data-dir", str(tmp_path / "c"), "--backup-every", "1h")
    assert refused.returncode == 2 and "--backup-dir" in refused.stderr


class _SealedServer:
    """A production-style server (no --dev) with a file or shamir seal."""

    def __init__(self, data: Path, seal: str, key_file: Path) -> None:
        self.port = free_port()
        self.addr = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "strongroom", "server", "--data-dir", str(data)]
        command += ["--seal", seal, "--port", str(self.port)]
        command += ["--audit-file", str(data.parent / f"audit-{self.port}.log")]
        if seal == "file":
            command += ["--seal-key-file", str(key_file)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
        self._log = (data.parent / f"server-{self.port}.log").open("wb")
        self.process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, env=env
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{self.addr}/api/v1/sys/seal-status").raise_for_status()
                return
            except httpx.HTTPError:
                assert self.process.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)

    def status(self) -> dict[str, Any]:
        answer: dict[str, Any] = httpx.get(f"{self.addr}/api/v1/sys/seal-status").json()["data"]
        return answer

    def unseal(self, shares: list[str]) -> None:
        nonce = ""
        for share in shares:
            answer = httpx.post(
                f"{self.addr}/api/v1/sys/unseal", json={"key": share, "nonce": nonce}
            )
            nonce = answer.raise_for_status().json()["data"]["nonce"]
        assert self.status()["sealed"] is False

    def stop(self) -> None:
        stop_process(self.process)
        self._log.close()


@pytest.mark.parametrize("seal", ["file", "shamir"])
def test_file_and_shamir_sealed_backups_restore(tmp_path: Path, seal: str) -> None:
    """Their root keys live in the store, sealed under the unseal key: the backup carries that
    sealed copy, and the restore opens it with the seal key file or the unseal shares."""
    key_file = tmp_path / "seal.key"
    (tmp_path / "a").mkdir()
    source = _SealedServer(tmp_path / "a" / "data", seal, key_file)
    try:
        body = {"shares": 3, "threshold": 2} if seal == "shamir" else {}
        init = httpx.post(f"{source.addr}/api/v1/sys/init", json=body).json()["data"]
        shares, root = init.get("keys", []), init["root_token"]
        if seal == "shamir":
            source.unseal(shares[:2])
        api = {"Authorization": f"Bearer {root}"}
        httpx.post(f"{source.addr}/api/v1/namespaces", json={"name": "secret"}, headers=api)
        put = httpx.put(
            f"{source.addr}/api/v1/secrets/secret/sealed/db",
            json={"data": {"password": "sealed-canary"}},
            headers=api,
        )
        assert put.status_code == 200, put.text
        env = {"STRONGROOM_ADDR": source.addr, "STRONGROOM_TOKEN": root}
        made = _cli("operator", "backup", str(tmp_path / "snap.srbk"), **env)
        assert made.returncode == 0, made.stderr
    finally:
        source.stop()
    assert b"sealed-canary" not in (tmp_path / "snap.srbk").read_bytes()
    (tmp_path / "b").mkdir()
    target = tmp_path / "b" / "data"

    def restore(*extra: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
        command = [sys.executable, "-m", "strongroom", "operator", "restore"]
        command += [str(tmp_path / "snap.srbk"), "--data-dir", str(target), *extra]
        return subprocess.run(
            command, input=stdin, env=environment, capture_output=True, text=True, check=False
        )

    # Nothing to open it with, then the wrong key: nothing restored.
    assert restore().returncode == 2
    if seal == "file":
        wrong = tmp_path / "wrong.key"
        wrong.write_text(base64.b64encode(os.urandom(32)).decode())
        assert restore("--seal-key-file", str(wrong)).returncode == 6
        done = restore("--seal-key-file", str(key_file))
    else:
        assert restore(stdin=shares[0] + "\n").returncode == 6  # below the threshold
        done = restore(stdin="\n".join(shares[1:]) + "\n")
    assert done.returncode == 0, done.stderr
    restored = _SealedServer(target, seal, key_file)
    try:
        if seal == "shamir":
            assert restored.status()["sealed"] is True
            restored.unseal([shares[0], shares[2]])
        read = httpx.get(
            f"{restored.addr}/api/v1/secrets/secret/sealed/db",
            headers={"Authorization": f"Bearer {root}"},
        )
        assert read.json()["data"] == {"password": "sealed-canary"}
    finally:
        restored.stop()


def test_scheduled_backups_to_s3_keep_the_newest(
    tmp_path: Path, moto: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--backup-dir s3://BUCKET/PREFIX: each scheduled backup is one object, older ones are
    deleted past --backup-keep, and the newest restores."""
    from strongroom.clock import ManualClock
    from strongroom.config import ServerSettings
    from strongroom.server.node import Node

    aws_env = {
        "AWS_ENDPOINT_URL": moto.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for name, value in aws_env.items():
        monkeypatch.setenv(name, value)
    s3: Any = aws_client("s3", moto.endpoint, "us-east-1", ("testing", "testing"))
    s3.create_bucket(Bucket="scheduled-backups")
    s3.put_object(Bucket="scheduled-backups", Key="nightly/unrelated.txt", Body=b"kept")
    clock = ManualClock()
    settings = ServerSettings(
        tmp_path / "a",
        dev=True,
        root_token=ROOT,
        backup_dir="s3://scheduled-backups/nightly",
        backup_every=3600,
        backup_keep=2,
    )
    node = Node(settings, clock)
    try:
        backups = node.require_runtime().services.backup
        written = [backups.run_due()]
        for _ in range(2):
            clock.advance(3601)
            written.append(backups.run_due())
    finally:
        node.close()
    listed = s3.list_objects_v2(Bucket="scheduled-backups", Prefix="nightly/")["Contents"]
    keys = sorted(o["Key"] for o in listed)
    assert keys == sorted(
        [
            "nightly/unrelated.txt",
            *(str(w).removeprefix("s3://scheduled-backups/") for w in written[-2:]),
        ]
    )
    newest = s3.get_object(Bucket="scheduled-backups", Key=keys[-2])["Body"].read()
    (tmp_path / "newest.srbk").write_bytes(newest)
    target = tmp_path / "b"
    target.mkdir()
    shutil.copy(tmp_path / "a" / "kms.key", target / "kms.key")
    assert (
        _cli(
            "operator", "restore", str(tmp_path / "newest.srbk"), "--data-dir", str(target)
        ).returncode
        == 0
    )
