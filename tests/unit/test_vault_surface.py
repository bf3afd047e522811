"""The Vault surface's own seams, in process: the LIST verb, error shapes, and what its audit
entries hold (data HMAC'd; the envelope's bookkeeping and version metadata in clear)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from strongroom.errors import AccessDenied, CheckAndSetMismatch, NotFound, Sealed, Unauthenticated
from strongroom.server.routes import MethodNotAllowed, RouteNotFound
from strongroom.server.vault.wire import method_of, render_error
from tests.helpers import audit_entries

ROOT = "test-root-token"


def test_get_with_list_true_is_the_list_verb() -> None:
    assert method_of({"method": "GET", "query_string": b"list=true"}) == "LIST"
    assert method_of({"method": "GET", "query_string": b"version=2&list=1"}) == "LIST"
    assert method_of({"method": "GET", "query_string": b"list=false"}) == "GET"
    assert method_of({"method": "GET", "query_string": b"blacklist=true"}) == "GET"
    assert method_of({"method": "POST", "query_string": b"list=true"}) == "POST"


def test_errors_speak_vaults_words_with_its_content_type() -> None:
    cases = [
        (Unauthenticated(), 403, ["permission denied"]),
        (
            AccessDenied("permission denied: read on 'secret/data/x'"),
            403,
            ["1 error occurred:\n\t* permission denied\n\n"],
        ),
        (NotFound("no secret at secret/x"), 404, []),
        (
            RouteNotFound("GET", "/v1/a/b", "a/b"),
            404,
            ['no handler for route "a/b". route entry not found.'],
        ),
        (MethodNotAllowed("no"), 405, ["unsupported operation"]),
        (
            CheckAndSetMismatch("… (current version is 3, cas was 1)"),
            400,
            ["check-and-set parameter did not match the current version"],
        ),
        (Sealed(), 503, ["Vault is sealed"]),
    ]
    for error, status, messages in cases:
        rendered = render_error(error, "rid")
        assert rendered.status == status and json.loads(rendered.body) == {"errors": messages}
        assert (b"content-type", b"application/json") in rendered.headers


def test_a_vault_read_is_audited_with_its_data_hmacd(
    app_client: TestClient, tmp_path: Path
) -> None:
    headers = {"X-Vault-Token": ROOT}
    write = app_client.post(
        "/v1/secret/data/aud/x", json={"data": {"pw": "audited-secret-value"}}, headers=headers
    )
    assert write.status_code == 200
    read = app_client.get("/v1/secret/data/aud/x", headers=headers)
    assert read.json()["data"]["data"] == {"pw": "audited-secret-value"}
    listed = app_client.request("LIST", "/v1/secret/metadata/aud", headers=headers)
    assert listed.json()["data"]["keys"] == ["x"]
    log = (tmp_path / "audit.log").read_text()
    assert "audited-secret-value" not in log
    entries = audit_entries(log)
    responses = [e for e in entries if e.get("type") == "response"]
    read_entry = next(e for e in responses if e["operation"] == "kvReadData")
    clear = read_entry["response_metadata"]
    assert clear["data.metadata"]["version"] == 1 and clear["lease_id"] == ""
    assert "data.metadata" not in json.dumps(read_entry["data"])  # moved, not copied
    assert "hmac-sha256:" in json.dumps(read_entry["data"])
    assert any(e["request"]["method"] == "LIST" for e in entries)


def test_a_transit_key_keeps_a_bounded_number_of_versions(
    app_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import strongroom.compat.vault.transit.keys as transit

    monkeypatch.setattr(transit, "MAX_KEY_VERSIONS", 3)
    headers = {"X-Vault-Token": ROOT}
    mounted = app_client.post("/v1/sys/mounts/transit", json={"type": "transit"}, headers=headers)
    assert mounted.status_code == 204
    app_client.post("/v1/transit/keys/k", json={}, headers=headers)
    assert app_client.post("/v1/transit/keys/k/rotate", headers=headers).status_code == 200
    assert app_client.post("/v1/transit/keys/k/rotate", headers=headers).status_code == 200
    refused = app_client.post("/v1/transit/keys/k/rotate", headers=headers)
    assert refused.status_code == 400 and "at most 3 versions" in refused.text


def test_no_secret_in_the_repr_of_what_carries_one() -> None:
    from strongroom.compat.vault.transit.items import EncryptItem, InputItem
    from strongroom.compat.vault.transit.models import Decrypted, Encrypted, ItemResult
    from strongroom.crypto.named_keys import symmetric_cipher
    from strongroom.service.named_keys import NamedKey
    from strongroom.service.wrapping import WrapInfo

    canary = "CANARY-repr-value"
    shown = [
        repr(WrapInfo(canary, "acc", 60, datetime.now(UTC), "p")),
        repr(EncryptItem(canary.encode(), canary.encode(), canary.encode())),
        repr(InputItem(canary.encode(), context=canary.encode())),
        repr(ItemResult(Decrypted(canary.encode()))),
        repr(Encrypted("vault:v1:x", 1, canary.encode())),
        repr(NamedKey.create("k", "aes256-gcm96", 0.0)),
        repr(symmetric_cipher("aes256-gcm96", bytes(32))),
    ]
    assert all(canary not in text and "material" not in text for text in shown), shown


def test_transit_items_are_parsed_into_typed_values_each_error_in_its_place() -> None:
    from strongroom.compat.vault.transit.items import EncryptItem, ItemError
    from strongroom.server.vault.transit_items import encrypt_items, verify_items

    batch = encrypt_items(
        {
            "context": "Y3R4",  # request-wide: every item that sets none takes it
            "batch_input": [
                {"plaintext": "aGk=", "reference": "good"},
                {"plaintext": "not base64!", "reference": "bad"},
                {"plaintext": "aGk=", "key_version": "two"},
                {"plaintext": "aGk=", "nonce": "AAAA"},
            ],
        }
    )
    assert batch.batch and batch.items[0] == EncryptItem(b"hi", b"ctx", None, None, "good")
    assert batch.items[1] == ItemError("illegal base64 data at input byte 3", "bad")
    assert batch.items[2] == ItemError("'key_version' must be an integer")
    assert isinstance(batch.items[3], ItemError) and "nonce" in batch.items[3].message
    single = verify_items({"input": "aGk=", "signature": "vault:vX:AAAA"})
    assert not single.batch
    assert single.items == [ItemError("invalid signature: version number could not be decoded")]


def test_a_transit_items_error_comes_after_the_callers_rights(app_client: TestClient) -> None:
    """A caller without rights gets 403 whatever it sent; one with rights, the item's 400, and
    in a batch each bad item is answered in its place while the others run."""
    headers = {"X-Vault-Token": ROOT}
    app_client.post("/v1/sys/mounts/transit", json={"type": "transit"}, headers=headers)
    app_client.post("/v1/transit/keys/k", json={}, headers=headers)
    nobody = app_client.post(
        "/v1/auth/token/create", json={"policies": ["default"]}, headers=headers
    ).json()["auth"]["client_token"]
    bad = {"plaintext": "not base64!"}
    denied = app_client.post("/v1/transit/encrypt/k", json=bad, headers={"X-Vault-Token": nobody})
    assert denied.status_code == 403
    refused = app_client.post("/v1/transit/encrypt/k", json=bad, headers=headers)
    assert refused.status_code == 400
    assert refused.json() == {"errors": ["illegal base64 data at input byte 3"]}
    mixed = app_client.post(
        "/v1/transit/encrypt/k",
        json={"batch_input": [{"plaintext": "aGk=", "reference": "a"}, {**bad, "reference": "b"}]},
        headers=headers,
    )
    results = mixed.json()["data"]["batch_results"]
    assert mixed.status_code == 400 and results[0]["ciphertext"].startswith("vault:v1:")
    assert results[1] == {"error": "illegal base64 data at input byte 3", "reference": "b"}
