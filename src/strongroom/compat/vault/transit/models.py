"""Transit's ciphertext format (``vault:v<N>:<base64>``), each item's outcome and Transit's
limits (the items themselves: items.py; reading request fields: fields.py)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field

from strongroom.crypto.named_keys import (
    HASHES,
    KEY_TYPES,
    KeyType,
    public_key,
)
from strongroom.service.named_keys import NamedKey

__all__ = [
    "BACKUP_FORMAT",
    "CIPHERTEXT_PREFIX",
    "DATAKEY_BITS",
    "HASH_ALGORITHMS",
    "KEY_NAME_CHARS",
    "MAX_BATCH_ITEMS",
    "MAX_KEY_NAME",
    "MAX_KEY_VERSIONS",
    "MAX_RSA_BATCH_ITEMS",
    "MIN_AUTO_ROTATE_SECONDS",
    "Decrypted",
    "Encrypted",
    "Hmac",
    "ItemResult",
    "Outcome",
    "Signature",
    "Verdict",
    "format_ciphertext",
    "key_type",
    "mac_key",
    "public_keys",
]


MAX_BATCH_ITEMS = 1000
MAX_RSA_BATCH_ITEMS = 100
MAX_KEY_VERSIONS = 1000
BACKUP_FORMAT = "strongroom-transit-backup-1"
MIN_AUTO_ROTATE_SECONDS = 3600.0
CIPHERTEXT_PREFIX = "vault:v"
KEY_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
MAX_KEY_NAME = 128
DATAKEY_BITS = (128, 256, 512)
HASH_ALGORITHMS = frozenset(HASHES)  # Vault's names: sha2-256, sha3-512…


def key_type(key: NamedKey) -> KeyType:
    """What a key's type can do (encrypt, sign, derive)."""
    return KEY_TYPES[key.type]


def public_keys(key: NamedKey) -> Mapping[int, str]:
    """The public key of each version of a signing key (none for other keys)."""
    if not KEY_TYPES[key.type].signing:
        return {}
    return {n: public_key(key.type, v.material) for n, v in key.versions.items()}


def format_ciphertext(version: int, raw: bytes) -> str:
    return f"{CIPHERTEXT_PREFIX}{version}:{base64.b64encode(raw).decode()}"


@dataclass(frozen=True)
class Encrypted:
    """An item sealed: its ``vault:v<N>:`` ciphertext and the key version that sealed it; for
    a plaintext data key, the key itself too."""

    ciphertext: str
    key_version: int
    plaintext: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Decrypted:
    plaintext: bytes = field(repr=False)


@dataclass(frozen=True)
class Hmac:
    hmac: str  # vault:v<N>:<base64>


@dataclass(frozen=True)
class Signature:
    signature: str  # vault:v<N>:<base64>
    key_version: int


@dataclass(frozen=True)
class Verdict:
    """A signature's or an HMAC's check."""

    valid: bool


Outcome = Encrypted | Decrypted | Hmac | Signature | Verdict


@dataclass(frozen=True)
class ItemResult:
    """An item's outcome, or the error reported in its place in a batch."""

    value: Outcome | None = None
    error: str = ""


def mac_key(key: NamedKey, number: int) -> bytes:
    """An HMAC key is its own MAC key; every other type has one per version beside its key."""
    version = key.versions[number]
    return version.material if key.type == "hmac" else version.hmac_key
