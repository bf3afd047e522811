"""Canonical encoding of an encryption context (bound as associated data)."""

from __future__ import annotations

import struct
from collections.abc import Mapping

from strongroom.errors import BadRequest

__all__ = ["Context", "canonical_context"]

Context = Mapping[str, str]

_U16_MAX = 0xFFFF


def _field(text: str) -> bytes:
    if not isinstance(text, str):
        raise BadRequest("encryption context keys and values must be strings")
    data = text.encode("utf-8")
    if len(data) > _U16_MAX:
        raise BadRequest("encryption context entry too long")
    return struct.pack(">H", len(data)) + data


def canonical_context(context: Context) -> bytes:
    """Pairs sorted by key, each key and value utf-8 with a u16 big-endian length prefix."""
    return b"".join(_field(key) + _field(context[key]) for key in sorted(context))
