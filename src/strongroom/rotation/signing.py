"""Signed webhook requests (rotation steps and notifications).

The header is ``X-Strongroom-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, "t.body")>``.
A receiver recomputes the HMAC over the raw body, compares in constant time, and refuses a
``t`` more than five minutes away from its clock (``verify_signature`` does all three)."""

from __future__ import annotations

import hashlib
import hmac
import time

__all__ = ["SIGNATURE_HEADER", "TOLERANCE_SECONDS", "sign", "verify_signature"]

SIGNATURE_HEADER = "X-Strongroom-Signature"
TOLERANCE_SECONDS = 300


def sign(key: bytes, body: bytes, now: float | None = None) -> str:
    stamp = str(int(time.time() if now is None else now))
    mac = hmac.new(key, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def verify_signature(key: bytes, body: bytes, header: str, now: float | None = None) -> bool:
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        stamp = int(parts["t"])
        claimed = parts["v1"]
    except (ValueError, KeyError):
        return False
    current = time.time() if now is None else now
    if abs(current - stamp) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(key, str(stamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(claimed, expected)
