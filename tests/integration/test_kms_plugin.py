"""``strongroom kms-plugin`` as kube-apiserver uses it (issue 21, 4): a real plugin process on a
Unix socket, called by a gRPC client compiled from the KMS v2 .proto (grpc_tools), backed by a
real server's Transit key: Status, Encrypt, Decrypt, a key rotation, a refused token, and a
strongroom outage and what comes back after it."""

from __future__ import annotations

import importlib
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import grpc
import hvac
import pytest
from grpc_tools import protoc  # type: ignore[import-untyped]

import strongroom.kmsplugin
from strongroom.kmsplugin.messages import _file
from tests.helpers import StrongroomServer, stop_process

ROOT = "kms-plugin-root"
DEK = b"0123456789abcdef0123456789abcdef"  # a 32-byte seed, as kube-apiserver sends
PROTO = Path(strongroom.kmsplugin.__file__).parent / "kms_v2.proto"


@pytest.fixture(scope="module")
def stubs(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModuleType, ModuleType]:
    """The client side, generated from the .proto file by protoc."""
    out = tmp_path_factory.mktemp("kms-stubs")
    status = protoc.main(
        [
            "protoc",
            f"-I{PROTO.parent}",
            f"--python_out={out}",
            f"--grpc_python_out={out}",
            PROTO.name,
        ]
    )
    assert status == 0
    sys.path.insert(0, str(out))
    try:
        return importlib.import_module("kms_v2_pb2"), importlib.import_module("kms_v2_pb2_grpc")
    finally:
        sys.path.remove(str(out))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    running = StrongroomServer(tmp_path_factory.mktemp("kms-plugin") / "data", ROOT).start()
    root = hvac.Client(url=running.addr, token=ROOT)
    root.sys.enable_secrets_engine("transit")
    root.secrets.transit.create_key("kubernetes")
    root.sys.create_or_update_acl_policy(
        "kms-plugin",
        'path "transit/encrypt/kubernetes" { capabilities = ["update"] }\n'
        'path "transit/decrypt/kubernetes" { capabilities = ["update"] }\n'
        'path "transit/keys/kubernetes" { capabilities = ["read"] }\n',
    )
    try:
        yield running
    finally:
        running.stop()


def _plugin_token(server: StrongroomServer, policies: list[str]) -> str:
    root = hvac.Client(url=server.addr, token=ROOT)
    token: str = root.auth.token.create(policies=policies, no_default_policy=True)["auth"][
        "client_token"
    ]
    return token


@pytest.fixture
def plugin(server: StrongroomServer, tmp_path: Path) -> Iterator[dict[str, Any]]:
    token_file = tmp_path / "token"
    token_file.write_text(_plugin_token(server, ["kms-plugin"]))
    socket = tmp_path / "kms.sock"
    log = (tmp_path / "plugin.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "strongroom",
            "--addr",
            server.addr,
            "kms-plugin",
            "--socket",
            str(socket),
            "--key",
            "kubernetes",
            "--token-file",
            str(token_file),
            "--timeout",
            "2",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")},
    )
    deadline = time.monotonic() + 20
    while not socket.exists():
        assert process.poll() is None, (tmp_path / "plugin.log").read_text()
        assert time.monotonic() < deadline, "the plugin did not open its socket"
        time.sleep(0.05)
    try:
        yield {"socket": socket, "token_file": token_file, "process": process}
    finally:
        stop_process(process)
        log.close()
        assert process.returncode == 0
        assert not socket.exists()


def _client(stubs: tuple[ModuleType, ModuleType], socket: Path) -> Any:
    channel = grpc.insecure_channel(f"unix://{socket}")
    return stubs[1].KeyManagementServiceStub(channel)


def test_the_descriptor_in_code_is_the_proto(stubs: tuple[ModuleType, ModuleType]) -> None:
    generated = stubs[0].DESCRIPTOR
    ours = {m.name: m for m in _file().message_type}
    assert set(ours) == set(generated.message_types_by_name)
    for name, message in generated.message_types_by_name.items():
        theirs = {(f.name, f.number, f.type, f.is_repeated) for f in message.fields}
        mine = {(f.name, f.number, f.type, f.label == f.LABEL_REPEATED) for f in ours[name].field}
        assert mine == theirs, name
    assert list(generated.services_by_name) == ["KeyManagementService"]


