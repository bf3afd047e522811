"""``strongroom migrate from-vault`` against a real OpenBao holding a few thousand secrets: every
version's data and state, custom metadata and policies arrive; a dry run writes nothing; a run
killed half-way is finished by running it again."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from strongroom.client import Client
from strongroom.errors import StrongroomError
from tests.helpers import OpenBaoServer, StrongroomServer

SECRETS = 2500
ROOT = "migrate-root-token"


def _fill(openbao: OpenBaoServer) -> None:
    """SECRETS secrets in folders; every 10th has a second version, every 50th a deleted first
    version, every 100th a destroyed one, every 25th custom metadata; two policies."""
    headers = {"X-Vault-Token": openbao.root_token}
    http = httpx.Client(base_url=f"{openbao.addr}/v1", headers=headers)  # thread-safe, one pool

    def write(i: int) -> None:
        path = f"mig/team{i % 7}/app{i}"
        http.post(f"/big/data/{path}", json={"data": {"n": str(i), "v": "1"}})
        if i % 10 == 0:
            http.post(f"/big/data/{path}", json={"data": {"n": str(i), "v": "2"}})
        if i % 50 == 0:
            http.post(f"/big/delete/{path}", json={"versions": [1]})
        if i % 100 == 0:
            http.post(f"/big/destroy/{path}", json={"versions": [2]})
        if i % 25 == 0:
            http.post(f"/big/metadata/{path}", json={"custom_metadata": {"owner": f"t{i % 7}"}})

    httpx.post(
        f"{openbao.addr}/v1/sys/mounts/big",
        json={"type": "kv", "options": {"version": "2"}},
        headers=headers,
    ).raise_for_status()
    with http, ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(SECRETS)))
    for name, text in {
        "team-read": 'path "big/data/mig/*" {\n  capabilities = ["read"]\n}\n',
        "team-list": 'path "big/metadata/mig/*" {\n  capabilities = ["list"]\n}\n',
    }.items():
        httpx.put(
            f"{openbao.addr}/v1/sys/policies/acl/{name}", json={"policy": text}, headers=headers
        ).raise_for_status()


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBaoServer]:
    server = OpenBaoServer(tmp_path_factory.mktemp("bao-source")).start()
    try:
        _fill(server)
        yield server
    finally:
        server.stop()


def _migrate(
    target: StrongroomServer, source: OpenBaoServer, *extra: str
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "STRONGROOM_ADDR": target.addr, "STRONGROOM_TOKEN": ROOT}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "strongroom",
            "--format",
            "json",
            "migrate",
            "from-vault",
            "--addr",
            source.addr,
            "--token",
            source.root_token,
            "--mount",
            "big:copied",
            *extra,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _run(target: StrongroomServer, source: OpenBaoServer, *extra: str) -> dict[str, Any]:
    process = _migrate(target, source, *extra)
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err.decode()
    report: dict[str, Any] = json.loads(out)
    return report


def test_migrate_a_few_thousand_secrets_resumably(source: OpenBaoServer, tmp_path: Path) -> None:
    target = StrongroomServer(tmp_path / "data", ROOT).start()
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(target.stop)
        dry = _run(target, source, "--dry-run")
        assert dry["secrets"] == SECRETS and dry["versions_written"] == SECRETS + SECRETS // 10
        client = Client(target.addr, ROOT)
        cleanup.callback(client.close)
        assert "copied" not in [n.name for n in client.namespaces()]

        # Interrupted part-way: killed once it has copied some hundreds of secrets.
        process = _migrate(target, source)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with contextlib.suppress(StrongroomError):  # the namespace is not there yet
                if len(client.list_recursive("copied", "mig")) >= 300:
                    break
            time.sleep(0.2)
        process.kill()
        process.communicate(timeout=30)  # reaps it and closes its pipes
        partial = len(client.list_recursive("copied", "mig"))
        assert partial > 0

        started = time.monotonic()
        report = _run(target, source)
        elapsed = time.monotonic() - started
        assert report["failed"] == [] and report["secrets"] == SECRETS
        assert report["up_to_date"] >= partial - 4  # the (parallel) secrets in flight when killed
        assert sorted(report["policies"]) == ["team-list", "team-read"]
        print(f"resumed migration of {SECRETS} secrets took {elapsed:.1f} s")

        again = _run(target, source)
        assert again["versions_written"] == 0 and again["up_to_date"] == SECRETS

        for i in (0, 1, 10, 25, 50, 99, 100, SECRETS - 1):
            path = f"mig/team{i % 7}/app{i}"
            meta = client.metadata("copied", path)
            states = {v.version: v.state for v in meta.versions}
            expected_versions = 2 if i % 10 == 0 else 1
            assert meta.current_version == expected_versions, path
            assert states[1] == ("deleted" if i % 50 == 0 else "live"), path
            if i % 100 == 0:
                assert states[2] == "destroyed"
            elif i % 10 == 0:
                assert client.get("copied", path).data == {"n": str(i), "v": "2"}
            if states[1] == "live":
                assert client.get("copied", path, version=1).data == {"n": str(i), "v": "1"}
            assert meta.custom_metadata == ({"owner": f"t{i % 7}"} if i % 25 == 0 else {})
        # Issue 20, 29: the policies follow the mount to its new namespace.
        assert "copied/data/mig/*" in client.read_policy("team-read")
        assert "big/" not in client.read_policy("team-read")
        assert sorted(report["rewritten_policy_paths"]) == [
            "team-list: big/metadata/mig/* -> copied/metadata/mig/*",
            "team-read: big/data/mig/* -> copied/data/mig/*",
        ]


def test_the_source_token_is_never_taken_from_the_environment(tmp_path: Path) -> None:
    """Issue 20, 28: VAULT_TOKEN often holds the strongroom token (the README sets it so); it
    must never be sent to another server. Without --token the command refuses to run."""
    env = {
        **os.environ,
        "VAULT_TOKEN": "srs.the-strongroom-token",
        "VAULT_ADDR": "http://127.0.0.1:9",
        "STRONGROOM_ADDR": "http://127.0.0.1:9",
    }
    argv = [sys.executable, "-m", "strongroom", "migrate", "from-vault", "--mount", "secret"]
    done = subprocess.run(
        [*argv, "--addr", "http://127.0.0.1:9"], env=env, capture_output=True, timeout=60
    )
    assert done.returncode == 2 and b"--token" in done.stderr, done.stderr
    done = subprocess.run([*argv, "--token", "t"], env=env, capture_output=True, timeout=60)
    assert done.returncode == 2 and b"--addr" in done.stderr, done.stderr
