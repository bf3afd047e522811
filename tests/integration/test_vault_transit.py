"""Transit through hvac against a real strongroom server: every key type, every operation, the
policy split between encrypt and decrypt, and the refusals (caller nonces, convergent keys)."""

from __future__ import annotations

import base64
import hashlib
import hmac as std_hmac
from collections.abc import Iterator

import httpx
import hvac
import hvac.exceptions
import pytest

from tests.helpers import StrongroomServer

ROOT = "transit-root-token"
HELLO = base64.b64encode(b"hello transit").decode()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    running = StrongroomServer(tmp_path_factory.mktemp("transit") / "data", ROOT).start()
    try:
        client = hvac.Client(url=running.addr, token=ROOT)
        client.sys.enable_secrets_engine("transit")
        yield running
    finally:
        running.stop()


@pytest.fixture
def transit(server: StrongroomServer) -> hvac.api.secrets_engines.Transit:
    return hvac.Client(url=server.addr, token=ROOT).secrets.transit


def _plain(text: str) -> bytes:
    return base64.b64decode(text)


@pytest.mark.parametrize(
    "key_type", ["aes256-gcm96", "aes128-gcm96", "chacha20-poly1305", "rsa-2048", "rsa-3072"]
)
def test_encrypt_decrypt_rewrap_datakey_per_type(
    transit: hvac.api.secrets_engines.Transit, key_type: str
) -> None:
    name = f"enc-{key_type}"
    # hvac refuses aes128-gcm96 and hmac before sending; the API takes them.
    created = transit._adapter.post(f"/v1/transit/keys/{name}", json={"type": key_type})["data"]
    assert created["type"] == key_type and created["supports_encryption"] is True
    ciphertext = transit.encrypt_data(name, HELLO)["data"]["ciphertext"]
    assert ciphertext.startswith("vault:v1:")
    assert transit.decrypt_data(name, ciphertext)["data"]["plaintext"] == HELLO
    transit.rotate_key(name)
    rewrapped = transit.rewrap_data(name, ciphertext)["data"]
    assert rewrapped["ciphertext"].startswith("vault:v2:") and rewrapped["key_version"] == 2
    assert transit.decrypt_data(name, rewrapped["ciphertext"])["data"]["plaintext"] == HELLO
    assert transit.decrypt_data(name, ciphertext)["data"]["plaintext"] == HELLO  # v1 still opens
    if not key_type.startswith("rsa-"):
        plain = transit.generate_data_key(name, key_type="plaintext", bits=512)["data"]
        assert len(_plain(plain["plaintext"])) == 64
        opened = transit.decrypt_data(name, plain["ciphertext"])["data"]["plaintext"]
        assert opened == plain["plaintext"]
        wrapped = transit.generate_data_key(name, key_type="wrapped")["data"]
        assert "plaintext" not in wrapped and wrapped["ciphertext"].startswith("vault:v2:")


def test_batches_context_derivation_and_associated_data(
    transit: hvac.api.secrets_engines.Transit,
) -> None:
    transit.create_key("derived", derived=True)
    context = base64.b64encode(b"user-42").decode()
    other = base64.b64encode(b"user-43").decode()
    sealed = transit.encrypt_data("derived", HELLO, context=context)["data"]["ciphertext"]
    assert transit.decrypt_data("derived", sealed, context=context)["data"]["plaintext"] == HELLO
    with pytest.raises(hvac.exceptions.InvalidRequest):
        transit.decrypt_data("derived", sealed, context=other)
    with pytest.raises(hvac.exceptions.InvalidRequest) as missing:
        transit.encrypt_data("derived", HELLO)
    assert "missing 'context' for key derivation" in str(missing.value)
    transit.create_key("batch")
    items = [{"plaintext": HELLO, "reference": "a"}, {"plaintext": "!!", "reference": "b"}]
    with pytest.raises(hvac.exceptions.InvalidRequest) as partial:
        transit.encrypt_data("batch", "", batch_input=items)
    results = partial.value.json["data"]["batch_results"]
    assert results[0]["reference"] == "a" and results[0]["ciphertext"].startswith("vault:v1:")
    assert results[1]["reference"] == "b" and "base64" in results[1]["error"]
    good = transit.encrypt_data("batch", "", batch_input=[{"plaintext": HELLO}] * 3)
    ciphertexts = [r["ciphertext"] for r in good["data"]["batch_results"]]
    assert len(set(ciphertexts)) == 3  # a fresh nonce for each
    opened = transit.decrypt_data("batch", "", batch_input=[{"ciphertext": c} for c in ciphertexts])
    assert [r["plaintext"] for r in opened["data"]["batch_results"]] == [HELLO] * 3
    aad = base64.b64encode(b"row-7").decode()
    bound = transit.encrypt_data("batch", HELLO, associated_data=aad)["data"]["ciphertext"]
    assert transit.decrypt_data("batch", bound, associated_data=aad)["data"]["plaintext"] == HELLO
    with pytest.raises(hvac.exceptions.InvalidRequest):
        transit.decrypt_data("batch", bound)


