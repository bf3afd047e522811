"""Envelope format v1 (docs/envelope.md). Never change it; add a format version instead.

    "SR" | format u8 = 1 | suite u8 = 1 | key_ref_len u16 | key_ref | wrapped_dek_len u16
    | wrapped_dek | nonce (12) | ciphertext || tag

associated data = every header byte up to and including the nonce || canonical(context)
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from strongroom.crypto._aead import NONCE_BYTES, TAG_BYTES, Aead
from strongroom.crypto.context import Context, canonical_context
from strongroom.errors import DecryptionError, UnsupportedFormat

__all__ = [
    "FORMAT_V1",
    "MAGIC",
    "SUITE_AES256_GCM",
    "DataKey",
    "DataKeySource",
    "Envelope",
    "envelope_header",
    "header_end",
    "open_at",
    "open_envelope",
    "open_many",
    "open_sealed",
    "parse_envelope",
    "seal",
    "seal_many_with_data_key",
    "seal_with_data_key",
    "split_header",
]

MAGIC = b"SR"
FORMAT_V1 = 1
SUITE_AES256_GCM = 1
_U16 = struct.Struct(">H")
_MAX_U16 = 0xFFFF


@dataclass(frozen=True)
class DataKey:
    """A plaintext DEK (as a ready cipher) with its wrapped form. Never logged or pickled."""

    key_ref: str
    wrapped: bytes
    aead: Aead = field(repr=False)
    header: bytes = field(repr=False, default=b"")

    def __post_init__(self) -> None:
        if not self.header:
            object.__setattr__(self, "header", envelope_header(self.key_ref, self.wrapped))


class DataKeySource(Protocol):
    """Anything that makes and unwraps data keys: a key provider or a namespace keyring term."""

    @property
    def key_ref(self) -> str: ...

    def generate_data_key(self, *, context: Context) -> DataKey: ...

    def unwrap_data_key(self, wrapped: bytes, *, context: Context) -> Aead: ...


def envelope_header(key_ref: str, wrapped: bytes) -> bytes:
    """Every byte of an envelope before its nonce, for this key reference and wrapped DEK."""
    ref = key_ref.encode("utf-8")
    if not ref or len(ref) > _MAX_U16 or len(wrapped) > _MAX_U16:
        raise ValueError("key reference or wrapped key out of range")
    return (
        MAGIC
        + bytes((FORMAT_V1, SUITE_AES256_GCM))
        + _U16.pack(len(ref))
        + ref
        + _U16.pack(len(wrapped))
        + wrapped
    )


def seal_with_data_key(
    plaintext: bytes, *, data_key: DataKey, context: Context, encoded_context: bytes | None = None
) -> bytes:
    """Seal under an existing data key (a cached one, in the token library). A caller that
    already holds ``canonical_context(context)`` may pass it as ``encoded_context``."""
    encoded = encoded_context if encoded_context is not None else canonical_context(context)
    return data_key.aead.seal_one(data_key.header, plaintext, encoded)


def seal_many_with_data_key(
    plaintexts: Iterable[bytes], *, data_key: DataKey, encoded_context: bytes
) -> list[bytes]:
    """``seal_with_data_key`` for many plaintexts under one data key and context: the same
    envelopes (a fresh nonce each), without the per-call work."""
    return data_key.aead.seal_each(data_key.header, plaintexts, encoded_context)


def seal(plaintext: bytes, *, keys: DataKeySource, context: Context) -> bytes:
    """Seal ``plaintext`` under a fresh DEK from ``keys``, bound to ``context``."""
    return seal_with_data_key(
        plaintext, data_key=keys.generate_data_key(context=context), context=context
    )


@dataclass(frozen=True)
class Envelope:
    """The parsed, not yet authenticated, parts of an envelope."""

    key_ref: str
    wrapped_dek: bytes
    nonce: bytes
    ciphertext: bytes
    header: bytes  # every byte up to and including the nonce

    def open_with(
        self, aead: Aead, *, context: Context, encoded_context: bytes | None = None
    ) -> bytes:
        encoded = encoded_context if encoded_context is not None else canonical_context(context)
        return aead.decrypt(self.nonce, self.ciphertext, self.header + encoded)


_PREFIX_V1 = MAGIC + bytes((FORMAT_V1, SUITE_AES256_GCM))


def _offsets(blob: bytes) -> tuple[int, int]:
    """Where the key reference ends and where the nonce starts. Checks only framing; every
    byte before the nonce is authenticated when the envelope is opened."""
    if blob[:4] != _PREFIX_V1:
        parse_envelope(blob)  # raises the precise error (unsupported format, or decryption)
        raise DecryptionError()
    try:  # the two u16 lengths, big-endian
        ref_end = 6 + (blob[4] << 8 | blob[5])
        end = ref_end + 2 + (blob[ref_end] << 8 | blob[ref_end + 1])
    except IndexError:
        raise DecryptionError() from None
    if len(blob) < end + NONCE_BYTES + TAG_BYTES or ref_end == 6:
        raise DecryptionError()
    return ref_end, end


def header_end(blob: bytes) -> int:
    """Offset of the nonce: the header (key reference and wrapped DEK) ends there."""
    return _offsets(blob)[1]


def split_header(blob: bytes) -> tuple[str, bytes, int]:
    """The key reference, the wrapped DEK and the header's end, without parsing the rest."""
    ref_end, end = _offsets(blob)
    try:
        key_ref = blob[6:ref_end].decode("utf-8")
    except UnicodeDecodeError:
        raise DecryptionError() from None
    return key_ref, blob[ref_end + 2 : end], end


