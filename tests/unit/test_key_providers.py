"""Key providers by URI, and a namespace wrapped by a provider of its own (design.md §2)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from strongroom.auth import Identity
from strongroom.clock import ManualClock
from strongroom.config import ServerSettings
from strongroom.crypto.context import Context
from strongroom.errors import BadRequest, KeyProviderUnavailable
from strongroom.keyproviders.bounded import MAX_WAITING, BoundedProvider, bounded
from strongroom.keyproviders.local import LocalKeyProvider
from strongroom.keyproviders.provider import KeyProviderBase, RotatableKeyProvider
from strongroom.keyproviders.registry import ProviderRegistry, parse_provider_uri
from strongroom.server.app import create_app
from strongroom.server.node import Node

ROOT = Identity.system("root")


def test_uris_are_parsed_and_built_once(tmp_path: Path) -> None:
    uri = f"local:{tmp_path}/hsm.key?key=payments"
    parsed = parse_provider_uri(uri)
    assert (parsed.scheme, parsed.target, dict(parsed.params)) == (
        "local",
        f"{tmp_path}/hsm.key",
        {"key": "payments"},
    )
    registry = ProviderRegistry()
    provider = registry.build(uri)
    assert isinstance(provider, BoundedProvider) and provider.timeout == 10
    assert isinstance(provider.inner, LocalKeyProvider) and provider.key_ref == "local:payments"
    assert isinstance(provider, RotatableKeyProvider)
    assert registry.build(uri) is provider
    for bad in ("local", "nope:x", ":x", "local:"):
        with pytest.raises(BadRequest):
            registry.build(bad)
    with pytest.raises(BadRequest, match="this server knows: awskms, azurekv, gcpkms, local"):
        registry.build("cloudhsm:cluster-1/key")
    with pytest.raises(BadRequest, match="unknown awskms provider option 'regoin'"):
        registry.build("awskms:arn:aws:kms:eu-west-1:1:key/x?regoin=eu-west-1")
    arn = parse_provider_uri("awskms:arn:aws:kms:eu-west-1:1:key/x?region=eu-west-1")
    assert (arn.target, dict(arn.params)) == (
        "arn:aws:kms:eu-west-1:1:key/x",
        {"region": "eu-west-1"},
    )


def _settings(tmp_path: Path, *providers: tuple[str, str]) -> ServerSettings:
    return ServerSettings(tmp_path / "data", dev=True, root_token="t", key_providers=providers)


def test_a_namespace_on_its_own_provider(tmp_path: Path) -> None:
    hsm = ("hsm", f"local:{tmp_path}/hsm.key?key=payments")
    node = Node(_settings(tmp_path, hsm), ManualClock())
    runtime = node.require_runtime()
    info = runtime.namespaces.create(ROOT, "payments", provider="hsm", description="cards")
    assert (info.provider, info.key_provider, info.description) == (
        "hsm",
        "local:payments",
        "cards",
    )
    runtime.secrets.put(ROOT, "payments", "card", {"pan": "4111"})
    assert runtime.namespaces.get(ROOT, "secret").provider == ""
    with pytest.raises(BadRequest, match=r"no key provider named 'vault'; .* hsm"):
        runtime.namespaces.create(ROOT, "other", provider="vault")
    # Re-wrapping under the root re-wraps each keyring under its own provider.
    assert runtime.namespaces.rewrap_root(ROOT).keyrings == 2
    record = json.loads(runtime.store.get_record("keyring", "payments") or b"")
    assert record["provider_name"] == "hsm" and record["provider"] == "local:payments"
    node.close()

    again = Node(_settings(tmp_path, hsm), ManualClock())
    assert again.require_runtime().secrets.get(ROOT, "payments", "card").data == {"pan": "4111"}
    again.close()

    # Started without that provider: its namespace fails closed and says what to fix; the
    # others work.
    without = Node(_settings(tmp_path), ManualClock())
    runtime = without.require_runtime()
    runtime.secrets.put(ROOT, "secret", "x", {"v": "1"})
    with pytest.raises(KeyProviderUnavailable, match="--key-provider hsm="):
        runtime.secrets.get(ROOT, "payments", "card")
    without.close()


def test_the_native_api_creates_a_namespace_on_a_provider(tmp_path: Path) -> None:
    settings = _settings(tmp_path, ("hsm", f"local:{tmp_path}/hsm.key"))
    app = create_app(settings)
    with TestClient(app, headers={"Authorization": "Bearer t"}) as client:
        made = client.post("/api/v1/namespaces", json={"name": "p", "provider": "hsm"})
        assert made.status_code == 201 and made.json()["provider"] == "hsm"
        assert made.json()["kind"] == "kv-v2"
        for body, message in (
            ({"name": "q", "provider": "nope"}, "no key provider named 'nope'"),
            ({"name": "q", "kind": "aws-ssm"}, "unknown namespace kind"),
            ({"name": "q", "description": 5}, "description is a string"),
            ({"name": "q", "options": {"a": 1}}, "options is an object"),
        ):
            refused = client.post("/api/v1/namespaces", json=body)
            assert refused.status_code == 400 and message in refused.json()["error"]["message"]
        assert client.get("/api/v1/namespaces/q").status_code == 404  # nothing half made
    app.node.close()


def test_the_kms_seal_takes_its_root_key_from_a_provider_uri(tmp_path: Path) -> None:
    settings = ServerSettings(
        tmp_path / "data",
        dev=True,
        root_token="t",
        seal_provider=f"local:{tmp_path}/elsewhere.key?key=root2",
    )
    node = Node(settings, ManualClock())
    node.require_runtime().secrets.put(ROOT, "secret", "a", {"v": "1"})
    node.close()
    assert (tmp_path / "elsewhere.key").exists()
    assert not (tmp_path / "data" / "kms.key").exists()
    again = Node(settings, ManualClock())
    assert again.require_runtime().secrets.get(ROOT, "secret", "a").data == {"v": "1"}
    again.close()
    with pytest.raises(BadRequest, match="unknown key provider scheme 'cloudhsm'"):
        Node(ServerSettings(tmp_path / "other", dev=True, seal_provider="cloudhsm:cluster-1/key"))


class _Hanging(KeyProviderBase):
    """A provider whose SDK hangs (retrying for ever, say) until released."""

    def __init__(self) -> None:
        self.release = threading.Event()

    @property
    def key_ref(self) -> str:
        return "hanging:root"

    def wrap(self, plaintext_key: bytes, *, context: Context) -> bytes:
        self.release.wait(30)
        return plaintext_key

    def unwrap(self, wrapped: bytes, *, context: Context) -> bytes:
        return self.wrap(wrapped, context=context)


def test_every_provider_call_ends_within_its_timeout() -> None:
    """Issue 20, 18: the caller is freed at the timeout whatever the SDK does, and a provider
    that hangs fails at once once MAX_WAITING calls are stuck, instead of piling up threads."""
    hanging = _Hanging()
    provider = bounded(hanging, 0.3)
    try:
        started = time.monotonic()
        with pytest.raises(KeyProviderUnavailable, match=r"did not answer within 0.3 s"):
            provider.wrap(b"k" * 32, context={})
        assert time.monotonic() - started < 1.0
        for _ in range(MAX_WAITING - 1):
            with pytest.raises(KeyProviderUnavailable):
                provider.unwrap(b"k", context={})
        started = time.monotonic()
        with pytest.raises(KeyProviderUnavailable, match="calls are still waiting"):
            provider.wrap(b"k", context={})
        assert time.monotonic() - started < 0.1
        hanging.release.set()  # the provider answers again
        deadline = time.monotonic() + 5
        while True:
            try:
                assert provider.wrap(b"back", context={}) == b"back"
                break
            except KeyProviderUnavailable:
                assert time.monotonic() < deadline
                time.sleep(0.05)
    finally:
        hanging.release.set()
        provider.close()
