"""The HMAC that stands in for a secret value, token or password in the audit log."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

__all__ = ["ValueHasher"]


class ValueHasher:
    """HMAC-SHA256 of audited values under one sink's key. The keyed state is made once and
    copied per value, which costs a third of a fresh ``hmac.digest``."""

    def __init__(self, key: bytes) -> None:
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)

    def hash(self, value: str) -> str:
        mac = self._keyed.copy()
        mac.update(value.encode("utf-8"))
        return "hmac-sha256:" + mac.hexdigest()

    def redact(self, value: Any) -> Any:
        """Every string leaf HMAC'd; object keys, numbers, booleans and nulls kept."""
        if isinstance(value, str):
            return self.hash(value)
        if isinstance(value, dict):
            return {k: self.redact(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.redact(v) for v in value]
        return value
