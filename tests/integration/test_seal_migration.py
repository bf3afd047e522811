"""``operator migrate-seal``: the root key moves from the local KMS (or a shamir seal) to
SoftHSM2, then to AWS KMS (moto), online; an interrupted move resumes, after a restart too; other
nodes follow, or seal themselves when they lack the new provider."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from strongroom.auth import Identity
from strongroom.config import ServerSettings
from strongroom.errors import BadRequest, Conflict, KeyProviderUnavailable, Sealed
from strongroom.keyproviders.root import MigratingProvider
from strongroom.server.node import Node
from tests.helpers import MotoServer, SoftHsm, StrongroomServer

ROOT = Identity.system()


def _aws_uri(moto: MotoServer) -> str:
    kms: Any = moto.kms()
    arn = kms.create_key()["KeyMetadata"]["Arn"]
    return f"awskms:{arn}?endpoint={moto.endpoint}&region=us-east-1"


def _hsm_uri(softhsm: SoftHsm) -> str:
    from strongroom.keyproviders.registry import ProviderRegistry

    token = softhsm.take()
    uri = softhsm.uri(token, "root")
    ProviderRegistry().build(uri).rotate()  # type: ignore[attr-defined]
    return uri


def _fill(node: Node) -> None:
    runtime = node.require_runtime()
    runtime.namespaces.create(ROOT, "prod")
    for i in range(50):
        runtime.secrets.put(ROOT, "prod", f"app/{i}", {"v": str(i)})
    runtime.audit.enable("trail", "store")
    runtime.tokens.create(("default",), display_name="app", token="hvs.app-token-1")


def _check(node: Node) -> None:
    runtime = node.require_runtime()
    assert runtime.secrets.get(ROOT, "prod", "app/49").data == {"v": "49"}
    assert runtime.tokens.lookup("hvs.app-token-1") is not None  # the token HMAC key survived
    assert runtime.audit.sink("trail") is not None


def test_the_root_key_moves_local_to_softhsm_to_aws_kms(
    moto: MotoServer, softhsm: SoftHsm, tmp_path: Path
) -> None:
    providers = (("hsm", _hsm_uri(softhsm)), ("aws", _aws_uri(moto)))
    settings = ServerSettings(tmp_path / "data", dev=True, root_token="r", key_providers=providers)
    node = Node(settings)
    try:
        _fill(node)
        with pytest.raises(BadRequest, match="no key provider 'nowhere'"):
            node.migrate_seal("nowhere")
        result = node.migrate_seal("hsm")
        assert result.provider == "hsm" and result.key_ref.startswith("pkcs11:")
        assert result.rewrapped == 1 + 2 + 1 + 2  # record key, token keys, audit, keyrings
        _check(node)
        with pytest.raises(BadRequest, match="already in key provider 'hsm'"):
            node.migrate_seal("hsm")
    finally:
        node.close()
    (tmp_path / "data" / "kms.key").unlink()  # the local KMS is no longer needed at all
    node = Node(settings)
    try:
        _check(node)
        assert node.migrate_seal(providers[1][1]).provider == "aws"  # by URI
    finally:
        node.close()
    node = Node(settings)
    try:
        _check(node)
        assert node.require_runtime().provider.key_ref.startswith("awskms:arn:aws:kms:")
    finally:
        node.close()
    lacking = ServerSettings(tmp_path / "data", dev=True, root_token="r")
    with pytest.raises(KeyProviderUnavailable, match="start the server with --key-provider aws="):
        Node(lacking)


def test_an_interrupted_migration_resumes_after_a_restart(
    softhsm: SoftHsm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    providers = (("hsm", _hsm_uri(softhsm)), ("hsm2", _hsm_uri(softhsm)))
    settings = ServerSettings(tmp_path / "data", dev=True, root_token="r", key_providers=providers)
    node = Node(settings)
    try:
        _fill(node)
        runtime = node.require_runtime()

        def cut_short() -> int:
            raise KeyProviderUnavailable("the lights went out")

        monkeypatch.setattr(runtime.keyrings, "rewrap_under_root", lambda **_: cut_short())
        with pytest.raises(KeyProviderUnavailable):
            node.migrate_seal("hsm")
        monkeypatch.undo()
    finally:
        node.close()
    node = Node(settings)  # both providers open: the new wraps, the old opens what is left
    try:
        assert isinstance(node.require_runtime().provider.current, MigratingProvider)  # type: ignore[attr-defined]
        _check(node)
        with pytest.raises(Conflict, match="a seal migration to 'hsm' is under way"):
            node.migrate_seal("hsm2")
        node.migrate_seal("hsm")
    finally:
        node.close()
    (tmp_path / "data" / "kms.key").unlink()
    node = Node(settings)
    try:
        _check(node)
    finally:
        node.close()


def test_from_a_shamir_seal(softhsm: SoftHsm, tmp_path: Path) -> None:
    """A seal operators unseal by hand becomes one that unseals itself, even when the move is
    interrupted: then the old shares open what the new provider does not yet wrap."""
    providers = (("hsm", _hsm_uri(softhsm)),)
    settings = ServerSettings(
        tmp_path / "data", seal="shamir", key_providers=providers, scheduler_interval=0
    )
    node = Node(settings)
    shares, _ = node.initialize(3, 2)
    try:
        node.unseal(shares[1], node.unseal(shares[0]).nonce)
        _fill(node)
        runtime = node.require_runtime()
        real = runtime.audit.rewrap_keys
        runtime.audit.rewrap_keys = lambda: (_ for _ in ()).throw(  # type: ignore[method-assign]
            KeyProviderUnavailable("cut")
        )
        with pytest.raises(KeyProviderUnavailable):
            node.migrate_seal("hsm")
        runtime.audit.rewrap_keys = real  # type: ignore[method-assign]
    finally:
        node.close()
    node = Node(settings)
    try:
        status = node.status()
        assert status.sealed and status.type == "kms" and status.threshold == 2
        with pytest.raises(Sealed):
            node.require_runtime()
        node.unseal(shares[0], node.unseal(shares[2]).nonce)
        _check(node)
        node.migrate_seal("hsm")
    finally:
        node.close()
    node = Node(settings)  # unsealed by the HSM, no share asked
    try:
        assert not node.status().sealed
        _check(node)
    finally:
        node.close()


def test_other_nodes_follow_or_seal_themselves(softhsm: SoftHsm, tmp_path: Path) -> None:
    hsm = (("hsm", _hsm_uri(softhsm)),)
    first = Node(ServerSettings(tmp_path / "data", dev=True, root_token="r", key_providers=hsm))
    follower = Node(ServerSettings(tmp_path / "data", dev=True, root_token="r", key_providers=hsm))
    lacking = Node(ServerSettings(tmp_path / "data", dev=True, root_token="r"))
    try:
        _fill(first)
        first.migrate_seal("hsm")
        for node in (follower, lacking):  # the store's event, as another process gets it
            node._follow_seal("seal", "")
        runtime = follower.require_runtime()
        assert runtime.provider.key_ref.startswith("pkcs11:")
        runtime.namespaces.create(ROOT, "made-by-follower")  # wrapped by the HSM
        runtime.secrets.put(ROOT, "made-by-follower", "x", {"v": "1"})
        with pytest.raises(Sealed):
            lacking.require_runtime()
    finally:
        for node in (first, follower, lacking):
            node.close()
    (tmp_path / "data" / "kms.key").unlink()
    again = Node(ServerSettings(tmp_path / "data", dev=True, root_token="r", key_providers=hsm))
    try:
        assert again.require_runtime().secrets.get(ROOT, "made-by-follower", "x").data == {"v": "1"}
    finally:
        again.close()


def test_migrate_seal_from_the_cli(softhsm: SoftHsm, tmp_path: Path) -> None:
    hsm = _hsm_uri(softhsm)
    extra = ["--key-provider", f"hsm={hsm}"]
    server = StrongroomServer(tmp_path / "data", "cli-root", extra=extra).start()
    env = {**os.environ, "STRONGROOM_ADDR": server.addr, "STRONGROOM_TOKEN": "cli-root"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "strongroom", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)

    try:
        assert cli("kv", "put", "secret/app/db", "password=s3cret").returncode == 0
        moved = cli("operator", "migrate-seal", "--to", "hsm", "--format", "json")
        assert moved.returncode == 0, moved.stderr
        assert json.loads(moved.stdout)["key_ref"].startswith("pkcs11:")
        wrong = cli("operator", "migrate-seal", "--to", "hsm", "--format", "json")
        assert wrong.returncode == 2 and "already" in json.loads(wrong.stderr)["error"]["message"]
    finally:
        server.stop()
    (tmp_path / "data" / "kms.key").unlink()
    again = StrongroomServer(tmp_path / "data", "cli-root", extra=extra).start()
    env["STRONGROOM_ADDR"] = again.addr
    try:
        read = cli("kv", "get", "--field", "password", "secret/app/db")
        assert read.stdout.strip() == "s3cret", read.stderr
        audit = (tmp_path / "data" / "audit.log").read_text()
        assert audit.count('"operation":"migrateSeal"') == 4  # two requests, two responses
    finally:
        again.stop()
