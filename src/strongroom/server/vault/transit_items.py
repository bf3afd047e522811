"""Transit's request items parsed from a request's JSON into typed values
(compat/vault/transit/items.py).

A request is one item, or a ``batch_input`` of several, whose request-wide fields (``context``,
``key_version``…) apply to items that do not set their own. A field that does not parse makes
its item an ``ItemError``, reported by the backend after it authorized the caller."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from strongroom.compat.vault.transit.fields import (
    b64_field,
    optional_b64_field,
    parse_ciphertext,
    settings_bool,
    settings_int,
)
from strongroom.compat.vault.transit.items import (
    Batch,
    Ciphertext,
    DataKeyItem,
    DecryptItem,
    EncryptItem,
    HmacCheckItem,
    InputItem,
    ItemError,
    KeyConfigChange,
    KeySettings,
    SignatureOptions,
    VerifyItem,
)
from strongroom.compat.vault.transit.models import HASH_ALGORITHMS
from strongroom.durations import parse_duration
from strongroom.errors import BadRequest

__all__ = [
    "data_key_item",
    "decrypt_items",
    "encrypt_items",
    "hmac_check_items",
    "input_items",
    "key_config_change",
    "key_settings",
    "rewrap_items",
    "signature_options",
    "verify_items",
]

_T = TypeVar("_T")


def _reference(fields: Mapping[str, Any]) -> str:
    value = fields.get("reference")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest("reference must be a string")
    return value


def _no_nonce(fields: Mapping[str, Any]) -> None:
    if fields.get("nonce") not in (None, ""):
        raise BadRequest(
            "a caller-supplied nonce is never accepted: every encryption makes its own "
            "(Vault CVE-2023-4680)"
        )


def _context(fields: Mapping[str, Any]) -> bytes | None:
    return optional_b64_field(fields.get("context"), "context")


def _associated(fields: Mapping[str, Any]) -> bytes | None:
    return optional_b64_field(fields.get("associated_data"), "associated_data")


def _ciphertext(fields: Mapping[str, Any], name: str) -> Ciphertext:
    return Ciphertext(*parse_ciphertext(fields.get(name), name))


def _encrypt(fields: Mapping[str, Any]) -> EncryptItem:
    _no_nonce(fields)
    plaintext = b64_field(fields.get("plaintext"), "plaintext")
    key_version = settings_int(fields, "key_version")
    return EncryptItem(
        plaintext, _context(fields), _associated(fields), key_version, _reference(fields)
    )


def _decrypt(fields: Mapping[str, Any]) -> DecryptItem:
    ciphertext = _ciphertext(fields, "ciphertext")
    key_version = settings_int(fields, "key_version")
    return DecryptItem(
        ciphertext, _context(fields), _associated(fields), key_version, _reference(fields)
    )


def _rewrap(fields: Mapping[str, Any]) -> DecryptItem:
    _no_nonce(fields)  # a rewrap encrypts again: a nonce would be ignored, so it is refused
    return _decrypt(fields)


def _input(fields: Mapping[str, Any]) -> InputItem:
    data = b64_field(fields.get("input"), "input")
    key_version = settings_int(fields, "key_version")
    return InputItem(data, key_version, _context(fields), _reference(fields))


def _hmac_check(fields: Mapping[str, Any]) -> HmacCheckItem:
    data = b64_field(fields.get("input"), "input")
    return HmacCheckItem(data, _ciphertext(fields, "hmac"), _reference(fields))


def _verify(fields: Mapping[str, Any]) -> VerifyItem:
    data = b64_field(fields.get("input"), "input")
    signature = _ciphertext(fields, "signature")
    return VerifyItem(data, signature, _context(fields), _reference(fields))


def _items(doc: Mapping[str, Any], parse: Callable[[Mapping[str, Any]], _T]) -> Batch[_T]:
    raw = doc.get("batch_input")
    if raw is None:
        return Batch([_one(doc, parse)])
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise BadRequest("batch_input must be a list of objects")
    shared = {k: v for k, v in doc.items() if k != "batch_input"}
    return Batch([_one({**shared, **item}, parse) for item in raw], batch=True)


def _one(fields: Mapping[str, Any], parse: Callable[[Mapping[str, Any]], _T]) -> _T | ItemError:
    try:
        return parse(fields)
    except BadRequest as error:
        reference = fields.get("reference")
        return ItemError(error.message, reference if isinstance(reference, str) else "")


def encrypt_items(doc: Mapping[str, Any]) -> Batch[EncryptItem]:
    return _items(doc, _encrypt)


def decrypt_items(doc: Mapping[str, Any]) -> Batch[DecryptItem]:
    return _items(doc, _decrypt)


def rewrap_items(doc: Mapping[str, Any]) -> Batch[DecryptItem]:
    return _items(doc, _rewrap)


def input_items(doc: Mapping[str, Any]) -> Batch[InputItem]:
    """An HMAC's or a signature's items."""
    return _items(doc, _input)


def hmac_check_items(doc: Mapping[str, Any]) -> Batch[HmacCheckItem]:
    return _items(doc, _hmac_check)


def verify_items(doc: Mapping[str, Any]) -> Batch[VerifyItem]:
    return _items(doc, _verify)


def data_key_item(doc: Mapping[str, Any]) -> DataKeyItem | ItemError:
    def parse(fields: Mapping[str, Any]) -> DataKeyItem:
        bits = settings_int(fields, "bits") or 256
        _no_nonce(fields)
        return DataKeyItem(
            bits, _context(fields), _associated(fields), settings_int(fields, "key_version")
        )

    return _one(doc, parse)


def key_settings(doc: Mapping[str, Any]) -> KeySettings:
    """A new key's settings from a ``keys/:name`` write."""
    chosen = doc.get("type")
    return KeySettings(
        str(chosen) if chosen else "aes256-gcm96",
        derived=settings_bool(doc, "derived"),
        exportable=settings_bool(doc, "exportable"),
        allow_plaintext_backup=settings_bool(doc, "allow_plaintext_backup"),
        auto_rotate_period=parse_duration(doc.get("auto_rotate_period"), "auto_rotate_period"),
        convergent_encryption=settings_bool(doc, "convergent_encryption"),
        key_size=settings_int(doc, "key_size"),
    )


