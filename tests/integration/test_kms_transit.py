"""The Transit key provider, held to the provider conformance suite against two implementations
of Vault's Transit API: a real OpenBao, and strongroom's own. And a server whose root of trust
is an OpenBao Transit key: it starts unsealed, keeps serving when OpenBao goes away, and refuses
to start while OpenBao is unreachable."""

from __future__ import annotations

import os
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from strongroom.errors import DecryptionError, KeyProviderUnavailable
from strongroom.keyproviders.provider import KeyProvider
from strongroom.keyproviders.registry import ProviderRegistry
from strongroom.testing.kms_conformance import CHECKS
from tests.helpers import (
    OpenBaoServer,
    PersistentOpenBao,
    StrongroomServer,
    bao_binary,
    check_provider_outage,
    free_port,
)

_POLICY = (
    'path "transit/encrypt/strongroom-root" {\n  capabilities = ["update"]\n}\n'
    'path "transit/decrypt/strongroom-root" {\n  capabilities = ["update"]\n}\n'
)


def _prepare(addr: str, root: str, work: Path) -> Path:
    """A Transit key, a policy that allows only encrypt and decrypt with it, and a token file
    holding a token of that policy."""
    headers = {"X-Vault-Token": root}
    with httpx.Client(base_url=f"{addr}/v1", headers=headers) as http:
        if "transit/" not in http.get("/sys/mounts").json()["data"]:
            http.post("/sys/mounts/transit", json={"type": "transit"}).raise_for_status()
        http.post("/transit/keys/strongroom-root", json={}).raise_for_status()
        http.put("/sys/policies/acl/strongroom-seal", json={"policy": _POLICY}).raise_for_status()
        made = http.post("/auth/token/create", json={"policies": ["strongroom-seal"]})
        made.raise_for_status()
    token_file = work / "transit-token"
    token_file.write_text(made.json()["auth"]["client_token"])
    token_file.chmod(0o600)
    return token_file


def _uri(addr: str, token_file: Path, **extra: str) -> str:
    hostport = addr.removeprefix("http://")
    query = "&".join(
        [f"token_file={token_file}", "scheme=http", *(f"{k}={v}" for k, v in extra.items())]
    )
    return f"transit://{hostport}/transit/strongroom-root?{query}"


@pytest.fixture(scope="module")
def openbao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBaoServer]:
    """An OpenBao of this module's own: the keys and roles made here must not show in the
    session's shared one, which the differential tests compare listings of."""
    server = OpenBaoServer(tmp_path_factory.mktemp("bao-kms")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def strongroom_transit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    server = StrongroomServer(tmp_path_factory.mktemp("sr-transit") / "data", "sr-root").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["openbao", "strongroom"])
def make_provider(
    request: pytest.FixtureRequest,
    openbao: OpenBaoServer,
    strongroom_transit: StrongroomServer,
    tmp_path: Path,
) -> Iterator[Callable[[], KeyProvider]]:
    if request.param == "openbao":
        addr, root = openbao.addr, openbao.root_token
    else:
        addr, root = strongroom_transit.addr, "sr-root"
    token_file = _prepare(addr, root, tmp_path)
    built: list[KeyProvider] = []

    def make() -> KeyProvider:
        provider = ProviderRegistry().build(_uri(addr, token_file))
        built.append(provider)
        return provider

    yield make
    for provider in built:
        provider.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_transit_provider_conformance(
    make_provider: Callable[[], KeyProvider], check: Callable[[Callable[[], KeyProvider]], None]
) -> None:
    check(make_provider)


def test_errors_name_what_to_fix_and_leak_nothing(openbao: OpenBaoServer, tmp_path: Path) -> None:
    token_file = _prepare(openbao.addr, openbao.root_token, tmp_path)
    uri = _uri(openbao.addr, token_file)
    first = ProviderRegistry().build(uri)
    wrapped = first.wrap(b"k" * 32, context={"a": "b"})
    token = token_file.read_text()
    token_file.write_text("not-a-valid-token")
    fresh = ProviderRegistry().build(uri)
    with pytest.raises(KeyProviderUnavailable) as refused:
        fresh.unwrap(wrapped, context={"a": "b"})
    assert "refused decrypt" in refused.value.message and token not in refused.value.message
    token_file.write_text(token)  # re-read after a refusal: an agent may rotate the file
    assert fresh.unwrap(wrapped, context={"a": "b"}) == b"k" * 32
    with pytest.raises(DecryptionError):
        fresh.unwrap(b"vault:v1:AAAA", context={"a": "b"})
    nowhere = ProviderRegistry().build(
        _uri(f"http://127.0.0.1:{free_port()}", token_file, timeout="2")
    )
    with pytest.raises(KeyProviderUnavailable) as unreachable:
        nowhere.wrap(b"k" * 32, context={})
    assert "unreachable" in unreachable.value.message
    assert "httpx" not in unreachable.value.message.lower()
    for provider in (first, fresh, nowhere):
        provider.close()  # type: ignore[attr-defined]


