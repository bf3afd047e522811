"""The rotation CLI, labels, passwords, key lifecycle, metrics and the SDK watcher against a real
server process; every rotation step lands in the audit log."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from strongroom.cli.main import cli
from strongroom.client import Client, SecretWatcher
from strongroom.compat.aws.secretsmanager.schedules import RotationSchedule
from strongroom.rotation.schedule import Schedule
from strongroom.types import SecretValue
from tests.helpers import StrongroomServer


def _runner(server: StrongroomServer, token: str | None = None) -> Callable[..., Result]:
    runner = CliRunner()
    env = {"STRONGROOM_ADDR": server.addr, "STRONGROOM_TOKEN": token or server.root_token or ""}

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)

    return invoke


def test_rotate_cli_end_to_end(live_server: StrongroomServer) -> None:
    run = _runner(live_server)
    assert run("kv", "put", "secret/rot/api", "api_key=first", "user=svc").exit_code == 0
    configured = run(
        "rotate",
        "configure",
        "secret/rot/api",
        "--rotator",
        "random",
        "--interval",
        "30d",
        "--param",
        "key=api_key",
        "--params-json",
        '{"policy": {"length": 40, "classes": ["lower", "digits"]}}',
    )
    assert configured.exit_code == 0, configured.output
    assert "rotates with random" in configured.output
    now = run("rotate", "now", "secret/rot/api")
    assert now.exit_code == 0 and "version 2 is current" in now.output
    new = run("kv", "get", "--field", "api_key", "secret/rot/api").output.strip()
    assert len(new) == 40 and set(new) <= set("abcdefghijklmnopqrstuvwxyz0123456789")
    previous = run("kv", "get", "--stage", "previous", "--field", "api_key", "secret/rot/api")
    assert previous.output.strip() == "first"
    assert run("kv", "get", "--field", "user", "secret/rot/api").output.strip() == "svc"
    status = json.loads(run("rotate", "status", "secret/rot/api", "-f", "json").output)
    assert status["labels"] == {"current": 2, "previous": 1}
    listing = run("rotate", "status")
    assert "secret/rot/api" in listing.output
    history = json.loads(run("rotate", "history", "secret/rot/api", "-f", "json").output)
    assert [h["result"] for h in history] == ["success"]
    cancel = run("rotate", "cancel", "secret/rot/api")
    assert cancel.exit_code == 0 and "no run was in progress" in cancel.output
    label = run("kv", "label", "secret/rot/api", "blue", "1")
    assert "blue=1" in label.output
    bad = run("rotate", "configure", "secret/rot/api", "--rotator", "nope", "--interval", "1d")
    assert bad.exit_code == 2 and "unknown rotator" in bad.output
    assert run("rotate", "now", "secret/rot/none").exit_code == 4
    assert run("rotate", "remove", "secret/rot/api").exit_code == 0


def test_gen_password_and_the_server_generator(live_server: StrongroomServer) -> None:
    run = _runner(live_server)
    result = run("gen", "password", "-l", "24", "--classes", "digits,upper", "-n", "3")
    lines = result.stdout.split()
    assert result.exit_code == 0 and len(lines) == 3
    assert all(len(p) == 24 and p.isalnum() and not p.islower() for p in lines)
    bad = run("gen", "password", "--classes", "emoji")
    assert bad.exit_code == 2 and "classes" in bad.output
    with Client(live_server.addr, live_server.root_token) as client:
        assert len(client.random_password(length=50, classes=["lower"])) == 50


def test_keys_retire_rotate_root_and_metrics(live_server: StrongroomServer) -> None:
    run = _runner(live_server)
    assert run("namespace", "create", "lifecycle").exit_code == 0
    assert run("kv", "put", "lifecycle/a", "v=1").exit_code == 0
    assert run("keys", "rotate", "lifecycle").exit_code == 0
    refused = run("keys", "retire", "lifecycle", "1")
    assert refused.exit_code == 5 and "rewrap" in refused.output
    assert run("keys", "rewrap", "lifecycle").exit_code == 0
    assert run("keys", "retire", "lifecycle", "1").exit_code == 0
    root = run("keys", "rotate-root", "-f", "json")
    assert root.exit_code == 0 and json.loads(root.output)["keyrings"] >= 2
    assert run("kv", "get", "--field", "v", "lifecycle/a").output.strip() == "1"
    headers = {"Authorization": f"Bearer {live_server.root_token}"}
    metrics = httpx.get(f"{live_server.addr}/api/v1/sys/metrics", headers=headers)
    assert metrics.status_code == 200
    assert 'strongroom_keyring_terms{namespace="lifecycle"} 1.0' in metrics.text
    # Every request the server answered, by surface, operation (the route's id) and status.
    read = 'strongroom_requests_total{operation="readSecret"'
    assert f'{read},status="200",surface="native"}}' in metrics.text
    assert "strongroom_request_seconds_bucket{" in metrics.text
    assert "lifecycle/a" not in metrics.text.replace('secret="lifecycle/', "")
    assert httpx.get(f"{live_server.addr}/api/v1/sys/metrics").status_code == 401
    assert httpx.get(f"{live_server.addr}/metrics", headers=headers).text.startswith("# HELP")
    assert httpx.get(f"{live_server.addr}/metrics").status_code == 401


def test_the_watcher_follows_rotations_and_steps_are_audited(
    live_server: StrongroomServer,
) -> None:
    with Client(live_server.addr, live_server.root_token) as client:
        client.put("secret", "rot/watched", {"password": "one"})
        client.configure_rotation("secret", "rot/watched", "random", interval="1d")
        changes: list[str] = []
        watcher = SecretWatcher(
            client,
            "secret",
            "rot/watched",
            interval=0.1,
            on_change=lambda v: changes.append(v.data["password"]),
        )
        assert watcher.refresh() is False
        client.rotate_now("secret", "rot/watched")
        assert watcher.refresh() is True
        assert changes == [watcher.value.data["password"]] and changes[0] != "one"
        token = client.rotation_status("secret", "rot/watched").history[0]["token"]
    audit = Path(live_server.data_dir / "audit.log").read_text()
    steps = [
        json.loads(line)["rotation"]["step"]
        for line in audit.splitlines()
        if token in line and '"rotation"' in line and '"done"' in line
    ]
    assert steps == ["create", "set", "test", "finish"]


def test_the_watcher_survives_a_failing_callback_and_retries_it(
    live_server: StrongroomServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 20, 24: an on_change that raises is retried with the value it missed, and the
    watcher keeps following later changes; the log names the exception's type only."""
    with Client(live_server.addr, live_server.root_token) as client:
        client.put("secret", "rot/flaky", {"password": "v1-watch-canary"})
        seen: list[str] = []
        failures = [RuntimeError("reconnect failed with v2-watch-canary"), OSError("again")]

        def on_change(value: SecretValue) -> None:
            if failures:
                raise failures.pop(0)
            seen.append(str(value.data["password"]))

        with SecretWatcher(client, "secret", "rot/flaky", interval=0.05, on_change=on_change):
            client.put("secret", "rot/flaky", {"password": "v2-watch-canary"})
            _until(lambda: seen == ["v2-watch-canary"])
            client.put("secret", "rot/flaky", {"password": "v3-watch-canary"})
            _until(lambda: seen == ["v2-watch-canary", "v3-watch-canary"])
    logged = caplog.text
    assert "RuntimeError" in logged and "OSError" in logged
    assert "watch-canary" not in logged