def open_at(aead: Aead, blob: bytes, end: int, encoded_context: bytes) -> bytes:
    """Open an envelope whose header ends at ``end`` (from header_end) with its unwrapped DEK."""
    return aead.open_one(blob, end, encoded_context)


def parse_envelope(blob: bytes) -> Envelope:
    """Split an envelope; raise UnsupportedFormat for unknown format/suite, else DecryptionError."""
    if len(blob) < 4 or blob[:2] != MAGIC:
        raise DecryptionError()
    if blob[2] != FORMAT_V1 or blob[3] != SUITE_AES256_GCM:
        raise UnsupportedFormat()
    try:
        offset = 4
        (ref_len,) = _U16.unpack_from(blob, offset)
        offset += 2
        key_ref = blob[offset : offset + ref_len].decode("utf-8")
        if len(key_ref.encode("utf-8")) != ref_len or ref_len == 0:
            raise DecryptionError()
        offset += ref_len
        (wrapped_len,) = _U16.unpack_from(blob, offset)
        offset += 2
        wrapped = blob[offset : offset + wrapped_len]
        offset += wrapped_len
        nonce = blob[offset : offset + NONCE_BYTES]
        offset += NONCE_BYTES
    except (struct.error, UnicodeDecodeError):
        raise DecryptionError() from None
    if len(wrapped) != wrapped_len or len(nonce) != NONCE_BYTES:
        raise DecryptionError()
    ciphertext = blob[offset:]
    if len(ciphertext) < TAG_BYTES:
        raise DecryptionError()
    return Envelope(key_ref, wrapped, nonce, ciphertext, blob[:offset])


def open_sealed(blob: bytes, encoded_context: bytes, unwrap: Callable[[str, bytes], Aead]) -> bytes:
    """The one recipe that opens an envelope: read its header, get the DEK from
    ``unwrap(key_ref, wrapped_dek)`` (a cache, a keyring term, a provider), and decrypt with the
    header and the canonical context as associated data. Every failure is the one
    DecryptionError (UnsupportedFormat for a format this version does not know)."""
    key_ref, wrapped, end = split_header(blob)
    return open_at(unwrap(key_ref, wrapped), blob, end, encoded_context)


def open_many(
    blobs: Iterable[bytes], encoded_context: bytes, unwrap: Callable[[str, bytes], Aead]
) -> list[bytes]:
    """``open_sealed`` for many envelopes bound to one context: a run of envelopes under the
    same data key (the same header) reads its header and gets its DEK once."""
    opened: list[bytes] = []
    items = blobs if isinstance(blobs, list | tuple) else list(blobs)
    start = 0
    while start < len(items):  # one run of blobs under one header at a time
        key_ref, wrapped, end = split_header(items[start])
        stop = unwrap(key_ref, wrapped).open_run(items, start, end, encoded_context, opened)
        # The blob that stopped the run: broken if it has the run's header (the run's first
        # blob always has), else the first of the next run.
        if stop < len(items) and items[stop][:end] == items[start][:end]:
            raise DecryptionError()
        start = stop
    return opened


def open_envelope(
    blob: bytes, *, resolve: Callable[[str], DataKeySource], context: Context
) -> bytes:
    """Open an envelope. ``resolve`` maps the header's key reference to its key source and
    raises DecryptionError for an unknown one."""
    return open_sealed(
        blob,
        canonical_context(context),
        lambda key_ref, wrapped: resolve(key_ref).unwrap_data_key(wrapped, context=context),
    )
