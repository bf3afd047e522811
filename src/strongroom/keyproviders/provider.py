"""The KeyProvider protocol every root-key provider implements (docs/kms.md)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from strongroom.crypto import Aead, new_key
from strongroom.crypto.context import Context
from strongroom.crypto.envelope import DataKey

__all__ = ["KeyProvider", "KeyProviderBase", "RotatableKeyProvider"]


@runtime_checkable
class KeyProvider(Protocol):
    """Wraps and unwraps keys under a root key, binding every call to its context.

    SDK errors never escape a provider: they become KeyProviderUnavailable (the provider could
    not be reached) or DecryptionError (it answered, and the answer is no)."""

    @property
    def key_ref(self) -> str: ...

    def wrap(self, plaintext_key: bytes, *, context: Context) -> bytes: ...

    def unwrap(self, wrapped: bytes, *, context: Context) -> bytes: ...

    def generate_data_key(self, *, context: Context) -> DataKey: ...

    def unwrap_data_key(self, wrapped: bytes, *, context: Context) -> Aead: ...


@runtime_checkable
class RotatableKeyProvider(KeyProvider, Protocol):
    """A provider whose root key strongroom rotates (the local KMS, a new PKCS#11 key). Providers
    that rotate themselves (AWS KMS automatic rotation) are not: strongroom only re-wraps."""

    def rotate(self) -> int:
        """Make a new root key version the one that wraps; returns its number. Older versions
        still unwrap."""
        ...


class KeyProviderBase:
    """Derives the data-key calls from ``wrap``/``unwrap``; providers implement those two."""

    @property
    def key_ref(self) -> str:
        raise NotImplementedError

    def wrap(self, plaintext_key: bytes, *, context: Context) -> bytes:
        raise NotImplementedError

    def unwrap(self, wrapped: bytes, *, context: Context) -> bytes:
        raise NotImplementedError

    def generate_data_key(self, *, context: Context) -> DataKey:
        dek = new_key()
        return DataKey(self.key_ref, self.wrap(dek, context=context), Aead(dek))

    def unwrap_data_key(self, wrapped: bytes, *, context: Context) -> Aead:
        return Aead(self.unwrap(wrapped, context=context))
