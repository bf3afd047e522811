"""Every Vault route, fed arbitrary JSON bodies and query strings by hypothesis, answers a 4xx
or a success, never a 500 (the native API has its own fuzz test, from its OpenAPI document)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from strongroom.config import ServerSettings
from strongroom.server.app import create_app
from strongroom.server.vault import VAULT_ROUTES

ROOT = "fuzz-root-token"
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["vault:v1:AAAA", "aGVsbG8=", "sha2-512", "aes256-gcm96", "1h", "²", "0"]),
    # Unhashable and nested values where a name is expected: membership in a dict of names
    # raised TypeError (a 500) until this test.
    st.sampled_from([["x"], {"k": "v"}, [[]], {"": None}]),
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_FIELDS = st.sampled_from(
    [
        "data",
        "options",
        "versions",
        "type",
        "plaintext",
        "ciphertext",
        "context",
        "batch_input",
        "key_version",
        "bits",
        "input",
        "algorithm",
        "hash_algorithm",
        "signature",
        "hmac",
        "policy",
        "policies",
        "token",
        "accessor",
        "increment",
        "ttl",
        "max_versions",
        "cas_required",
        "delete_version_after",
        "custom_metadata",
        "min_decryption_version",
        "min_encryption_version",
        "min_available_version",
        "deletion_allowed",
        "exportable",
        "auto_rotate_period",
        "bytes",
        "format",
        "key",
        "nonce",
        "secret_id",
        "role_id",
        "password",
        "backup",
        "name",
        "force",
        "paths",
        "derived",
        "convergent_encryption",
        "associated_data",
        "prehashed",
        "signature_algorithm",
        "marshaling_algorithm",
        "meta",
    ]
)
_BODIES = st.dictionaries(_FIELDS, _JSON, max_size=4)
_PARAMS = {
    "mount": ["secret", "transit", "nope"],
    "path": ["fz/a", "fz", "x/y/z"],
    "name": ["k", "fz-key", "default"],
    "role": ["r"],
    "kind": ["plaintext", "encryption-key", "wrapped"],
    "algorithm": ["sha2-256", "md5"],
    "bytes": ["8", "²"],
    "version": ["1", "latest"],
}
_SKIP = {"sysSeal", "sysSealPut", "sysStepDown", "sysStepDownPut"}  # would seal the server


def _url(template: str, choice: int) -> str:
    def fill(match: re.Match[str]) -> str:
        options = _PARAMS.get(match.group(1), ["x"])
        return options[choice % len(options)]

    return re.sub(r"\{(\w+)(?::path)?\}", fill, template)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("vault-fuzz")
    settings_ = ServerSettings(tmp / "data", dev=True, root_token=ROOT, audit_file=tmp / "a.log")
    app = create_app(settings_)
    with TestClient(app, headers={"X-Vault-Token": ROOT}) as test_client:
        test_client.post("/v1/sys/mounts/transit", json={"type": "transit"})
        test_client.post("/v1/transit/keys/k", json={"exportable": True})
        test_client.post("/v1/secret/data/fz/a", json={"data": {"v": "1"}})
        yield test_client
    app.node.close()


ROUTES = [route for route in VAULT_ROUTES if route.operation not in _SKIP]


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_no_vault_route_answers_500(client: TestClient, route: Any) -> None:
    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        body=_BODIES,
        choice=st.integers(0, 5),
        query=st.sampled_from(["", "version=2", "version=²", "depth=1", "list=true", "x=%FF"]),
        raw=st.sampled_from([None, b"null", b"[]", b"{", b'"s"']),
    )
    def check(body: dict[str, Any], choice: int, query: str, raw: bytes | None) -> None:
        url = _url(route.path, choice) + (f"?{query}" if query else "")
        content = raw if raw is not None else json.dumps(body).encode()
        headers = (
            {"Content-Type": "application/merge-patch+json"} if route.method == "PATCH" else {}
        )
        response = client.request(route.method, url, content=content, headers=headers)
        assert response.status_code < 500, (route.method, url, content, response.text)

    check()


_WRITES = [route for route in ROUTES if route.method in ("POST", "PUT", "PATCH")]


@pytest.mark.parametrize("route", _WRITES, ids=lambda r: f"{r.method} {r.path}")
def test_no_field_of_the_wrong_shape_answers_500(client: TestClient, route: Any) -> None:
    """Each known field alone, as a list and as an object: a name compared with a dict of
    names, or a number parsed from a list, must be a 400 and not a TypeError."""
    headers = {"Content-Type": "application/merge-patch+json"} if route.method == "PATCH" else {}
    for field in _FIELDS.elements:  # type: ignore[attr-defined]
        for value in (["x"], {"k": "v"}):
            url = _url(route.path, 0)
            response = client.request(
                route.method, url, content=json.dumps({field: value}), headers=headers
            )
            assert response.status_code < 500, (route.method, url, field, response.text)
