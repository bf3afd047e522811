"""The AWS KMS and PKCS#11 key providers against real counterparts: moto's server mode (an
independent implementation of the AWS KMS API) and SoftHSM2 (a PKCS#11 token). Each is held to
the provider conformance suite, tested in an outage, and used as the target of a namespace
move that re-wraps the keyring with a handful of provider calls."""

from __future__ import annotations

import base64
import http.server
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from strongroom.auth import Identity
from strongroom.config import ServerSettings
from strongroom.errors import BadRequest, DecryptionError, KeyProviderUnavailable
from strongroom.keyproviders.awskms import MAX_ATTEMPTS
from strongroom.keyproviders.bounded import BoundedProvider
from strongroom.keyproviders.provider import KeyProvider, KeyProviderBase
from strongroom.keyproviders.registry import ProviderURI
from strongroom.server.node import Node
from strongroom.testing.kms_conformance import CHECKS
from tests.helpers import (
    SOFTHSM_MODULE,
    MotoServer,
    SoftHsm,
    StrongroomServer,
    built_provider,
    check_provider_outage,
    free_port,
)

ROOT = Identity.system()
_tokens = iter(range(10_000))


def _aws_key(moto: MotoServer, alias: str = "") -> str:
    """A new symmetric key in moto; its alias (made here) or its ARN."""
    kms: Any = moto.kms()
    arn = str(kms.create_key()["KeyMetadata"]["Arn"])
    if alias:
        kms.create_alias(AliasName=f"alias/{alias}", TargetKeyId=arn)
        return f"alias/{alias}"
    return arn


def _aws_uri(moto: MotoServer, key: str, **extra: str) -> str:
    query = "&".join(
        [f"endpoint={moto.endpoint}", "region=us-east-1", *(f"{k}={v}" for k, v in extra.items())]
    )
    return f"awskms:{key}?{query}"


def _hsm_provider(softhsm: SoftHsm, token: str, key: str = "root", **extra: str) -> Any:
    """The PKCS#11 provider itself, inside the time bound every built provider gets."""
    provider: Any = built_provider(softhsm.uri(token, key, **extra))
    assert isinstance(provider, BoundedProvider)
    return provider.inner


@pytest.fixture(params=["moto", "softhsm2"])
def make_provider(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], KeyProvider]]:
    if request.param == "moto":
        moto: MotoServer = request.getfixturevalue("moto")
        uri = _aws_uri(moto, _aws_key(moto, alias=f"conformance-{next(_tokens)}"))
    else:
        softhsm: SoftHsm = request.getfixturevalue("softhsm")
        token = softhsm.take()
        _hsm_provider(softhsm, token).rotate()  # the key's first version
        uri = softhsm.uri(token, "root")
    yield lambda: built_provider(uri)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_provider_conformance(
    make_provider: Callable[[], KeyProvider], check: Callable[[Callable[[], KeyProvider]], None]
) -> None:
    check(make_provider)


# -- AWS KMS


def test_aws_key_ref_is_the_arn_and_context_is_the_encryption_context(moto: MotoServer) -> None:
    arn = _aws_key(moto)
    kms: Any = moto.kms()
    kms.create_alias(AliasName="alias/ref-check", TargetKeyId=arn)
    provider = built_provider(_aws_uri(moto, "alias/ref-check"))
    assert provider.key_ref == f"awskms:{arn}"  # not the alias: a re-pointed alias swaps nothing
    wrapped = provider.wrap(b"k" * 32, context={"purpose": "namespace-keyring", "namespace": "p"})
    blob = wrapped[3 : 3 + int.from_bytes(wrapped[1:3], "big")]
    # KMS itself binds the context: the data key opens only with the same EncryptionContext.
    context = {"purpose": "namespace-keyring", "namespace": "p"}
    assert len(kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)["Plaintext"]) == 32
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={**context, "namespace": "q"})


