"""The only module that touches AES-GCM. Nonces are generated here and nowhere else."""

from __future__ import annotations

import os
import threading

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strongroom.errors import DecryptionError

__all__ = ["KEY_BYTES", "NONCE_BYTES", "TAG_BYTES", "Aead", "new_key", "new_nonce"]

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16


def new_key() -> bytes:
    """A fresh 256-bit key from the operating system's CSPRNG."""
    return os.urandom(KEY_BYTES)


class _NoncePool(threading.local):
    """Per-thread buffer of CSPRNG output: one getrandom call per 341 nonces instead of one
    per nonce. Emptied in a forked child so parent and child never share buffered bytes."""

    buffer = b""
    position = 0


_POOL = _NoncePool()
_POOL_BYTES = NONCE_BYTES * 341


def _forget_pool() -> None:
    _POOL.buffer = b""
    _POOL.position = 0


os.register_at_fork(after_in_child=_forget_pool)


def new_nonce() -> bytes:
    """The one place nonces are made: 96 random bits per encryption."""
    pool = _POOL
    start = pool.position
    if start + NONCE_BYTES > len(pool.buffer):
        pool.buffer = os.urandom(_POOL_BYTES)
        start = 0
    pool.position = start + NONCE_BYTES
    return pool.buffer[start : start + NONCE_BYTES]


class Aead:
    """AES-256-GCM with a key held for repeated use. Callers never pass a nonce to encrypt."""

    __slots__ = ("_cipher",)

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise DecryptionError()
        self._cipher = AESGCM(key)

    def __repr__(self) -> str:
        return "Aead(<key hidden>)"

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("key material is never pickled")

    def encrypt(self, nonce: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
        # `nonce` must come from new_nonce(); only the envelope module calls this.
        if len(nonce) != NONCE_BYTES:
            raise ValueError("nonces are 96 bits")
        return self._cipher.encrypt(nonce, plaintext, associated_data)

    def decrypt(self, nonce: bytes, ciphertext: bytes, associated_data: bytes) -> bytes:
        if len(nonce) != NONCE_BYTES:
            raise DecryptionError()
        try:  # a ciphertext shorter than the tag is a ValueError
            return self._cipher.decrypt(nonce, ciphertext, associated_data)
        except (InvalidTag, ValueError, OverflowError):
            raise DecryptionError() from None

    def wrap(self, plaintext: bytes, associated_data: bytes) -> bytes:
        """nonce || ciphertext || tag, with a fresh nonce: for wrapping keys."""
        nonce = new_nonce()
        return nonce + self._cipher.encrypt(nonce, plaintext, associated_data)

    def unwrap(self, wrapped: bytes, associated_data: bytes) -> bytes:
        if len(wrapped) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionError()
        return self.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], associated_data)
