"""The Google Cloud KMS and Azure Key Vault providers, through their SDKs' own transport seams,
against services of the documented wire shape (REST JSON, status codes, error bodies) that do the
cryptography for real. Neither live service is reachable from here: these tests prove that the
providers speak the SDKs correctly and map every answer; docs/kms.md says plainly that the live
services are not verified."""

from __future__ import annotations

import base64
import http.server
import io
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import urllib3
from azure.core.credentials import AccessToken
from azure.core.pipeline.transport import RequestsTransport
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.auth.credentials import AnonymousCredentials
from google.cloud import kms_v1
from requests.structures import CaseInsensitiveDict

from strongroom.errors import BadRequest, DecryptionError, KeyProviderUnavailable
from strongroom.keyproviders.azurekv import AzureKeyVaultProvider
from strongroom.keyproviders.gcpkms import GcpKmsKeyProvider
from strongroom.keyproviders.provider import KeyProvider
from strongroom.keyproviders.registry import ProviderRegistry
from strongroom.testing.kms_conformance import CHECKS
from tests.helpers import closed_at_session_end

KEY_NAME = "projects/p/locations/europe-west1/keyRings/strongroom/cryptoKeys/root"
KID = "https://strongroom-test.vault.azure.net/keys/root/0123456789abcdef"


# -- Google Cloud KMS: a REST endpoint of Cloud KMS's shape


def _crc(data: bytes) -> str:
    import google_crc32c

    return str(google_crc32c.value(data))  # int64 fields are strings in JSON


class _CloudKms(http.server.BaseHTTPRequestHandler):
    """``POST /v1/{name}:encrypt`` and ``:decrypt``. Its ciphertext is its own (Cloud KMS's is
    opaque too): a version byte, a nonce and AES-GCM with the request's AAD."""

    keys: dict[str, bytes] = {}
    fail_with: tuple[int, str] | None = None

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        name, _, method = urlsplit(self.path).path.removeprefix("/v1/").partition(":")
        if self.fail_with is not None:
            status, reason = self.fail_with
            return self._send(status, {"error": {"code": status, "message": "x", "status": reason}})
        if name not in self.keys:
            return self._send(404, {"error": {"code": 404, "message": "x", "status": "NOT_FOUND"}})
        aead = AESGCM(self.keys[name])
        aad = base64.b64decode(body.get("additionalAuthenticatedData", ""))
        if method == "encrypt":
            plaintext = base64.b64decode(body["plaintext"])
            nonce = os.urandom(12)
            ciphertext = b"\x01" + nonce + aead.encrypt(nonce, plaintext, aad)
            return self._send(
                200,
                {
                    "name": f"{name}/cryptoKeyVersions/1",
                    "ciphertext": base64.b64encode(ciphertext).decode(),
                    "ciphertextCrc32c": _crc(ciphertext),
                    "verifiedPlaintextCrc32c": body.get("plaintextCrc32c") == _crc(plaintext),
                    "verifiedAdditionalAuthenticatedDataCrc32c": body.get(
                        "additionalAuthenticatedDataCrc32c"
                    )
                    == _crc(aad),
                    "protectionLevel": "HSM",
                },
            )
        ciphertext = base64.b64decode(body["ciphertext"])
        try:
            if ciphertext[:1] != b"\x01":
                raise ValueError
            plaintext = aead.decrypt(ciphertext[1:13], ciphertext[13:], aad)
        except Exception:
            message = "Decryption failed: the ciphertext is invalid."
            error = {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}
            return self._send(400, {"error": error})
        answer = {"plaintext": base64.b64encode(plaintext).decode(), "usedPrimary": True}
        return self._send(200, {**answer, "plaintextCrc32c": _crc(plaintext)})

    def _send(self, status: int, doc: dict[str, Any]) -> None:
        raw = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def cloud_kms() -> Iterator[str]:
    _CloudKms.keys = {KEY_NAME: os.urandom(32), KEY_NAME.replace("root", "other"): os.urandom(32)}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CloudKms)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _gcp(endpoint: str, key_name: str = KEY_NAME, timeout: float = 5) -> GcpKmsKeyProvider:
    client = kms_v1.KeyManagementServiceClient(
        transport="rest",
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options={"api_endpoint": endpoint},
    )
    return closed_at_session_end(GcpKmsKeyProvider(key_name, client, timeout=timeout))