def test_no_caller_nonce_and_no_convergent_keys(transit: hvac.api.secrets_engines.Transit) -> None:
    transit.create_key("nonce-test")
    with pytest.raises(hvac.exceptions.InvalidRequest) as nonce:
        transit.encrypt_data("nonce-test", HELLO, nonce=base64.b64encode(b"\0" * 12).decode())
    assert "nonce is never accepted" in str(nonce.value)
    sealed = transit.encrypt_data("nonce-test", HELLO)["data"]["ciphertext"]
    with pytest.raises(hvac.exceptions.InvalidRequest) as rewrap_nonce:
        transit.rewrap_data("nonce-test", sealed, nonce=base64.b64encode(b"\0" * 12).decode())
    assert "nonce is never accepted" in str(rewrap_nonce.value)
    with pytest.raises(hvac.exceptions.InvalidRequest) as convergent:
        transit.create_key("conv", derived=True, convergent_encryption=True)
    assert "convergent encryption is not supported" in str(convergent.value)
    with pytest.raises(hvac.exceptions.InvalidPath):
        transit.read_key("conv")
    with pytest.raises(hvac.exceptions.InvalidRequest):  # AWS KMS's curve, not Vault's
        transit._adapter.post("/v1/transit/keys/k1", json={"type": "ecdsa-secp256k1"})


def test_key_config_versions_trim_delete_export(transit: hvac.api.secrets_engines.Transit) -> None:
    transit.create_key("life", exportable=True)
    first = transit.encrypt_data("life", HELLO)["data"]["ciphertext"]
    transit.rotate_key("life")
    transit.rotate_key("life")
    transit.update_key_configuration("life", min_decryption_version=2, min_encryption_version=3)
    with pytest.raises(hvac.exceptions.InvalidRequest) as old:
        transit.decrypt_data("life", first)
    assert "disallowed by policy (too old)" in str(old.value)
    read = transit.read_key("life")["data"]
    assert sorted(read["keys"]) == ["2", "3"] and read["latest_version"] == 3
    transit.trim_key("life", min_version=2)
    assert transit.read_key("life")["data"]["min_available_version"] == 2
    exported = transit.export_key("life", key_type="encryption-key")["data"]
    assert sorted(exported["keys"]) == ["2", "3"] and len(_plain(exported["keys"]["3"])) == 32
    latest = transit.export_key("life", key_type="encryption-key", version="latest")["data"]
    assert list(latest["keys"]) == ["3"]
    with pytest.raises(hvac.exceptions.InvalidRequest):
        transit.delete_key("life")
    transit.update_key_configuration("life", deletion_allowed=True, auto_rotate_period="24h")
    assert transit.read_key("life")["data"]["auto_rotate_period"] == 86400
    with pytest.raises(hvac.exceptions.InvalidRequest):
        transit.update_key_configuration("life", auto_rotate_period="5m")
    transit.delete_key("life")
    assert "life" not in transit.list_keys()["data"]["keys"]
    transit.create_key("private")
    with pytest.raises(hvac.exceptions.InvalidRequest):
        transit.export_key("private", key_type="encryption-key")


