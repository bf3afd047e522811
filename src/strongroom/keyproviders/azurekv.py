"""An Azure Key Vault (or Managed HSM) RSA key as a root of trust (``azurekv:`` provider URIs;
the ``azure`` extra, azure-keyvault-keys and azure-identity). Not verified against the live
service: tested through the SDK's own transport seam against responses of the documented shape
(docs/kms.md).

    azurekv:https://<vault>.vault.azure.net/keys/<name>/<version>[?timeout=10]

The key identifier includes its version, so the key under stored keyrings never changes
silently. Credentials are azure-identity's DefaultAzureCredential (a managed identity, workload
identity, or the environment).

RSA key wrapping has no associated data, so each wrap makes a fresh AES-256 data key, has Key
Vault wrap it (``RSA-OAEP-256``) and seals the key material locally under it with the canonical
context as associated data (keyproviders/_envelope.py); an unwrap is one ``unwrapKey``. Every
call has a connect and a read timeout, and azure-core retries transient errors with exponential
backoff. Errors never carry an SDK type or Azure's own message."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from azure.core import exceptions as azure_errors
from azure.keyvault.keys.crypto import CryptographyClient, KeyWrapAlgorithm

from strongroom.crypto import new_key
from strongroom.crypto.context import Context
from strongroom.errors import BadRequest, DecryptionError, KeyProviderUnavailable
from strongroom.keyproviders._envelope import open_payload, seal_payload
from strongroom.keyproviders.options import DEFAULT_TIMEOUT, check_options, timeout_option
from strongroom.keyproviders.provider import KeyProviderBase

__all__ = ["AzureKeyVaultProvider", "azurekv_provider"]

_ALGORITHM = KeyWrapAlgorithm.rsa_oaep_256
_T = TypeVar("_T")


class AzureKeyVaultProvider(KeyProviderBase):
    def __init__(
        self,
        key_id: str,
        credential: Any,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        **client_options: Any,
    ) -> None:
        self._key_id = _check_key_id(key_id)
        self._client = CryptographyClient(
            key_id,
            credential,
            connection_timeout=timeout,
            read_timeout=timeout,
            retry_total=3,
            **client_options,
        )

    def __repr__(self) -> str:
        return f"AzureKeyVaultProvider({self._key_id!r})"

    def close(self) -> None:
        self._client.close()

    @property
    def key_ref(self) -> str:
        return f"azurekv:{self._key_id}"

    def wrap(self, plaintext_key: bytes, *, context: Context) -> bytes:
        data_key = new_key()
        made = self._ask("wrapKey", lambda: self._client.wrap_key(_ALGORITHM, data_key))
        return seal_payload(data_key, bytes(made.encrypted_key), plaintext_key, context)

    def unwrap(self, wrapped: bytes, *, context: Context) -> bytes:
        def unwrap_key(blob: bytes) -> bytes:
            opened = self._ask(
                "unwrapKey", lambda: self._client.unwrap_key(_ALGORITHM, blob), no_means_no=True
            )
            return bytes(opened.key)

        return open_payload(wrapped, context, unwrap_key)

    def _ask(self, operation: str, call: Callable[[], _T], *, no_means_no: bool = False) -> _T:
        try:
            return call()
        except azure_errors.ClientAuthenticationError:
            raise KeyProviderUnavailable(
                f"Azure refused the server's credential for {operation} on {self._key_id}: "
                "check its managed identity"
            ) from None
        except azure_errors.ResourceNotFoundError:
            raise KeyProviderUnavailable(f"no Azure Key Vault key {self._key_id}") from None
        except azure_errors.HttpResponseError as exc:
            if exc.status_code == 400 and no_means_no:
                raise DecryptionError() from None
            if exc.status_code == 403:
                raise KeyProviderUnavailable(
                    f"Azure Key Vault refused {operation} on {self._key_id}: grant the server's "
                    "identity wrapKey, unwrapKey and get on it (docs/kms.md)"
                ) from None
            raise KeyProviderUnavailable(
                f"Azure Key Vault answered {exc.status_code} to {operation} on {self._key_id}"
            ) from None
        except azure_errors.AzureError:
            raise KeyProviderUnavailable(
                f"Azure Key Vault is unreachable for {operation} on {self._key_id}"
            ) from None
        except ValueError:  # the SDK's own check of a malformed ciphertext
            if no_means_no:
                raise DecryptionError() from None
            raise


def _check_key_id(key_id: str) -> str:
    split = urlsplit(key_id)
    parts = split.path.strip("/").split("/")
    if split.scheme != "https" or not split.netloc or len(parts) != 3 or parts[0] != "keys":
        raise BadRequest(
            "an azurekv provider names its key with its version: "
            "azurekv:https://VAULT.vault.azure.net/keys/NAME/VERSION"
        )
    return key_id


def azurekv_provider(uri: Any) -> AzureKeyVaultProvider:
    """From a parsed ``azurekv:`` URI (keyproviders/registry.py)."""
    params: Mapping[str, str] = uri.params
    check_options("azurekv", params, ())
    from azure.identity import DefaultAzureCredential

    key_id = _check_key_id(str(uri.target))
    return AzureKeyVaultProvider(key_id, DefaultAzureCredential(), timeout=timeout_option(params))
