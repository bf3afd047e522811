"""Transit's request items as typed values (the Vault surface parses them:
server/vault/transit_items.py).

An item whose fields did not parse is an ``ItemError``: in a batch it is answered in the item's
place while the others run; a single item's error is raised here once the caller is authorized
and the key is found, so a caller without rights learns nothing from the shape of its input."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from strongroom.compat.vault.transit.models import (
    MAX_BATCH_ITEMS,
    MAX_RSA_BATCH_ITEMS,
    ItemResult,
    Outcome,
)
from strongroom.errors import BadRequest, DecryptionError
from strongroom.service.named_keys import NamedKey

__all__ = [
    "Batch",
    "Ciphertext",
    "DataKeyItem",
    "DecryptItem",
    "EncryptItem",
    "HmacCheckItem",
    "InputItem",
    "ItemError",
    "KeyConfigChange",
    "KeySettings",
    "SignatureOptions",
    "VerifyItem",
    "each_item",
    "parsed",
]

_T = TypeVar("_T")


@dataclass(frozen=True)
class ItemError:
    """An item whose fields did not parse, with Vault's words for why."""

    message: str
    reference: str = ""


@dataclass(frozen=True)
class Ciphertext:
    """``vault:v<N>:<base64>``: the key version and the raw bytes."""

    version: int
    raw: bytes = field(repr=False)


@dataclass(frozen=True)
class EncryptItem:
    plaintext: bytes = field(repr=False)
    context: bytes | None = field(default=None, repr=False)
    associated_data: bytes | None = field(default=None, repr=False)
    key_version: int | None = None
    reference: str = ""


@dataclass(frozen=True)
class DecryptItem:
    """A decrypt's item, and a rewrap's (``key_version`` is the version it is sealed again
    under)."""

    ciphertext: Ciphertext
    context: bytes | None = field(default=None, repr=False)
    associated_data: bytes | None = field(default=None, repr=False)
    key_version: int | None = None
    reference: str = ""


@dataclass(frozen=True)
class InputItem:
    """An HMAC's or a signature's input."""

    input: bytes = field(repr=False)
    key_version: int | None = None
    context: bytes | None = field(default=None, repr=False)
    reference: str = ""


@dataclass(frozen=True)
class HmacCheckItem:
    input: bytes = field(repr=False)
    hmac: Ciphertext
    reference: str = ""


@dataclass(frozen=True)
class VerifyItem:
    input: bytes = field(repr=False)
    signature: Ciphertext
    context: bytes | None = field(default=None, repr=False)
    reference: str = ""


@dataclass(frozen=True)
class DataKeyItem:
    bits: int
    context: bytes | None = field(default=None, repr=False)
    associated_data: bytes | None = field(default=None, repr=False)
    key_version: int | None = None


@dataclass(frozen=True)
class KeySettings:
    """A new key's settings, as asked (the backend decides what the key type allows)."""

    type: str = "aes256-gcm96"
    derived: bool = False
    exportable: bool = False
    allow_plaintext_backup: bool = False
    auto_rotate_period: float | None = None  # None: not given
    convergent_encryption: bool = False  # refused: it lets a caller choose nonces
    key_size: int | None = None


@dataclass(frozen=True)
class KeyConfigChange:
    """What a key's ``config`` write changes (None: left as it is)."""

    deletion_allowed: bool | None = None
    exportable: bool | None = None
    allow_plaintext_backup: bool | None = None
    auto_rotate_period: float | None = None
    min_decryption_version: int | None = None
    min_encryption_version: int | None = None
    convergent_encryption: bool = False


@dataclass(frozen=True)
class SignatureOptions:
    """How a signature is made or checked: its hash, whether the input is already hashed, and
    an RSA key's padding."""

    hash_algorithm: str = "sha2-256"
    prehashed: bool = False
    padding: str = "pss"


@dataclass(frozen=True)
class Batch(Generic[_T]):
    """The items of one request: its ``batch_input``, or the request itself (``batch`` False)."""

    items: list[_T | ItemError]
    batch: bool = False


def each_item(
    key: NamedKey, items: Batch[_T], operation: Callable[[_T], Outcome]
) -> list[ItemResult]:
    """Each item of a batch on its own: a bad item is reported in its place and the others still
    run. A request without ``batch_input`` raises its error instead. An RSA key's batches are
    shorter: one RSA-4096 private operation costs milliseconds of CPU, so a batch's work stays
    bounded."""
    if not items.items:
        raise BadRequest("missing batch input to process")
    limit = MAX_RSA_BATCH_ITEMS if key.type.startswith("rsa-") else MAX_BATCH_ITEMS
    if len(items.items) > limit:
        raise BadRequest(f"batch_input holds at most {limit} items for a {key.type} key")
    if not items.batch:
        return [ItemResult(operation(parsed(items.items[0])))]
    results = []
    for item in items.items:
        try:
            results.append(ItemResult(operation(parsed(item))))
        except (BadRequest, DecryptionError) as error:
            results.append(ItemResult(error=error.message))
    return results


def parsed(item: _T | ItemError) -> _T:
    """The item, or its parse error raised (once the caller is authorized)."""
    if isinstance(item, ItemError):
        raise BadRequest(item.message)
    return item
