"""Argon2id password hashes (RFC 9106's second recommended parameters, 64 MiB)."""

from __future__ import annotations

import base64
import hmac
import os

from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

__all__ = ["dummy_verify", "hash_password", "verify_password"]

_ITERATIONS = 3
_LANES = 4
_MEMORY_KIB = 64 * 1024
_LENGTH = 32


def _derive(password: str, salt: bytes, iterations: int, lanes: int, memory: int) -> bytes:
    kdf = Argon2id(
        salt=salt, length=_LENGTH, iterations=iterations, lanes=lanes, memory_cost=memory
    )
    return kdf.derive(password.encode("utf-8"))


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = _derive(password, salt, _ITERATIONS, _LANES, _MEMORY_KIB)
    b64 = base64.b64encode
    return (
        f"$argon2id$v=19$m={_MEMORY_KIB},t={_ITERATIONS},p={_LANES}"
        f"${b64(salt).decode()}${b64(digest).decode()}"
    )


def verify_password(password: str, encoded: str) -> bool:
    try:
        _, _, _, params, salt_b64, digest_b64 = encoded.split("$")
        fields = dict(item.split("=") for item in params.split(","))
        salt = base64.b64decode(salt_b64)
        expected = base64.b64decode(digest_b64)
        actual = _derive(password, salt, int(fields["t"]), int(fields["p"]), int(fields["m"]))
    except (ValueError, KeyError):
        return False
    return hmac.compare_digest(actual, expected)


def dummy_verify(password: str) -> None:
    """The same work as a real check, for unknown users, so timing does not reveal who exists."""
    actual = _derive(password, bytes(16), _ITERATIONS, _LANES, _MEMORY_KIB)
    hmac.compare_digest(actual, bytes(_LENGTH))
