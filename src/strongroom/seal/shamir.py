"""Shamir secret sharing over GF(2^8), written to run without secret-dependent branches or
table lookups (CVE-2023-25000 was a cache-timing leak through log/exp tables).

A share is one x byte (1..255) followed by the polynomial's values at x for each secret byte.
Python gives no hard constant-time guarantee; the arithmetic is still branch- and table-free."""

from __future__ import annotations

import secrets

from strongroom.errors import BadRequest

__all__ = ["combine", "gf_inverse", "gf_multiply", "split"]


def gf_multiply(a: int, b: int) -> int:
    """Multiply in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1 (AES's polynomial)."""
    result = 0
    for _ in range(8):
        result ^= -(b & 1) & a
        b >>= 1
        carry = -((a >> 7) & 1) & 0x1B
        a = ((a << 1) & 0xFF) ^ carry
    return result


def gf_inverse(a: int) -> int:
    """a^254 = a^-1 by a fixed sequence of squarings and multiplications (0 maps to 0)."""
    result = 1
    power = a
    for _ in range(7):  # 254 = 0b11111110: multiply by a^2, a^4, …, a^128
        power = gf_multiply(power, power)
        result = gf_multiply(result, power)
    return result


def _evaluate(coefficients: list[int], x: int) -> int:
    result = 0
    for coefficient in reversed(coefficients):
        result = gf_multiply(result, x) ^ coefficient
    return result


def split(secret: bytes, shares: int, threshold: int) -> list[bytes]:
    """``shares`` shares of ``secret``, any ``threshold`` of which rebuild it."""
    if not 1 <= threshold <= shares <= 255:
        raise BadRequest("need 1 <= threshold <= shares <= 255")
    if threshold == 1 and shares > 1:
        raise BadRequest("a threshold of 1 with several shares makes every share the key")
    polynomials = [
        [byte, *(secrets.randbelow(256) for _ in range(threshold - 1))] for byte in secret
    ]
    return [bytes([x, *(_evaluate(poly, x) for poly in polynomials)]) for x in range(1, shares + 1)]


def combine(shares: list[bytes]) -> bytes:
    """Rebuild the secret from ``threshold`` or more distinct shares (Lagrange at x = 0).
    Too few or wrong shares give a wrong value; the caller detects it by authenticated
    decryption of what the key protects."""
    if not shares:
        raise BadRequest("no shares given")
    length = len(shares[0])
    xs = [share[0] for share in shares]
    if length < 2 or any(len(s) != length for s in shares):
        raise BadRequest("the shares have different lengths; are they from one init?")
    if 0 in xs or len(set(xs)) != len(xs):
        raise BadRequest("the same share was given twice")
    weights = []
    for i, xi in enumerate(xs):
        numerator, denominator = 1, 1
        for j, xj in enumerate(xs):
            if i != j:
                numerator = gf_multiply(numerator, xj)
                denominator = gf_multiply(denominator, xi ^ xj)
        weights.append(gf_multiply(numerator, gf_inverse(denominator)))
    secret = bytearray(length - 1)
    for weight, share in zip(weights, shares, strict=True):
        for k in range(length - 1):
            secret[k] ^= gf_multiply(share[k + 1], weight)
    return bytes(secret)
