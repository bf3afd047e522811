"""One term of a namespace keyring: an AES-256 key that wraps the DEK of each version sealed
under it, bound to the version's context, and its reference ``ns:<namespace>#<number>``."""

from __future__ import annotations

import struct

from strongroom.crypto import Aead, Context, DataKey, canonical_context, new_key
from strongroom.keyproviders.provider import KeyProviderBase

__all__ = ["KeyringTerm", "parse_term_ref", "term_ref"]


def term_ref(namespace: str, number: int) -> str:
    return f"ns:{namespace}#{number}"


def parse_term_ref(key_ref: str) -> tuple[str, int] | None:
    if not key_ref.startswith("ns:") or "#" not in key_ref:
        return None
    namespace, _, number = key_ref[3:].rpartition("#")
    return (namespace, int(number)) if number.isascii() and number.isdigit() else None


class KeyringTerm(KeyProviderBase):
    """One term of a namespace keyring. It wraps each DEK bound to the DEK's context, so it is
    a key provider in its own right (and an envelope's DataKeySource)."""

    __slots__ = ("_ad_prefix", "_aead", "_key_ref", "created", "number")

    def __init__(self, namespace: str, number: int, key: bytes, created: float) -> None:
        self.number = number
        self.created = created
        self._key_ref = term_ref(namespace, number)
        self._aead = Aead(key)
        ref = self._key_ref.encode()
        # What every DEK's associated data starts with under this term, made once.
        self._ad_prefix = b"strongroom dek v1\x00" + struct.pack(">H", len(ref)) + ref

    def __repr__(self) -> str:
        return f"KeyringTerm({self._key_ref!r})"

    @property
    def key_ref(self) -> str:
        return self._key_ref

    def _associated_data(self, encoded_context: bytes) -> bytes:
        return self._ad_prefix + encoded_context

    def wrap(self, plaintext_key: bytes, *, context: Context) -> bytes:
        return self._aead.wrap(plaintext_key, self._associated_data(canonical_context(context)))

    def unwrap(self, wrapped: bytes, *, context: Context) -> bytes:
        return self._aead.unwrap(wrapped, self._associated_data(canonical_context(context)))

    def generate_data_key_encoded(self, encoded_context: bytes) -> DataKey:
        """generate_data_key for a caller that already holds canonical_context(context)."""
        dek = new_key()
        wrapped = self._aead.wrap(dek, self._associated_data(encoded_context))
        return DataKey(self._key_ref, wrapped, Aead(dek))

    def unwrap_data_key_encoded(self, wrapped: bytes, encoded_context: bytes) -> Aead:
        """unwrap_data_key for a caller that already holds canonical_context(context)."""
        return Aead(self._aead.unwrap(wrapped, self._associated_data(encoded_context)))