def test_status_encrypt_decrypt_and_rotation(
    stubs: tuple[ModuleType, ModuleType], plugin: dict[str, Any], server: StrongroomServer
) -> None:
    pb, _ = stubs
    kms = _client(stubs, plugin["socket"])
    assert stat.S_IMODE(plugin["socket"].stat().st_mode) == 0o600
    status = kms.Status(pb.StatusRequest())
    assert (status.version, status.healthz) == ("v2", "ok")
    first_key = status.key_id
    assert first_key.endswith(":v1")

    sealed = kms.Encrypt(pb.EncryptRequest(plaintext=DEK, uid="uid-1"))
    assert sealed.key_id == first_key
    assert sealed.ciphertext.startswith(b"vault:v1:") and DEK not in sealed.ciphertext
    opened = kms.Decrypt(
        pb.DecryptRequest(ciphertext=sealed.ciphertext, uid="uid-2", key_id=sealed.key_id)
    )
    assert opened.plaintext == DEK

    hvac.Client(url=server.addr, token=ROOT).secrets.transit.rotate_key("kubernetes")
    rotated = kms.Status(pb.StatusRequest()).key_id
    assert rotated.endswith(":v2") and rotated != first_key
    newer = kms.Encrypt(pb.EncryptRequest(plaintext=DEK, uid="uid-3"))
    assert newer.key_id == rotated and newer.ciphertext.startswith(b"vault:v2:")
    # What kube-apiserver stored under the old key still opens.
    assert (
        kms.Decrypt(pb.DecryptRequest(ciphertext=sealed.ciphertext, key_id=first_key)).plaintext
        == DEK
    )


def test_refusals_are_precise_and_leak_nothing(
    stubs: tuple[ModuleType, ModuleType], plugin: dict[str, Any], server: StrongroomServer
) -> None:
    pb, _ = stubs
    kms = _client(stubs, plugin["socket"])
    sealed = kms.Encrypt(pb.EncryptRequest(plaintext=DEK)).ciphertext
    for garbage in (b"not-a-ciphertext", b"\xff\xfe", b"vault:v1:AAAA"):
        with pytest.raises(grpc.RpcError) as refused:
            kms.Decrypt(pb.DecryptRequest(ciphertext=garbage))
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as empty:
        kms.Encrypt(pb.EncryptRequest(plaintext=b""))
    assert empty.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    # A token that may encrypt but not decrypt; the file is read again on each call.
    root = hvac.Client(url=server.addr, token=ROOT)
    root.sys.create_or_update_acl_policy(
        "encrypt-only", 'path "transit/encrypt/kubernetes" { capabilities = ["update"] }'
    )
    plugin["token_file"].write_text(_plugin_token(server, ["encrypt-only"]))
    with pytest.raises(grpc.RpcError) as denied:
        kms.Decrypt(pb.DecryptRequest(ciphertext=sealed))
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert DEK.decode() not in str(denied.value.details())
    assert kms.Status(pb.StatusRequest()).healthz != "ok"  # it may not read the key


def test_an_outage_and_the_return(
    stubs: tuple[ModuleType, ModuleType], plugin: dict[str, Any], server: StrongroomServer
) -> None:
    pb, _ = stubs
    kms = _client(stubs, plugin["socket"])
    sealed = kms.Encrypt(pb.EncryptRequest(plaintext=DEK))
    server.stop()
    try:
        status = kms.Status(pb.StatusRequest())
        assert status.healthz != "ok" and "unreachable" in str(status.healthz)
        with pytest.raises(grpc.RpcError) as down:
            kms.Encrypt(pb.EncryptRequest(plaintext=DEK))
        assert down.value.code() == grpc.StatusCode.UNAVAILABLE
        started = time.monotonic()
        with pytest.raises(grpc.RpcError) as down:
            kms.Decrypt(pb.DecryptRequest(ciphertext=sealed.ciphertext))
        assert down.value.code() == grpc.StatusCode.UNAVAILABLE
        assert time.monotonic() - started < 10
    finally:
        server.start()
    assert kms.Status(pb.StatusRequest()).healthz == "ok"
    assert kms.Decrypt(pb.DecryptRequest(ciphertext=sealed.ciphertext)).plaintext == DEK
