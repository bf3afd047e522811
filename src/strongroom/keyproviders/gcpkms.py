"""A Google Cloud KMS key as a root of trust (``gcpkms:`` provider URIs; the ``gcp`` extra,
google-cloud-kms). Not verified against the live service: tested through the SDK's own REST
transport against responses of the documented shape (docs/kms.md).

    gcpkms:projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>
        [?credentials_file=/etc/strongroom/gcp-sa.json][&endpoint=…][&timeout=10]

Credentials are Application Default Credentials (Workload Identity, the metadata server,
GOOGLE_APPLICATION_CREDENTIALS) unless ``credentials_file=`` names a service account key file.

Each wrap is one ``Encrypt`` with the canonical context as the additional authenticated data
(Cloud KMS binds it, so an unwrap under another context fails), each unwrap one ``Decrypt``
(Cloud KMS finds the key version in the ciphertext). CRC32C checksums go both ways, as Cloud KMS
asks, so a value damaged on the way is refused rather than stored. Transient errors are retried
with jittered exponential backoff inside the timeout. Errors never carry an SDK type or Google's
own message."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import google_crc32c
from google.api_core import exceptions as google_errors
from google.api_core import retry as google_retry
from google.cloud import kms_v1

from strongroom.crypto.context import Context, canonical_context
from strongroom.errors import BadRequest, DecryptionError, KeyProviderUnavailable
from strongroom.keyproviders.options import DEFAULT_TIMEOUT, check_options, timeout_option
from strongroom.keyproviders.provider import KeyProviderBase

__all__ = ["GcpKmsKeyProvider", "gcpkms_provider"]

_MAX_WRAPPED = 64 * 1024
_KEY_PARTS = ("projects", "locations", "keyRings", "cryptoKeys")
_T = TypeVar("_T")


class GcpKmsKeyProvider(KeyProviderBase):
    def __init__(
        self,
        key_name: str,
        client: Any,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._key_name = key_name
        self._client = client
        self._timeout = timeout
        self._retry = google_retry.Retry(
            predicate=google_retry.if_transient_error,
            initial=0.1,
            maximum=2.0,
            multiplier=2.0,
            timeout=timeout,
        )

    def __repr__(self) -> str:
        return f"GcpKmsKeyProvider({self._key_name!r})"

    def close(self) -> None:
        self._client.transport.close()

    @property
    def key_ref(self) -> str:
        return f"gcpkms:{self._key_name}"

    def wrap(self, plaintext_key: bytes, *, context: Context) -> bytes:
        aad = canonical_context(context)
        answer = self._ask(
            "Encrypt",
            lambda: self._client.encrypt(
                request={
                    "name": self._key_name,
                    "plaintext": plaintext_key,
                    "plaintext_crc32c": google_crc32c.value(plaintext_key),
                    "additional_authenticated_data": aad,
                    "additional_authenticated_data_crc32c": google_crc32c.value(aad),
                },
                retry=self._retry,
                timeout=self._timeout,
            ),
        )
        ciphertext = bytes(answer.ciphertext)
        checked = (
            answer.verified_plaintext_crc32c
            and answer.verified_additional_authenticated_data_crc32c
            and answer.ciphertext_crc32c == google_crc32c.value(ciphertext)
        )
        if not checked or not ciphertext:
            raise KeyProviderUnavailable(
                f"Cloud KMS's answer to Encrypt with {self._key_name} failed its CRC32C check"
            )
        return ciphertext

    def unwrap(self, wrapped: bytes, *, context: Context) -> bytes:
        if not 0 < len(wrapped) <= _MAX_WRAPPED:
            raise DecryptionError()
        aad = canonical_context(context)
        answer = self._ask(
            "Decrypt",
            lambda: self._client.decrypt(
                request={
                    "name": self._key_name,
                    "ciphertext": wrapped,
                    "ciphertext_crc32c": google_crc32c.value(wrapped),
                    "additional_authenticated_data": aad,
                    "additional_authenticated_data_crc32c": google_crc32c.value(aad),
                },
                retry=self._retry,
                timeout=self._timeout,
            ),
            no_means_no=True,
        )
        plaintext = bytes(answer.plaintext)
        if answer.plaintext_crc32c != google_crc32c.value(plaintext):
            raise KeyProviderUnavailable(
                f"Cloud KMS's answer to Decrypt with {self._key_name} failed its CRC32C check"
            )
        return plaintext

    def _ask(self, operation: str, call: Callable[[], _T], *, no_means_no: bool = False) -> _T:
        try:
            return call()
        except google_errors.GoogleAPICallError as exc:
            raise self._refusal(operation, _status(exc), no_means_no) from None
        except google_errors.GoogleAPIError as exc:
            kind = "timed out" if isinstance(exc, google_errors.RetryError) else "unreachable"
            raise KeyProviderUnavailable(
                f"Cloud KMS is {kind} for {operation} on {self._key_name}"
            ) from None
        except Exception as exc:  # transport errors of google-auth and requests
            raise KeyProviderUnavailable(
                f"Cloud KMS is unreachable for {operation} on {self._key_name} "
                f"({_transport_kind(exc)})"
            ) from None

    def _refusal(self, operation: str, status: str, no_means_no: bool) -> Exception:
        if status == "INVALID_ARGUMENT" and no_means_no:
            return DecryptionError()  # "Decryption failed: the ciphertext is invalid."
        if status in ("PERMISSION_DENIED", "UNAUTHENTICATED"):
            return KeyProviderUnavailable(
                f"Cloud KMS refused {operation} on {self._key_name}: grant the server's "
                "service account roles/cloudkms.cryptoKeyEncrypterDecrypter on it (docs/kms.md)"
            )
        if status == "NOT_FOUND":
            return KeyProviderUnavailable(f"no Cloud KMS key {self._key_name}")
        if status == "FAILED_PRECONDITION":
            return KeyProviderUnavailable(
                f"the Cloud KMS key {self._key_name} has no enabled primary version; enable one"
            )
        return KeyProviderUnavailable(
            f"Cloud KMS answered {status or 'an error'} to {operation} on {self._key_name}"
        )


def _status(exc: google_errors.GoogleAPICallError) -> str:
    """The canonical status name (INVALID_ARGUMENT, …): gRPC carries it; over REST it is in the
    error body, while the exception's class follows only the HTTP status."""
    if exc.grpc_status_code is not None:
        return str(exc.grpc_status_code.name)
    try:
        return str(exc.response.json()["error"]["status"])
    except Exception:
        return {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}.get(
            int(exc.code or 0), ""
        )


