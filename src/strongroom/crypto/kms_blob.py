"""The AWS KMS ``CiphertextBlob`` of strongroom's AWS-compatible KMS: a published format
(docs/aws-kms-ciphertext.md, vectors in tests/vectors/aws_kms_v1.json). It names its key and key
version, so Decrypt needs no KeyId and rotation keeps old versions decrypting.

    "SRK" | format u8 | key id (16 bytes) | key version u32 big-endian
    | nonce (12) | AES-256-GCM ciphertext ‖ tag (16)

    format 1: the key id is a UUID (a single-region key); format 2: the key id is a
    multi-Region key's ``mrk-`` and these 16 bytes in hexadecimal (the same id, and so the same
    blob, in every region the key is replicated to)

    associated data = the 24 header bytes (magic to version) ‖ canonical(EncryptionContext)

The encryption context is bound exactly as AWS binds it: the same pairs in any order open it,
any other pairs (one more, one less, one value changed) do not."""

from __future__ import annotations

import uuid

from strongroom.crypto._aead import NONCE_BYTES, TAG_BYTES, DataCipher
from strongroom.crypto.context import Context, canonical_context
from strongroom.errors import DecryptionError

__all__ = ["HEADER_BYTES", "MAGIC", "BlobHeader", "open_blob", "parse_blob", "seal_blob"]

MAGIC = b"SRK"
_UUID_FORMAT = 1
_MULTI_REGION_FORMAT = 2
_MULTI_REGION = "mrk-"
HEADER_BYTES = 3 + 1 + 16 + 4


class BlobHeader:
    __slots__ = ("key_id", "version")

    def __init__(self, key_id: str, version: int) -> None:
        self.key_id, self.version = key_id, version


def _header(key_id: str, version: int) -> bytes:
    if key_id.startswith(_MULTI_REGION):
        form, raw = _MULTI_REGION_FORMAT, bytes.fromhex(key_id[len(_MULTI_REGION) :])
        if len(raw) != 16:
            raise ValueError("a multi-Region key id is mrk- and 32 hexadecimal digits")
    else:
        form, raw = _UUID_FORMAT, uuid.UUID(key_id).bytes
    return MAGIC + bytes([form]) + raw + version.to_bytes(4, "big")


def seal_blob(
    key_id: str, version: int, material: bytes, plaintext: bytes, context: Context
) -> bytes:
    header = _header(key_id, version)
    sealed = DataCipher(material, "aes-gcm").seal(plaintext, header + canonical_context(context))
    return header + sealed


def parse_blob(blob: bytes) -> BlobHeader:
    """The key and version a blob names (DecryptionError: not a blob of this format)."""
    if len(blob) < HEADER_BYTES + NONCE_BYTES + TAG_BYTES or blob[:3] != MAGIC:
        raise DecryptionError()
    form, raw, version = blob[3], blob[4:20], int.from_bytes(blob[20:24], "big")
    if version < 1 or form not in (_UUID_FORMAT, _MULTI_REGION_FORMAT):
        raise DecryptionError()
    if form == _MULTI_REGION_FORMAT:
        return BlobHeader(_MULTI_REGION + raw.hex(), version)
    return BlobHeader(str(uuid.UUID(bytes=raw)), version)


def open_blob(blob: bytes, material: bytes, context: Context) -> bytes:
    header = blob[:HEADER_BYTES]
    return DataCipher(material, "aes-gcm").open(
        blob[HEADER_BYTES:], header + canonical_context(context)
    )