@pytest.mark.parametrize(
    "key_type", ["ed25519", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "rsa-2048", "rsa-4096"]
)
def test_sign_and_verify(transit: hvac.api.secrets_engines.Transit, key_type: str) -> None:
    name = f"sig-{key_type}"
    info = transit.create_key(name, key_type=key_type)["data"]
    assert info["supports_signing"] is True and info["keys"]["1"]["public_key"]
    curve = {"ecdsa-p256": "P-256", "ecdsa-p384": "P-384", "ecdsa-p521": "P-521"}
    assert info["keys"]["1"]["name"] == curve.get(key_type, key_type)
    signed = transit.sign_data(name, HELLO)["data"]
    assert signed["signature"].startswith("vault:v1:") and signed["key_version"] == 1
    assert transit.verify_signed_data(name, HELLO, signature=signed["signature"])["data"]["valid"]
    tampered = base64.b64encode(b"hello transiT").decode()
    assert not transit.verify_signed_data(name, tampered, signature=signed["signature"])["data"][
        "valid"
    ]
    if key_type != "ed25519":
        sha512 = transit.sign_data(name, HELLO, hash_algorithm="sha2-512")["data"]["signature"]
        valid = transit.verify_signed_data(
            name, HELLO, signature=sha512, hash_algorithm="sha2-512"
        )["data"]["valid"]
        assert valid
    if key_type.startswith("rsa-"):
        pkcs = transit.sign_data(name, HELLO, signature_algorithm="pkcs1v15")["data"]["signature"]
        assert transit.verify_signed_data(
            name, HELLO, signature=pkcs, signature_algorithm="pkcs1v15"
        )["data"]["valid"]
    with pytest.raises(hvac.exceptions.InvalidRequest):
        transit.encrypt_data(name, HELLO) if not key_type.startswith("rsa-") else transit.sign_data(
            name, HELLO, marshaling_algorithm="jws"
        )


def test_hmac_random_hash(transit: hvac.api.secrets_engines.Transit) -> None:
    transit._adapter.post("/v1/transit/keys/mac", json={"type": "hmac", "exportable": True})
    mac = transit.generate_hmac("mac", HELLO)["data"]["hmac"]
    assert mac.startswith("vault:v1:")
    raw_key = _plain(transit.export_key("mac", key_type="hmac-key")["data"]["keys"]["1"])
    expected = std_hmac.new(raw_key, b"hello transit", hashlib.sha256).digest()
    assert _plain(mac.split(":")[2]) == expected
    assert transit.verify_signed_data("mac", HELLO, hmac=mac)["data"]["valid"]
    sha512 = transit.generate_hmac("mac", HELLO, algorithm="sha2-512")["data"]["hmac"]
    assert transit.verify_signed_data("mac", HELLO, hmac=sha512, hash_algorithm="sha2-512")["data"][
        "valid"
    ]
    transit.create_key("aes-mac")
    assert transit.generate_hmac("aes-mac", HELLO)["data"]["hmac"].startswith("vault:v1:")
    random = transit.generate_random_bytes(n_bytes=24)["data"]["random_bytes"]
    assert len(_plain(random)) == 24
    summed = transit.hash_data(HELLO, algorithm="sha2-256")["data"]["sum"]
    assert summed == hashlib.sha256(b"hello transit").hexdigest()


def test_a_worker_that_may_encrypt_cannot_decrypt(
    server: StrongroomServer, transit: hvac.api.secrets_engines.Transit
) -> None:
    admin = hvac.Client(url=server.addr, token=ROOT)
    transit.create_key("tokens")
    admin.sys.create_or_update_acl_policy(
        "encrypt-only", 'path "transit/encrypt/tokens" { capabilities = ["update"] }'
    )
    admin.sys.create_or_update_acl_policy(
        "decrypt-only", 'path "transit/decrypt/tokens" { capabilities = ["update"] }'
    )
    writer = hvac.Client(
        url=server.addr,
        token=admin.auth.token.create(policies=["encrypt-only"])["auth"]["client_token"],
    )
    reader = hvac.Client(
        url=server.addr,
        token=admin.auth.token.create(policies=["decrypt-only"])["auth"]["client_token"],
    )
    sealed = writer.secrets.transit.encrypt_data("tokens", HELLO)["data"]["ciphertext"]
    with pytest.raises(hvac.exceptions.Forbidden):
        writer.secrets.transit.decrypt_data("tokens", sealed)
    with pytest.raises(hvac.exceptions.Forbidden):
        writer.secrets.transit.read_key("tokens")
    # Without create on the encrypt path, a missing key is not made on the fly.
    with pytest.raises(hvac.exceptions.Forbidden):
        writer.secrets.transit.encrypt_data("other-key", HELLO)
    assert reader.secrets.transit.decrypt_data("tokens", sealed)["data"]["plaintext"] == HELLO
    with pytest.raises(hvac.exceptions.Forbidden):
        reader.secrets.transit.encrypt_data("tokens", HELLO)
    # Root may upsert: encrypting to a missing key creates it (Vault's rule).
    assert transit.encrypt_data("upserted", HELLO)["data"]["key_version"] == 1
    assert transit.read_key("upserted")["data"]["type"] == "aes256-gcm96"