def _transport_kind(exc: Exception) -> str:
    name = type(exc).__name__.lower()
    if "timeout" in name:
        return "timed out"
    if "credential" in name or "auth" in name:
        return "no Google credentials: use Workload Identity, ADC or credentials_file=…"
    return "connection failed"


def _check_key_name(name: str) -> str:
    parts = name.split("/")
    if len(parts) != 8 or tuple(parts[0::2]) != _KEY_PARTS or not all(parts[1::2]):
        raise BadRequest(
            "a gcpkms provider names its key: gcpkms:projects/P/locations/L/keyRings/R/cryptoKeys/K"
        )
    return name


def gcpkms_provider(uri: Any) -> GcpKmsKeyProvider:
    """From a parsed ``gcpkms:`` URI (keyproviders/registry.py)."""
    params: Mapping[str, str] = uri.params
    check_options("gcpkms", params, ("credentials_file", "endpoint"))
    key_name = _check_key_name(str(uri.target))
    options: dict[str, Any] = {}
    if params.get("endpoint"):
        options["client_options"] = {"api_endpoint": params["endpoint"]}
    if params.get("credentials_file"):
        from google.oauth2 import service_account

        try:
            options["credentials"] = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                params["credentials_file"],
                scopes=["https://www.googleapis.com/auth/cloudkms"],
            )
        except (OSError, ValueError):
            raise KeyProviderUnavailable(
                f"cannot read the Google service account file {params['credentials_file']}"
            ) from None
    try:
        client = kms_v1.KeyManagementServiceClient(transport="rest", **options)
    except Exception:  # google.auth's DefaultCredentialsError, among others
        raise KeyProviderUnavailable(
            "no Google credentials: use Workload Identity, ADC or credentials_file=…"
        ) from None
    return GcpKmsKeyProvider(key_name, client, timeout=timeout_option(params))
