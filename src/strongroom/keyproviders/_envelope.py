"""Key material sealed under a provider's data key, for providers whose wrap call has no
associated data or a small size limit (AWS KMS, Azure Key Vault).

    0x01 ‖ u16 length of the provider's blob ‖ provider's blob ‖ AES-256-GCM(payload)

The provider's blob is the data key as the provider wrapped it; the payload is sealed locally
under that data key with the canonical context as associated data, so the context is bound
whatever the provider supports, and a keyring of any size fits."""

from __future__ import annotations

from collections.abc import Callable

from strongroom.crypto import Aead
from strongroom.crypto.context import Context, canonical_context
from strongroom.errors import DecryptionError

__all__ = ["open_payload", "seal_payload"]

_FORMAT = 1
_MAX_BLOB = 0xFFFF


def seal_payload(data_key: bytes, provider_blob: bytes, payload: bytes, context: Context) -> bytes:
    if not 0 < len(provider_blob) <= _MAX_BLOB:
        raise DecryptionError()
    sealed = Aead(data_key).wrap(payload, canonical_context(context))
    return bytes([_FORMAT]) + len(provider_blob).to_bytes(2, "big") + provider_blob + sealed


def open_payload(
    wrapped: bytes, context: Context, unwrap_data_key: Callable[[bytes], bytes]
) -> bytes:
    """The payload, once ``unwrap_data_key`` (the provider's call) opens the blob's data key."""
    if len(wrapped) < 3 or wrapped[0] != _FORMAT:
        raise DecryptionError()
    length = int.from_bytes(wrapped[1:3], "big")
    blob, sealed = wrapped[3 : 3 + length], wrapped[3 + length :]
    if len(blob) != length or not length:
        raise DecryptionError()
    return Aead(unwrap_data_key(blob)).unwrap(sealed, canonical_context(context))
