"""Transit's request fields as Vault reads them: base64 values, ``vault:v<N>:`` ciphertexts, and
the loose booleans and integers Vault accepts ("true", "1", 1). The wire side of the backend:
the Vault surface's parsers (server/vault/transit_items.py) build the typed items from these."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from strongroom.errors import BadRequest
from strongroom.limits import MAX_INTEGER

__all__ = [
    "b64_field",
    "loose_bool",
    "optional_b64_field",
    "parse_ciphertext",
    "settings_bool",
    "settings_int",
]


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


def loose_bool(value: object, name: str) -> bool:
    """A boolean as Vault reads one: true or false, "true" or "false", "1" or "0", 1 or 0."""
    if isinstance(value, bool):
        return value
    if value in ("true", "1", 1):
        return True
    if value in ("false", "0", 0):
        return False
    raise BadRequest(f"{name!r} must be true or false")


def settings_bool(doc: Mapping[str, Any], name: str, default: bool = False) -> bool:
    value = doc.get(name, default)
    return default if value in (None, "") else loose_bool(value, name)


def settings_int(doc: Mapping[str, Any], name: str) -> int | None:
    value = doc.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.lstrip("-").isascii() and value.lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_INTEGER:
        raise BadRequest(f"{name!r} must be an integer")
    return value