def test_aws_errors_say_what_to_fix_and_leak_nothing(moto: MotoServer) -> None:
    kms: Any = moto.kms()
    arn = _aws_key(moto)
    provider = built_provider(_aws_uri(moto, arn))
    wrapped = provider.wrap(b"k" * 32, context={})
    key_id = arn.rsplit("/", 1)[1]  # moto's DisableKey takes no ARN (AWS's does)
    kms.disable_key(KeyId=key_id)
    with pytest.raises(KeyProviderUnavailable, match="is Disabled; enable it"):
        built_provider(_aws_uri(moto, arn)).unwrap(wrapped, context={})
    kms.enable_key(KeyId=key_id)
    with pytest.raises(KeyProviderUnavailable, match="no AWS KMS key alias/none"):
        built_provider(_aws_uri(moto, "alias/none")).wrap(b"k", context={})
    nowhere = f"awskms:{arn}?endpoint=http://127.0.0.1:{free_port()}&region=us-east-1&timeout=1"
    with pytest.raises(KeyProviderUnavailable) as unreachable:
        built_provider(nowhere).wrap(b"k", context={})
    assert "unreachable" in unreachable.value.message
    for leak in ("botocore", "boto3", "Traceback", "testing"):
        assert leak not in unreachable.value.message
    other = built_provider(_aws_uri(moto, _aws_key(moto)))
    with pytest.raises(DecryptionError):  # another key's blob: the opaque error
        other.unwrap(wrapped, context={})


_THROTTLED = (400, {"__type": "ThrottlingException", "message": "Rate exceeded"})


class _Throttling(http.server.BaseHTTPRequestHandler):
    """An AWS KMS endpoint that throttles the first two calls, then answers: a seam of our
    own for botocore's retry, which moto cannot be told to exercise."""

    answers: list[tuple[int, dict[str, Any]]] = []
    seen = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen += 1
        status, body = self.answers.pop(0) if self.answers else _THROTTLED
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: object) -> None:
        pass


def test_aws_throttling_is_retried_with_backoff(moto: MotoServer) -> None:
    arn = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000001"
    throttled = _THROTTLED
    described = (200, {"KeyMetadata": {"Arn": arn, "KeyId": arn, "KeyState": "Enabled"}})
    made = (200, {"CiphertextBlob": "AAAA", "Plaintext": "a" * 43 + "=", "KeyId": arn})
    _Throttling.answers = [throttled, throttled, described, throttled, made]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Throttling)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        uri = f"awskms:{arn}?endpoint=http://127.0.0.1:{server.server_port}&region=us-east-1"
        provider = built_provider(uri)
        wrapped = provider.wrap(b"k" * 32, context={})
        assert wrapped.startswith(b"\x01\x00\x03")  # the data key's blob, then the sealed key
        assert _Throttling.seen == 5
        with pytest.raises(KeyProviderUnavailable, match="kept throttling GenerateDataKey"):
            provider.wrap(b"k" * 32, context={})  # throttled at every one of its attempts
        assert _Throttling.seen == 5 + MAX_ATTEMPTS
    finally:
        server.shutdown()
        server.server_close()


def test_aws_role_assumption(moto: MotoServer) -> None:
    role = "arn:aws:iam::123456789012:role/strongroom-seal"
    provider = built_provider(_aws_uri(moto, _aws_key(moto), role_arn=role))
    assert provider.unwrap(provider.wrap(b"r" * 32, context={}), context={}) == b"r" * 32


def test_a_server_sealed_by_aws_kms(moto: MotoServer, tmp_path: Path) -> None:
    """moto paused (SIGSTOP: calls time out) after unseal, then resumed with its keys."""
    seal = ["--seal-provider", _aws_uri(moto, _aws_key(moto), timeout="1")]
    check_provider_outage(
        tmp_path / "data", seal, moto.pause, moto.resume, says=("AWS KMS", "timed out")
    )


# -- PKCS#11


def test_pkcs11_rotation_keeps_old_versions_and_uris_are_checked(softhsm: SoftHsm) -> None:
    token = softhsm.take()
    provider = _hsm_provider(softhsm, token)
    with pytest.raises(KeyProviderUnavailable, match="no AES key labelled 'root'"):
        provider.wrap(b"k" * 32, context={})
    assert provider.rotate() == 1
    first = provider.wrap(b"k" * 32, context={"n": "1"})
    assert provider.rotate() == 2
    second = provider.wrap(b"k" * 32, context={"n": "1"})
    assert (first[1:5], second[1:5]) == ((1).to_bytes(4, "big"), (2).to_bytes(4, "big"))
    assert provider.unwrap(first, context={"n": "1"}) == b"k" * 32
    with pytest.raises(DecryptionError):  # a version the token does not hold
        provider.unwrap(b"\x01\x00\x00\x00\x09" + second[5:], context={"n": "1"})
    key_attributes = provider._run("a check", lambda s: provider._versions(s)[2])
    from pkcs11 import Attribute

    assert key_attributes[Attribute.SENSITIVE] and not key_attributes[Attribute.EXTRACTABLE]
    for bad, says in [
        (softhsm.uri(token, "root").replace("pin-source", "pin-value"), "does not belong"),
        (softhsm.uri(token, "root") + "&modul=x", "unknown pkcs11 provider option"),
        (f"pkcs11:object=root?module-path=/x&pin-source=file:{softhsm.pin_file}", "token="),
        (softhsm.uri(token, "root").replace("file:", "ftp:"), "pin-source is"),
    ]:
        with pytest.raises(BadRequest, match=says):
            built_provider(bad)