# -- Azure Key Vault: a requests adapter of Key Vault's shape, under azure-core's transport


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class _KeyVault(requests.adapters.BaseAdapter):
    """Key Vault's challenge (a 401 naming the tenant before any token is sent), ``GET`` of
    the key (public part), ``wrapkey`` and ``unwrapkey`` with RSA-OAEP-256."""

    def __init__(self) -> None:
        super().__init__()
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.paths: list[str] = []
        self.forbid = False

    def send(self, request: Any, *args: Any, **kwargs: Any) -> requests.Response:
        path = urlsplit(request.url).path
        self.paths.append(f"{request.method} {path}")
        if "Authorization" not in request.headers:
            challenge = (
                'Bearer authorization="https://login.microsoftonline.com/tenant-id", '
                'resource="https://vault.azure.net"'
            )
            return self._answer(request, 401, {}, {"WWW-Authenticate": challenge})
        if self.forbid:
            error = {"code": "Forbidden", "message": "x", "innererror": {"code": "x"}}
            return self._answer(request, 403, {"error": error})
        if not path.startswith("/keys/root/0123456789abcdef"):
            error = {"code": "KeyNotFound", "message": "x"}
            return self._answer(request, 404, {"error": error})
        oaep = padding.OAEP(
            mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None
        )
        if request.method == "GET":
            numbers = self.private.public_key().public_numbers()
            key = {
                "kid": KID,
                "kty": "RSA-HSM",
                "key_ops": ["wrapKey", "unwrapKey"],
                "n": _b64url(numbers.n.to_bytes(256, "big")),
                "e": _b64url(numbers.e.to_bytes(3, "big")),
            }
            return self._answer(request, 200, {"key": key, "attributes": {"enabled": True}})
        body = json.loads(request.body)
        if path.endswith("/wrapkey"):
            value = self.private.public_key().encrypt(_unb64url(body["value"]), oaep)
            return self._answer(request, 200, {"kid": KID, "value": _b64url(value)})
        try:
            value = self.private.decrypt(_unb64url(body["value"]), oaep)
        except ValueError:
            error = {"code": "BadParameter", "message": "Invalid ciphertext."}
            return self._answer(request, 400, {"error": error})
        return self._answer(request, 200, {"kid": KID, "value": _b64url(value)})

    def _answer(
        self, request: Any, status: int, doc: dict[str, Any], headers: dict[str, str] | None = None
    ) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response.reason = "OK" if status == 200 else "Error"
        raw = json.dumps(doc).encode()
        response._content = raw
        response.headers = CaseInsensitiveDict(
            {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        )
        response.raw = urllib3.HTTPResponse(
            body=io.BytesIO(raw), headers=dict(response.headers), status=status
        )
        response.url = request.url
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass


class _Credential:
    """A token credential as azure-identity's are, without a tenant to ask."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("recorded-token", int(time.time()) + 3600)


def _azure(vault: _KeyVault, key_id: str = KID) -> AzureKeyVaultProvider:
    session = requests.Session()
    session.mount("https://", vault)
    transport = RequestsTransport(session=session, session_owner=False)
    provider = AzureKeyVaultProvider(key_id, _Credential(), timeout=5, transport=transport)
    return closed_at_session_end(provider)


# -- both


@pytest.fixture(params=["gcpkms", "azurekv"])
def make_provider(request: pytest.FixtureRequest) -> Callable[[], KeyProvider]:
    if request.param == "gcpkms":
        endpoint = request.getfixturevalue("cloud_kms")
        return lambda: _gcp(endpoint)
    vault = _KeyVault()
    return lambda: _azure(vault)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_cloud_provider_conformance(
    make_provider: Callable[[], KeyProvider], check: Callable[[Callable[[], KeyProvider]], None]
) -> None:
    check(make_provider)


def test_gcp_errors_say_what_to_fix(cloud_kms: str) -> None:
    wrapped = _gcp(cloud_kms).wrap(b"k" * 32, context={"n": "1"})
    with pytest.raises(DecryptionError):  # another key's ciphertext: Cloud KMS's 400
        _gcp(cloud_kms, KEY_NAME.replace("root", "other")).unwrap(wrapped, context={"n": "1"})
    with pytest.raises(KeyProviderUnavailable, match="no Cloud KMS key"):
        _gcp(cloud_kms, KEY_NAME.replace("root", "gone")).wrap(b"k", context={})
    for status, reason, says in [
        (403, "PERMISSION_DENIED", "roles/cloudkms.cryptoKeyEncrypterDecrypter"),
        (400, "FAILED_PRECONDITION", "no enabled primary version"),
        (503, "UNAVAILABLE", "Cloud KMS is timed out"),  # retried until the timeout, then
    ]:
        _CloudKms.fail_with = (status, reason)
        try:
            with pytest.raises(KeyProviderUnavailable, match=says) as failed:
                _gcp(cloud_kms, timeout=1).wrap(b"k", context={})
            assert "google" not in failed.value.message.lower()
        finally:
            _CloudKms.fail_with = None


def test_gcp_uris_are_checked() -> None:
    for bad in ("gcpkms:projects/p/keyRings/r", "gcpkms:" + KEY_NAME + "?region=x"):
        with pytest.raises(BadRequest):
            ProviderRegistry().build(bad)


def test_azure_errors_say_what_to_fix() -> None:
    vault = _KeyVault()
    provider = _azure(vault)
    wrapped = provider.wrap(b"k" * 32, context={})
    assert "GET /keys/root/0123456789abcdef" in vault.paths  # the SDK's own first step
    other = _azure(_KeyVault())  # another RSA key under the same name: Key Vault's 400
    with pytest.raises(DecryptionError):
        other.unwrap(wrapped, context={})
    vault.forbid = True
    with pytest.raises(KeyProviderUnavailable, match="grant the server's identity wrapKey"):
        _azure(vault).unwrap(wrapped, context={})
    with pytest.raises(KeyProviderUnavailable, match="no Azure Key Vault key"):
        _azure(_KeyVault(), KID.replace("root", "gone")).wrap(b"k", context={})


def test_azure_uris_need_the_key_version() -> None:
    for bad in (
        "azurekv:https://v.vault.azure.net/keys/root",
        "azurekv:http://v.vault.azure.net/keys/root/1",
    ):
        with pytest.raises(BadRequest, match="with its version"):
            ProviderRegistry().build(bad)
