"""The CLI against a real running server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from strongroom.cli.main import cli
from tests.helpers import StrongroomServer


@pytest.fixture
def run(live_server: StrongroomServer) -> object:
    runner = CliRunner()
    env = {"STRONGROOM_ADDR": live_server.addr, "STRONGROOM_TOKEN": live_server.root_token or ""}

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(cli, list(args), env=env, input=input, catch_exceptions=False)

    return invoke


def test_put_get_field_json_and_patch(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cert = tmp_path / "cert.pem"
    cert.write_text("-----BEGIN CERT-----")
    result = run("kv", "put", "secret/cli/db", "user=app", "password=pw1", f"cert=@{cert}")
    assert result.exit_code == 0 and "version 1" in result.output
    assert run("kv", "get", "--field", "password", "secret/cli/db").output == "pw1\n"
    doc = json.loads(run("kv", "get", "--format", "json", "secret/cli/db").output)
    assert doc["data"] == {"user": "app", "password": "pw1", "cert": "-----BEGIN CERT-----"}
    assert (
        json.loads(run("--format", "json", "kv", "get", "secret/cli/db").output)["metadata"][
            "version"
        ]
        == 1
    )
    assert run("kv", "patch", "secret/cli/db", "password=pw2").exit_code == 0
    assert run("kv", "get", "-f", "json", "--version", "1", "secret/cli/db").exit_code == 0
    assert run("kv", "get", "--field", "password", "secret/cli/db").output == "pw2\n"
    assert run("kv", "put", "secret/cli/stdin", "-", input='{"token": "t1"}').exit_code == 0
    assert run("kv", "get", "--field", "token", "secret/cli/stdin").output == "t1\n"
    assert run("kv", "put", "secret/cli/val", "token=-", input="from-stdin").exit_code == 0
    assert run("kv", "get", "--field", "token", "secret/cli/val").output == "from-stdin\n"


def test_list_search_metadata_history_and_deletion(run) -> None:  # type: ignore[no-untyped-def]
    for name in ("a", "b", "deep/c"):
        run("kv", "put", f"secret/clilist/{name}", "k=v")
    assert run("kv", "list", "secret/clilist").output.split() == ["a", "b", "deep/"]
    recursive = json.loads(run("kv", "list", "-r", "-f", "json", "secret/clilist").output)["keys"]
    assert recursive == ["clilist/a", "clilist/b", "clilist/deep/c"]
    assert run("kv", "metadata", "put", "-c", "owner=payments", "secret/clilist/b").exit_code == 0
    found = run(
        "kv", "search", "secret", "--prefix", "clilist", "-m", "owner=payments"
    ).output.split()
    assert found == ["clilist/b"]
    assert "owner" in run("kv", "metadata", "get", "secret/clilist/b").output
    run("kv", "put", "secret/clilist/a", "k=v2")
    assert run("kv", "delete", "secret/clilist/a").exit_code == 0
    assert run("kv", "get", "secret/clilist/a").exit_code == 4
    assert run("kv", "undelete", "-v", "2", "secret/clilist/a").exit_code == 0
    assert run("kv", "rollback", "--version", "1", "secret/clilist/a").exit_code == 0
    assert run("kv", "get", "--field", "k", "secret/clilist/a").output == "v\n"
    assert run("kv", "destroy", "-v", "1", "secret/clilist/a").exit_code == 0
    history = json.loads(run("kv", "history", "-f", "json", "secret/clilist/a").output)["versions"]
    assert [v["state"] for v in history] == ["destroyed", "live", "live"]
    assert run("kv", "delete", "--all", "secret/clilist/a").exit_code == 0
    assert run("kv", "get", "secret/clilist/a").exit_code == 4


def test_namespaces_and_keys_with_progress(run) -> None:  # type: ignore[no-untyped-def]
    assert run("namespace", "create", "clins").exit_code == 0
    assert run("namespace", "create", "clins").exit_code == 5
    for i in range(30):
        run("kv", "put", f"clins/s{i}", f"i={i}")
    assert "term 2" in run("keys", "rotate", "clins").output
    result = run("keys", "rewrap", "clins", "--batch-size", "7")
    assert result.exit_code == 0 and "rewrapped 30 versions; 0 left" in result.output
    status = json.loads(run("keys", "status", "-f", "json", "clins").output)["terms"]
    assert [(t["term"], t["versions_in_use"]) for t in status] == [(1, 0), (2, 30)]
    assert "clins" in run("namespace", "list").output
    assert run("namespace", "delete", "clins", "--yes").exit_code == 0
    assert run("kv", "get", "clins/s1").exit_code == 4


def test_exit_codes_mean_something(run, live_server: StrongroomServer) -> None:  # type: ignore[no-untyped-def]
    assert run("kv", "get", "secret/cli/none").exit_code == 4
    assert run("kv", "put", "secret/cli//bad", "a=b").exit_code == 2
    assert run("kv", "put", "secret/cli/cas", "--cas", "3", "a=b").exit_code == 5  # conflict
    runner = CliRunner()
    denied = runner.invoke(
        cli,
        ["kv", "get", "secret/cli/db"],
        env={"STRONGROOM_ADDR": live_server.addr, "STRONGROOM_TOKEN": "bad"},
    )
    assert denied.exit_code == 3 and "Error:" in denied.output
    down = runner.invoke(
        cli,
        ["kv", "get", "secret/x"],
        env={"STRONGROOM_ADDR": "http://127.0.0.1:9", "STRONGROOM_TOKEN": "t"},
    )
    assert down.exit_code == 7 and "cannot reach" in down.output


def _commands(
    group: click.Group, prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], click.Command]]:
    found: list[tuple[tuple[str, ...], click.Command]] = []
    for name, command in group.commands.items():
        found.append(((*prefix, name), command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, (*prefix, name)))
    return found


@pytest.mark.parametrize("path", [p for p, _ in _commands(cli)], ids=" ".join)
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0
    command = dict(_commands(cli))[path]
    if not isinstance(command, click.Group):
        assert "Example" in result.output, f"strongroom {' '.join(path)} --help has no example"


def test_console_script_runs(live_server: StrongroomServer) -> None:
    env = {
        **os.environ,
        "STRONGROOM_ADDR": live_server.addr,
        "STRONGROOM_TOKEN": live_server.root_token or "",
    }
    result = subprocess.run(
        [sys.executable, "-m", "strongroom", "kv", "list", "secret"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0


@pytest.mark.parametrize("path", ["app/../x/y", "a/./b", "a//b", "../c", "a/b/"])
def test_our_own_clients_refuse_non_canonical_paths(  # type: ignore[no-untyped-def]
    run, live_server: StrongroomServer, path: str
) -> None:
    """Issue 9, finding 16: `kv put secret/app/../x/y` wrote secret/x/y (httpx resolved it)."""
    from strongroom.client import Client
    from strongroom.errors import BadRequest

    result = run("kv", "put", f"secret/{path}", "k=v")
    assert result.exit_code == 2 and "path must" in result.output
    with Client(live_server.addr, live_server.root_token) as client:
        with pytest.raises(BadRequest, match="path must"):
            client.put("secret", path, {"k": "v"})
        for name in ("..", "."):
            with pytest.raises(BadRequest):
                client.write_policy(name, 'path "x" { capabilities = ["read"] }')
        assert client.list_recursive("secret", "x") == []
        assert client.list_recursive("secret", "c") == []


def test_json_output_and_json_errors_everywhere(  # type: ignore[no-untyped-def]
    run, live_server: StrongroomServer, tmp_path: Path
) -> None:
    """Issue 9, finding 27: -f json was ignored by write/delete commands and by errors."""
    policy_file = tmp_path / "p.hcl"
    policy_file.write_text('path "secret/data/x/*" { capabilities = ["read"] }\n')
    for args in (
        ("policy", "write", "jsonpol", str(policy_file)),
        ("policy", "delete", "jsonpol"),
        ("approle", "write", "jsonrole", "--policy", "default"),
        ("approle", "delete", "jsonrole"),
        ("userpass", "write", "jsonuser", "--password-stdin", "--policy", "default"),
        ("userpass", "delete", "jsonuser"),
        ("audit", "enable", "jsonsink", "--type", "store"),
        ("audit", "disable", "jsonsink"),
    ):
        result = run(*args[:2], "--format", "json", *args[2:], input="pw-for-json\n")
        assert result.exit_code == 0, (args, result.output)
        assert isinstance(json.loads(result.output), dict), args
    env = {"STRONGROOM_ADDR": live_server.addr, "STRONGROOM_TOKEN": live_server.root_token or ""}
    for argv, code in (
        (["kv", "get", "--format", "json", "secret/does/not/exist"], 4),
        (["--format", "json", "kv", "get", "secret/does/not/exist"], 4),
        (["kv", "get", "--format", "json"], 2),  # a usage error
    ):
        done = subprocess.run(
            [sys.executable, "-m", "strongroom", *argv],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == code, (argv, done.stderr)
        assert set(json.loads(done.stderr)["error"]) == {"code", "message"}, done.stderr


def test_a_cas_conflict_exits_5(run) -> None:  # type: ignore[no-untyped-def]
    assert run("kv", "put", "secret/casx", "a=1").exit_code == 0
    result = run("kv", "put", "--cas", "0", "secret/casx", "a=2")
    assert result.exit_code == 5, result.output


def test_server_flags_that_cannot_work_are_refused_at_start(tmp_path: Path) -> None:
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path / "d")]
    file_seal = runner.invoke(cli, ["server", *data, "--seal", "file", "--audit-file", "a.log"])
    assert file_seal.exit_code == 2 and "--seal-key-file" in file_seal.output
    no_audit = runner.invoke(cli, ["server", *data])
    assert no_audit.exit_code == 2 and "--audit-file" in no_audit.output
    audited = ["--audit-file", str(tmp_path / "a.log")]
    dev_key = runner.invoke(cli, ["server", *data, *audited, "--aws-access-key", "id:secret"])
    assert dev_key.exit_code == 2 and "dev mode" in dev_key.output  # a fixed key is dev's only
    account = runner.invoke(cli, ["server", "--dev", *data, "--aws-account-id", "12345"])
    assert account.exit_code == 2 and "12 digits" in account.output
    assert not (tmp_path / "d").exists()


def test_the_token_file_is_not_written_through_a_planted_symlink(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from strongroom.cli.auth import save_token

    target = tmp_path / "token"
    monkeypatch.setenv("STRONGROOM_TOKEN_FILE", str(target))
    victim = tmp_path / "victim"
    (tmp_path / "token.tmp").symlink_to(victim)  # the old fixed temporary name
    save_token("srs.secret-value")
    assert not victim.exists()
    assert target.read_text().strip() == "srs.secret-value"
    assert oct(target.stat().st_mode & 0o777) == "0o600"


def test_a_core_only_install_says_which_extra_the_command_needs() -> None:
    """Issue 20, 25: the command of an install without the cli extra (click blocked here, as it
    is absent there) names the extra instead of failing on a missing module."""
    code = (
        "import runpy, sys; sys.modules['click'] = None; "
        "runpy.run_module('strongroom', run_name='__main__')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "--help"], capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 1
    assert b"pip install 'strongroom[cli]'" in done.stderr
    assert b"Traceback" not in done.stderr