def test_pkcs11_errors_say_what_to_fix_and_leak_no_pin(softhsm: SoftHsm, tmp_path: Path) -> None:
    token = softhsm.take()
    with pytest.raises(KeyProviderUnavailable, match="no PKCS#11 token 'absent'"):
        _hsm_provider(softhsm, "absent").wrap(b"k", context={})
    wrong = tmp_path / "wrong-pin"
    wrong.write_text("987654")
    uri = softhsm.uri(token, "root").replace(str(softhsm.pin_file), str(wrong))
    with pytest.raises(KeyProviderUnavailable) as refused:
        built_provider(uri).wrap(b"k", context={})
    assert "refused the PIN" in refused.value.message and "987654" not in refused.value.message


def test_pkcs11_sessions_are_safe_under_threads(softhsm: SoftHsm) -> None:
    token = softhsm.take()
    provider = _hsm_provider(softhsm, token)
    other = _hsm_provider(softhsm, token, key="other")  # a second provider on the same module
    other.rotate()
    provider.rotate()

    def round_trip(i: int) -> bool:
        key = i.to_bytes(32, "big")
        context = {"i": str(i)}
        either = provider if i % 2 else other
        return bool(either.unwrap(either.wrap(key, context=context), context=context) == key)

    # Unserialized, SoftHSM2 crashes the process here (python-pkcs11 initializes the module
    # without locking arguments).
    with ThreadPoolExecutor(max_workers=16) as pool:
        assert all(pool.map(round_trip, range(400)))


def test_pkcs11_calls_time_out() -> None:
    """The timeout itself, through a work function that hangs (SoftHSM2 never does): a seam
    of our own, the worker's wait."""
    from strongroom.keyproviders import pkcs11 as module

    module._libraries["/hanging.so"] = (object(), threading.Lock())
    provider = module.Pkcs11KeyProvider("/hanging.so", "root", str, token_label="t", timeout=1)
    provider._open = lambda library: None  # type: ignore[method-assign]
    hang = threading.Event()
    try:
        with pytest.raises(KeyProviderUnavailable, match="did not answer a check in 1 s"):
            provider._run("a check", lambda _session: hang.wait(5))
    finally:
        hang.set()
        provider.close()
        del module._libraries["/hanging.so"]


def test_a_server_sealed_by_a_pkcs11_token(softhsm: SoftHsm, tmp_path: Path) -> None:
    """The token's files moved away after unseal (an HSM gone), then put back."""
    token = softhsm.take()
    _hsm_provider(softhsm, token).rotate()
    seal = ["--seal-provider", softhsm.uri(token, "root")]
    away = tmp_path / "tokens-away"

    def down() -> None:
        softhsm.tokens.rename(away)

    def up() -> None:
        away.rename(softhsm.tokens)

    try:
        check_provider_outage(tmp_path / "data", seal, down, up, says=("PKCS#11", token))
    finally:
        if away.exists():
            up()


# -- moving a namespace between providers


class _Counting(KeyProviderBase):
    """Counts the calls that reach a real provider."""

    def __init__(self, inner: KeyProvider, counts: dict[str, int], name: str) -> None:
        self.inner, self.counts, self.name = inner, counts, name

    @property
    def key_ref(self) -> str:
        return self.inner.key_ref

    def wrap(self, plaintext_key: bytes, *, context: Any) -> bytes:
        self.counts[self.name] += 1
        return self.inner.wrap(plaintext_key, context=context)

    def unwrap(self, wrapped: bytes, *, context: Any) -> bytes:
        self.counts[self.name] += 1
        return self.inner.unwrap(wrapped, context=context)

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()