def key_config_change(doc: Mapping[str, Any]) -> KeyConfigChange:
    """What a ``keys/:name/config`` write asks to change."""

    def flag(name: str) -> bool | None:
        return None if doc.get(name) in (None, "") else settings_bool(doc, name)

    return KeyConfigChange(
        deletion_allowed=flag("deletion_allowed"),
        exportable=flag("exportable"),
        allow_plaintext_backup=flag("allow_plaintext_backup"),
        auto_rotate_period=parse_duration(doc.get("auto_rotate_period"), "auto_rotate_period"),
        min_decryption_version=settings_int(doc, "min_decryption_version"),
        min_encryption_version=settings_int(doc, "min_encryption_version"),
        convergent_encryption=settings_bool(doc, "convergent_encryption"),
    )


def signature_options(doc: Mapping[str, Any], algorithm: str) -> SignatureOptions | ItemError:
    """A sign's or verify's options; ``algorithm`` (the path's, if any) overrides the body's
    ``hash_algorithm``."""

    def parse(fields: Mapping[str, Any]) -> SignatureOptions:
        hash_name = algorithm or fields.get("hash_algorithm") or "sha2-256"
        if not isinstance(hash_name, str) or hash_name not in HASH_ALGORITHMS:
            raise BadRequest(f"unsupported hash algorithm {hash_name}")
        if (fields.get("marshaling_algorithm") or "asn1") != "asn1":
            raise BadRequest('marshaling_algorithm: only "asn1" is supported')
        padding = fields.get("signature_algorithm") or "pss"
        return SignatureOptions(hash_name, settings_bool(fields, "prehashed"), str(padding))

    return _one(doc, parse)
