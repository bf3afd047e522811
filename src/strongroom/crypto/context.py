"""Canonical encoding of an encryption context (bound as associated data)."""

from __future__ import annotations

from collections.abc import Mapping

from strongroom.errors import BadRequest

__all__ = ["Context", "canonical_context"]

Context = Mapping[str, str]

_U16_MAX = 0xFFFF


def canonical_context(context: Context) -> bytes:
    """Pairs sorted by key, each key and value utf-8 with a u16 big-endian length prefix."""
    parts: list[bytes] = []
    for key in sorted(context):
        value = context[key]
        if not isinstance(key, str) or not isinstance(value, str):
            raise BadRequest("encryption context keys and values must be strings")
        for text in (key.encode("utf-8"), value.encode("utf-8")):
            if len(text) > _U16_MAX:
                raise BadRequest("encryption context entry too long")
            parts.append(len(text).to_bytes(2, "big"))
            parts.append(text)
    return b"".join(parts)
