"""Transit's ciphertexts (``vault:v<N>:<base64>``), each item's result and Transit's limits
(the items themselves: items.py)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from strongroom.crypto.named_keys import (
    HASHES,
    KEY_TYPES,
    KeyType,
    public_key,
)
from strongroom.errors import BadRequest
from strongroom.limits import MAX_INTEGER
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
    "b64_field",
    "format_ciphertext",
    "key_type",
    "mac_key",
    "optional_b64_field",
    "parse_ciphertext",
    "public_keys",
    "settings_bool",
    "settings_int",
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


def public_keys(key: NamedKey) -> dict[int, str]:
    """The public key of each version of a signing key (none for other keys)."""
    if not KEY_TYPES[key.type].signing:
        return {}
    return {n: public_key(key.type, v.material) for n, v in key.versions.items()}


def format_ciphertext(version: int, raw: bytes) -> str:
    return f"{CIPHERTEXT_PREFIX}{version}:{base64.b64encode(raw).decode()}"


def parse_ciphertext(text: object, what: str = "ciphertext") -> tuple[int, bytes]:
    """(key version, raw bytes) of ``vault:v<N>:<base64>``, or a 400 in Vault's words."""
    if not isinstance(text, str) or not text.startswith("vault:"):
        raise BadRequest(f"invalid {what}: no prefix")
    parts = text.split(":")
    if len(parts) != 3:
        raise BadRequest(f"invalid {what}: wrong number of fields")
    number = parts[1][1:]
    if not parts[1].startswith("v") or not (number.isascii() and number.isdigit()):
        raise BadRequest(f"invalid {what}: version number could not be decoded")
    try:
        raw = base64.b64decode(parts[2], validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f"invalid {what}: could not decode base64") from None
    if len(number) > 10 or int(number) > MAX_INTEGER:
        raise BadRequest(f"invalid {what}: version number could not be decoded")
    return int(number), raw


_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


def b64_field(value: object, name: str) -> bytes:
    if not isinstance(value, str):
        raise BadRequest(f"missing {name}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        # Vault's (Go's) wording: the offset of the first byte that is not base64.
        offset = next((i for i, c in enumerate(value) if c not in _B64_ALPHABET), len(value))
        raise BadRequest(f"illegal base64 data at input byte {offset}") from None


def optional_b64_field(value: object, name: str) -> bytes | None:
    return None if value in (None, "") else b64_field(value, name)


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


def settings_bool(doc: Mapping[str, Any], name: str, default: bool = False) -> bool:
    value = doc.get(name, default)
    if value in (None, ""):
        return default
    if isinstance(value, bool):
        return value
    if value in ("true", "1", 1):
        return True
    if value in ("false", "0", 0):
        return False
    raise BadRequest(f"{name!r} must be true or false")


def settings_int(doc: Mapping[str, Any], name: str) -> int | None:
    value = doc.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.lstrip("-").isascii() and value.lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_INTEGER:
        raise BadRequest(f"{name!r} must be an integer")
    return value


def mac_key(key: NamedKey, number: int) -> bytes:
    """An HMAC key is its own MAC key; every other type has one per version beside its key."""
    version = key.versions[number]
    return version.material if key.type == "hmac" else version.hmac_key
