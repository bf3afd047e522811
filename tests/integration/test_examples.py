"""The runnable example in examples/, run as real processes: locally and against a server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from strongroom.client import Client
from tests.helpers import StrongroomServer

EXAMPLE = Path(__file__).parents[2] / "examples" / "token_worker.py"


def _run(role: str, tmp_path: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        [
            sys.executable,
            str(EXAMPLE),
            role,
            "--db",
            str(tmp_path / "app.db"),
            "--keys",
            str(tmp_path / "kms.key"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    return result.stdout


def _env(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}, **extra}


def test_example_with_the_local_kms(tmp_path: Path) -> None:
    assert "sealed 2 tokens" in _run("web", tmp_path, _env())
    out = _run("worker", tmp_path, _env())
    assert "opened 2 tokens" in out and "...mple" in out
    assert b"gho_alice_example" not in (tmp_path / "app.db").read_bytes()


def test_example_against_a_server(tmp_path: Path, live_server: StrongroomServer) -> None:
    with Client(live_server.addr, live_server.root_token) as admin:
        admin.create_namespace("app-tokens")
        admin.write_policy(
            "app-web", 'path "sys/kms/encrypt/app-tokens" { capabilities = ["update"] }'
        )
        admin.write_policy(
            "app-worker", 'path "sys/kms/decrypt/app-tokens" { capabilities = ["update"] }'
        )
        web = admin.create_token(["app-web"]).token
        worker = admin.create_token(["app-worker"]).token
    _run("web", tmp_path, _env(STRONGROOM_ADDR=live_server.addr, STRONGROOM_TOKEN=web))
    out = _run("worker", tmp_path, _env(STRONGROOM_ADDR=live_server.addr, STRONGROOM_TOKEN=worker))
    assert "opened 2 tokens" in out
    failed = subprocess.run(
        [sys.executable, str(EXAMPLE), "worker", "--db", str(tmp_path / "app.db")],
        capture_output=True,
        text=True,
        env=_env(STRONGROOM_ADDR=live_server.addr, STRONGROOM_TOKEN=web),
        timeout=60,
    )
    assert failed.returncode != 0 and "permission denied" in failed.stderr