def _until(check: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.02)


@pytest.mark.parametrize(
    ("native", "aws"),
    [
        ("0 3 * * MON", "cron(0 3 ? * MON *)"),
        ("@daily", "cron(0 0 * * ? *)"),
        ("30 2 1 JAN *", "cron(30 2 1 JAN ? *)"),
    ],
)
def test_one_cron_parser_for_both_dialects(
    live_server: StrongroomServer, native: str, aws: str
) -> None:
    """Issue 20, 26: the native --cron takes names and shortcuts as the AWS dialect takes
    names, and both read the same times (one parser: croniter)."""
    run = _runner(live_server)
    path = f"secret/rot/cron-{abs(hash(native))}"
    assert run("kv", "put", path, "password=x").exit_code == 0
    configured = run("rotate", "configure", path, "--rotator", "random", "--cron", native)
    assert configured.exit_code == 0, configured.output
    shown = json.loads(run("--format", "json", "rotate", "status", path).output)
    next_native = Schedule(cron=native).next_after(time.time(), "k")
    next_aws = Schedule(cron=RotationSchedule.parse(aws).cron).next_after(time.time(), "k")
    assert next_native == next_aws
    assert shown["schedule"]["cron"] == native
    refused = run("rotate", "configure", path, "--rotator", "random", "--cron", "0 3 * * FUNDAY")
    assert refused.exit_code != 0 and "not valid" in refused.output
