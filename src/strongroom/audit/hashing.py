"""The HMAC that stands in for a secret value, token or password in the audit log."""

from __future__ import annotations

import json
import math
from typing import Any

from strongroom.crypto.keyed_mac import KeyedMac

__all__ = ["ValueHasher"]

_MEMO_ENTRIES = 4096
_MEMO_KEY_CHARS = 64


class ValueHasher:
    """HMAC-SHA256 of audited values under one sink's key (keyed once: crypto/keyed_mac.py)."""

    def __init__(self, key: bytes) -> None:
        self._mac = KeyedMac(key)
        # Object keys repeat on every request ("data", "version", …): their HMACs are kept.
        self._keys: dict[str, str] = {}
        self._booleans = {True: self.hash("true"), False: self.hash("false")}

    def hash(self, value: str) -> str:
        # surrogatepass: a lone surrogate from a caller's JSON is hashed, never an exception.
        return "hmac-sha256:" + self._mac.hexdigest(value.encode("utf-8", "surrogatepass"))

    def _hash_key(self, key: str) -> str:
        known = self._keys.get(key)
        if known is None:
            known = self.hash(key)
            if len(key) <= _MEMO_KEY_CHARS:
                if len(self._keys) >= _MEMO_ENTRIES:
                    self._keys.clear()
                self._keys[key] = known
        return known

    def redact(self, value: Any, *, top: bool = True) -> Any:
        """Every scalar leaf HMAC'd (strings, numbers and booleans, as their JSON text), and every
        object key below the top level: a secret's key names and numbers are secret too. The
        top-level names of a request or response document (``data``, ``metadata``) stay
        readable; nulls stay null."""
        if isinstance(value, str):
            return self.hash(value)
        if value is None:
            return None
        if isinstance(value, dict):
            if top:
                return {k: self.redact(v, top=False) for k, v in value.items()}
            return {self._hash_key(str(k)): self.redact(v, top=False) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact(v, top=False) for v in value]
        if isinstance(value, bool):
            return self._booleans[value]
        if isinstance(value, int):
            return self.hash(str(value))  # its JSON text
        if isinstance(value, float) and math.isfinite(value):
            return self.hash(repr(value))  # its JSON text, as json.dumps writes it
        return self.hash(json.dumps(value))