def test_disabling_the_mount_destroys_its_keys(server: StrongroomServer) -> None:
    admin = hvac.Client(url=server.addr, token=ROOT)
    admin.sys.enable_secrets_engine("transit", path="short")
    admin.secrets.transit.create_key("gone", mount_point="short")
    sealed = admin.secrets.transit.encrypt_data("gone", HELLO, mount_point="short")["data"]
    admin.sys.disable_secrets_engine("short")
    admin.sys.enable_secrets_engine("transit", path="short")
    with pytest.raises(hvac.exceptions.InvalidRequest):
        admin.secrets.transit.decrypt_data("gone", sealed["ciphertext"], mount_point="short")
    admin.sys.disable_secrets_engine("short")


def test_backup_and_restore(transit: hvac.api.secrets_engines.Transit) -> None:
    transit.create_key("saved", exportable=True, allow_plaintext_backup=True)
    sealed = transit.encrypt_data("saved", HELLO)["data"]["ciphertext"]
    transit.rotate_key("saved")
    backup = transit.backup_key("saved")["data"]["backup"]
    transit.update_key_configuration("saved", deletion_allowed=True)
    transit.delete_key("saved")
    assert transit.restore_key(backup).status_code == 204
    assert transit.decrypt_data("saved", sealed)["data"]["plaintext"] == HELLO
    assert transit.read_key("saved")["data"]["latest_version"] == 2
    with pytest.raises(hvac.exceptions.InvalidRequest) as exists:
        transit.restore_key(backup)
    assert "already exists" in str(exists.value)
    assert transit.restore_key(backup, force=True).status_code == 204
    assert transit.restore_key(backup, name="copy").status_code == 204
    assert transit.decrypt_data("copy", sealed)["data"]["plaintext"] == HELLO
    transit.create_key("kept-inside")
    with pytest.raises(hvac.exceptions.InvalidRequest) as refused:
        transit.backup_key("kept-inside")
    assert "plaintext backup is disallowed" in str(refused.value)
    with pytest.raises(hvac.exceptions.InvalidRequest):
        transit.restore_key(base64.b64encode(b'{"format": "other"}').decode(), name="bad")


def test_a_keyring_term_that_transit_keys_use_is_not_retired_until_rewrapped(
    server: StrongroomServer, transit: hvac.api.secrets_engines.Transit
) -> None:
    """Transit keys are sealed under their mount's keyring: retiring the term under them would
    destroy them. The term counts as in use until `keys rewrap` re-seals them."""
    transit.create_key("under-term")
    sealed = transit.encrypt_data("under-term", HELLO)["data"]["ciphertext"]
    native = httpx.Client(
        base_url=f"{server.addr}/api/v1/namespaces/transit",
        headers={"Authorization": f"Bearer {ROOT}"},
    )
    with native:
        terms = native.get("/keys").json()["terms"]
        first = terms[0]["term"]
        assert terms[0]["versions_in_use"] >= 1  # the Transit keys sealed under it
        assert native.post("/keys/rotate").status_code == 200
        refused = native.post("/keys/retire", json={"term": first})
        assert refused.status_code == 409 and "Transit keys still use" in refused.text
        while not native.post("/keys/rewrap", json={}).json()["done"]:
            pass
        assert native.post("/keys/retire", json={"term": first}).status_code == 200
    assert transit.decrypt_data("under-term", sealed)["data"]["plaintext"] == HELLO