def test_a_namespace_moves_from_local_to_softhsm_to_aws_kms(
    moto: MotoServer, softhsm: SoftHsm, tmp_path: Path
) -> None:
    """The issue's check: every secret still opens after each move, and each move makes fewer
    than 10 provider calls, whatever the number of secrets (200 here)."""
    token = softhsm.take()
    _hsm_provider(softhsm, token).rotate()
    uris = {"hsm": softhsm.uri(token, "root"), "aws": _aws_uri(moto, _aws_key(moto))}
    settings = ServerSettings(
        tmp_path / "data", dev=True, root_token="move-root", key_providers=tuple(uris.items())
    )
    node = Node(settings)
    counts = {"hsm": 0, "aws": 0, "root": 0}
    for scheme, name in (("pkcs11", "hsm"), ("awskms", "aws")):
        node.providers.register(scheme, _counting(node.providers._factories[scheme], counts, name))
    runtime = node.require_runtime()
    runtime.keyrings._provider = _Counting(runtime.keyrings._provider, counts, "root")
    try:
        runtime.namespaces.create(ROOT, "prod")
        for i in range(200):
            runtime.secrets.put(ROOT, "prod", f"app/{i}", {"v": str(i)})
        root_before = counts["root"]
        for to, expect in (("hsm", "pkcs11:"), (uris["aws"], "awskms:arn:aws:kms:")):
            before = dict(counts)
            info = runtime.namespaces.move(ROOT, "prod", to)
            assert info.key_provider.startswith(expect)
            made = sum(counts.values()) - sum(before.values())
            assert 0 < made < 10, counts
            runtime.keyrings.forget("prod")  # as a restart: the keyring comes from the store
            assert runtime.secrets.get(ROOT, "prod", "app/199").data == {"v": "199"}
            assert runtime.secrets.get(ROOT, "prod", "app/0").data == {"v": "0"}
        assert counts["root"] == root_before + 1  # one unwrap by the local KMS, moving away
        with pytest.raises(BadRequest, match="no key provider 'awskms:alias/elsewhere"):
            runtime.namespaces.move(ROOT, "prod", "awskms:alias/elsewhere?region=us-east-1")
    finally:
        node.close()


def _counting(
    real: Callable[[ProviderURI], KeyProvider], counts: dict[str, int], name: str
) -> Callable[[ProviderURI], KeyProvider]:
    """A registry factory whose providers count their calls under ``name``."""
    return lambda uri: _Counting(real(uri), counts, name)