def test_approle_login(openbao: OpenBaoServer, tmp_path: Path) -> None:
    _prepare(openbao.addr, openbao.root_token, tmp_path)
    headers = {"X-Vault-Token": openbao.root_token}
    with httpx.Client(base_url=f"{openbao.addr}/v1", headers=headers) as http:
        if "approle/" not in http.get("/sys/auth").json()["data"]:
            http.post("/sys/auth/approle", json={"type": "approle"}).raise_for_status()
        http.post("/auth/approle/role/strongroom", json={"token_policies": ["strongroom-seal"]})
        role_id = http.get("/auth/approle/role/strongroom/role-id").json()["data"]["role_id"]
        secret_id = http.post("/auth/approle/role/strongroom/secret-id").json()["data"]["secret_id"]
    (tmp_path / "role_id").write_text(role_id)
    (tmp_path / "secret_id").write_text(secret_id)
    hostport = openbao.addr.removeprefix("http://")
    uri = (
        f"transit://{hostport}/transit/strongroom-root?scheme=http"
        f"&role_id_file={tmp_path / 'role_id'}&secret_id_file={tmp_path / 'secret_id'}"
    )
    provider = ProviderRegistry().build(uri)
    assert provider.unwrap(provider.wrap(b"r" * 32, context={}), context={}) == b"r" * 32
    provider.close()  # type: ignore[attr-defined]


def test_a_server_sealed_by_openbao_transit(tmp_path: Path) -> None:
    """OpenBao stopped after unseal: reads and writes go on; a start while it is down is
    refused, saying why; OpenBao back (raft storage, same port): the server starts."""
    bao = PersistentOpenBao(tmp_path / "bao").start()
    token_file = _prepare(bao.addr, bao.root_token, tmp_path)
    seal = ["--seal-provider", _uri(bao.addr, token_file, timeout="3")]
    try:
        check_provider_outage(
            tmp_path / "data", seal, bao.stop, bao.restart, says=("transit", "unreachable")
        )
    finally:
        bao.stop()


def test_a_short_lived_token_is_kept_renewed(openbao: OpenBaoServer, tmp_path: Path) -> None:
    """A renewable token with a 3 s TTL, used, then idle for twice its TTL: still valid,
    because the provider renewed it (renew-self) before it expired."""
    token_file = _prepare(openbao.addr, openbao.root_token, tmp_path)
    headers = {"X-Vault-Token": openbao.root_token}
    made = httpx.post(
        f"{openbao.addr}/v1/auth/token/create",
        headers=headers,
        json={"policies": ["strongroom-seal"], "ttl": "3s", "explicit_max_ttl": "120s"},
    )
    short = made.json()["auth"]["client_token"]
    token_file.write_text(short)
    provider = ProviderRegistry().build(_uri(openbao.addr, token_file))
    wrapped = provider.wrap(b"k" * 32, context={})
    time.sleep(6.5)
    assert provider.unwrap(wrapped, context={}) == b"k" * 32
    looked = httpx.post(
        f"{openbao.addr}/v1/auth/token/lookup", headers=headers, json={"token": short}
    )
    assert looked.status_code == 200 and looked.json()["data"]["ttl"] > 0
    provider.close()  # type: ignore[attr-defined]


def test_tls_with_a_custom_ca(tmp_path: Path) -> None:
    """OpenBao over TLS with a certificate of its own CA: the provider trusts that CA through
    ca_cert=, and refuses the server without it (the system's CAs do not know it)."""
    certs = tmp_path / "certs"
    certs.mkdir()
    port = free_port()
    log = (tmp_path / "bao-tls.log").open("ab")
    process = subprocess.Popen(
        [
            bao_binary(),
            "server",
            "-dev",
            "-dev-tls",
            f"-dev-tls-cert-dir={certs}",
            "-dev-root-token-id=tls-root",
            f"-dev-listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={"HOME": str(tmp_path), "PATH": os.environ.get("PATH", "")},
    )
    try:
        ca = certs / "vault-ca.pem"
        addr = f"https://127.0.0.1:{port}"
        trust = None
        deadline = time.monotonic() + 30
        while True:
            try:
                trust = trust or ssl.create_default_context(cafile=str(ca))
                if httpx.get(f"{addr}/v1/sys/health", verify=trust, timeout=1).status_code == 200:
                    break
            except (httpx.HTTPError, OSError):
                pass
            assert time.monotonic() < deadline, "OpenBao (TLS) did not start"
            time.sleep(0.1)
        headers = {"X-Vault-Token": "tls-root"}
        with httpx.Client(base_url=f"{addr}/v1", headers=headers, verify=trust) as http:
            http.post("/sys/mounts/transit", json={"type": "transit"}).raise_for_status()
            http.post("/transit/keys/strongroom-root", json={}).raise_for_status()
        token_file = tmp_path / "token"
        token_file.write_text("tls-root")
        base = f"transit://127.0.0.1:{port}/transit/strongroom-root?token_file={token_file}"
        trusting = ProviderRegistry().build(f"{base}&ca_cert={ca}")
        assert trusting.unwrap(trusting.wrap(b"t" * 32, context={}), context={}) == b"t" * 32
        untrusting = ProviderRegistry().build(f"{base}&timeout=3")
        with pytest.raises(KeyProviderUnavailable, match="unreachable"):
            untrusting.wrap(b"t" * 32, context={})
        for provider in (trusting, untrusting):
            provider.close()  # type: ignore[attr-defined]
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