def test_keys_migrate_from_the_cli_is_audited(
    moto: MotoServer, softhsm: SoftHsm, tmp_path: Path
) -> None:
    token = softhsm.take()
    _hsm_provider(softhsm, token).rotate()
    hsm = softhsm.uri(token, "root")
    server = StrongroomServer(
        tmp_path / "data", "cli-root", extra=["--key-provider", f"hsm={hsm}"]
    ).start()
    env = {"STRONGROOM_ADDR": server.addr, "STRONGROOM_TOKEN": "cli-root"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        import os

        return subprocess.run(
            [sys.executable, "-m", "strongroom", *args],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            timeout=60,
        )

    try:
        assert cli("kv", "put", "secret/app/db", "password=s3cret").returncode == 0
        moved = cli("keys", "migrate", "--namespace", "secret", "--to", hsm, "--format", "json")
        assert moved.returncode == 0, moved.stderr
        doc = json.loads(moved.stdout)
        assert doc["provider"] == "hsm" and doc["key_provider"] == f"pkcs11:{token}/root"
        unknown = cli("keys", "migrate", "--namespace", "secret", "--to", "nowhere")
        assert unknown.returncode == 2 and "use one of: root, hsm" in unknown.stderr
        back = cli("keys", "migrate", "--namespace", "secret", "--to", "root")
        assert back.returncode == 0 and "root key" in back.stdout
        read = cli("kv", "get", "--field", "password", "secret/app/db")
        assert read.stdout.strip() == "s3cret", read.stderr
        lines = (tmp_path / "data" / "audit.log").read_text().splitlines()
        moves = [json.loads(line) for line in lines if '"migrateKeys"' in line]
        assert [m["type"] for m in moves] == ["request", "response"] * 3  # the refusal too
        assert not any("s3cret" in line for line in lines)
    finally:
        server.stop()


def test_a_namespace_whose_provider_is_down_fails_alone_and_promptly(
    moto: MotoServer, tmp_path: Path
) -> None:
    """A keyring loaded on a miss while its provider hangs: that request gets a 503 after the
    provider's timeout; the event loop is not held, so other requests are answered meanwhile."""
    aws = _aws_uri(moto, _aws_key(moto), timeout="2")
    extra = ["--key-provider", f"aws={aws}"]
    headers = {"X-Vault-Token": "ns-root", "Authorization": "Bearer ns-root"}
    server = StrongroomServer(tmp_path / "data", "ns-root", extra=extra).start()
    try:
        with httpx.Client(base_url=server.addr, headers=headers, timeout=60) as api:
            made = api.post("/api/v1/namespaces", json={"name": "payments", "provider": "aws"})
            assert made.status_code in (200, 201), made.text
            assert api.post("/v1/payments/data/card", json={"data": {"pan": "4111"}}).is_success
            assert api.post("/v1/secret/data/plain", json={"data": {"v": "1"}}).is_success
    finally:
        server.stop()
    moto.pause()
    try:
        again = StrongroomServer(tmp_path / "data", "ns-root", extra=extra).start()
        try:
            with ThreadPoolExecutor(max_workers=1) as pool:
                started = time.monotonic()
                slow = pool.submit(api_get, again.addr, "/v1/payments/data/card", headers)
                time.sleep(0.3)
                quick = httpx.get(f"{again.addr}/v1/secret/data/plain", headers=headers)
                assert quick.status_code == 200 and time.monotonic() - started < 2
                failed = slow.result(timeout=60)
            assert failed.status_code == 503, failed.text
            assert "AWS KMS" in failed.text and "timed out" in failed.text
            moto.resume()
            read = httpx.get(f"{again.addr}/v1/payments/data/card", headers=headers)
            assert read.json()["data"]["data"] == {"pan": "4111"}
        finally:
            again.stop()
    finally:
        moto.resume()


def api_get(addr: str, path: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.get(f"{addr}{path}", headers=headers, timeout=60)


def test_the_documented_pkcs11_tool_recipe(softhsm: SoftHsm) -> None:
    """docs/kms.md's pkcs11-tool command makes a key the provider uses: sensitive, never
    extractable, version 1."""
    token = softhsm.take()
    login = ["--module", SOFTHSM_MODULE, "--login", "--pin", "1234", "--token-label", token]
    recipe = ["--keygen", "--key-type", "AES:32", "--label", "strongroom-root", "--id", "00000001"]
    made = subprocess.run(
        ["pkcs11-tool", *login, *recipe, "--sensitive", "--usage-decrypt"],
        capture_output=True,
        text=True,
        env={**os.environ, **softhsm.env},
    )
    assert made.returncode == 0, made.stderr
    provider = _hsm_provider(softhsm, token, key="strongroom-root")
    wrapped = provider.wrap(b"k" * 32, context={"n": "1"})
    assert wrapped[:5] == b"\x01\x00\x00\x00\x01"
    assert provider.unwrap(wrapped, context={"n": "1"}) == b"k" * 32
    from pkcs11 import Attribute

    key = provider._run("a check", lambda s: provider._versions(s)[1])
    assert key[Attribute.SENSITIVE] and not key[Attribute.EXTRACTABLE]


def test_root_key_rotation_for_providers_that_rotate_and_that_do_not(
    moto: MotoServer, softhsm: SoftHsm, tmp_path: Path
) -> None:
    """PKCS#11: strongroom makes a new key version in the token, then re-wraps. AWS KMS rotates
    its key itself (on demand here); strongroom only re-wraps, and old wraps still open."""
    token = softhsm.take()
    _hsm_provider(softhsm, token).rotate()
    arn = _aws_key(moto)
    uris = (("hsm", softhsm.uri(token, "root")), ("aws", _aws_uri(moto, arn)))
    settings = ServerSettings(
        tmp_path / "data",
        dev=True,
        root_token="r",
        seal_provider=softhsm.uri(token, "root"),
        key_providers=uris,
    )
    node = Node(settings)
    try:
        runtime = node.require_runtime()
        runtime.namespaces.create(ROOT, "cards", provider="aws")
        runtime.secrets.put(ROOT, "cards", "visa", {"pan": "4111"})
        runtime.secrets.put(ROOT, "secret", "a", {"v": "1"})
        rotated = runtime.namespaces.rotate_root(ROOT)
        assert rotated.root_key_version == 2 and rotated.keyrings == 2
        raw = runtime.store.get_record("keyring", "secret")
        assert raw is not None
        wrapped = base64.b64decode(json.loads(raw)["wrapped"])
        assert wrapped[1:5] == (2).to_bytes(4, "big")  # re-wrapped under the new HSM key
        with pytest.raises(BadRequest, match="rotates its root key itself"):
            runtime.namespaces.rotate_root(ROOT, name="aws")
        kms: Any = moto.kms()
        kms.rotate_key_on_demand(KeyId=arn.rsplit("/", 1)[1])
        assert runtime.namespaces.rewrap_root(ROOT).keyrings == 2
        runtime.keyrings.forget("")
        assert runtime.secrets.get(ROOT, "cards", "visa").data == {"pan": "4111"}
        assert runtime.secrets.get(ROOT, "secret", "a").data == {"v": "1"}
    finally:
        node.close()


def _token_dir(softhsm: SoftHsm, label: str) -> Path:
    """SoftHSM's directory of the token labelled ``label`` (its token.object holds the label)."""
    for directory in softhsm.tokens.iterdir():
        if label.encode() in (directory / "token.object").read_bytes():
            return directory
    raise AssertionError(f"no SoftHSM directory for {label}")


def test_a_pkcs11_token_back_after_an_outage_is_used_again(
    softhsm: SoftHsm, tmp_path: Path
) -> None:
    """Issue 20, 17: the token's files go away (the HSM is unplugged) and come back; the
    provider re-initializes the module and is used again at its next call, no restart."""
    token = softhsm.take()
    provider = _hsm_provider(softhsm, token, timeout="5")
    provider.rotate()
    sealed = provider.wrap(b"k" * 32, context={"a": "b"})
    directory = _token_dir(softhsm, token)
    away = tmp_path / "unplugged"
    directory.rename(away)
    try:
        with pytest.raises(KeyProviderUnavailable):
            provider.wrap(b"k" * 32, context={"a": "b"})
    finally:
        away.rename(directory)
    started = time.monotonic()
    assert provider.unwrap(sealed, context={"a": "b"}) == b"k" * 32
    again = provider.wrap(b"j" * 32, context={})
    assert provider.unwrap(again, context={}) == b"j" * 32
    assert time.monotonic() - started < 5  # within one timeout


def test_a_hung_provider_bounds_its_calls_and_blocks_no_write(
    moto: MotoServer, tmp_path: Path
) -> None:
    """Issue 20, 18: with the provider hung (moto stopped), a keyring rotation that needs it is
    refused within its timeout (it took 40 s for a 10 s timeout: retries), and writes to that
    namespace and others go on meanwhile (the rotation holds no lock across the call)."""
    uri = _aws_uri(moto, _aws_key(moto), timeout="1")
    root = {"Authorization": "Bearer hung-root"}
    server = StrongroomServer(
        tmp_path / "data", "hung-root", extra=["--key-provider", f"aws={uri}"]
    ).start()
    try:
        with httpx.Client(base_url=server.addr, headers=root, timeout=60) as api:
            made = api.post("/api/v1/namespaces", json={"name": "payments", "provider": "aws"})
            assert made.status_code in (200, 201), made.text
            api.put("/api/v1/secrets/payments/a", json={"data": {"v": "0"}}).raise_for_status()
            moto.pause()
            try:
                rotation: dict[str, float] = {}

                def rotate() -> None:
                    started = time.monotonic()
                    answer = httpx.post(
                        f"{server.addr}/api/v1/namespaces/payments/keys/rotate",
                        headers=root,
                        timeout=60,
                    )
                    rotation["status"] = answer.status_code
                    rotation["seconds"] = time.monotonic() - started

                rotating = threading.Thread(target=rotate)
                rotating.start()
                slowest = 0.0
                for i in range(10):
                    for namespace in ("payments", "secret"):
                        started = time.monotonic()
                        wrote = api.put(
                            f"/api/v1/secrets/{namespace}/w{i}", json={"data": {"v": str(i)}}
                        )
                        assert wrote.status_code == 200, wrote.text
                        slowest = max(slowest, time.monotonic() - started)
                    time.sleep(0.1)
                rotating.join(timeout=30)
                assert rotation["status"] == 503, rotation
                assert rotation["seconds"] < 4, rotation  # the 1 s timeout, retries included
                assert slowest < 1.0, slowest
            finally:
                moto.resume()
            deadline = time.monotonic() + 30
            while api.post("/api/v1/namespaces/payments/keys/rotate").status_code != 200:
                assert time.monotonic() < deadline, "the provider back, rotation works again"
                time.sleep(0.5)
            assert api.get("/api/v1/secrets/payments/w9").json()["data"] == {"v": "9"}
    finally:
        server.stop()
