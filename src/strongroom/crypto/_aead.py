"""The only module that touches AES-GCM (and ChaCha20-Poly1305). Nonces are generated here and
nowhere else."""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterable, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from strongroom.errors import DecryptionError

__all__ = [
    "KEY_BYTES",
    "NONCE_BYTES",
    "TAG_BYTES",
    "Aead",
    "DataCipher",
    "new_key",
    "new_nonce",
]

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16

# A batch hands pyca/cryptography a copy of a ciphertext below this size and a view of it above:
# a copy is 80-160 ns cheaper per blob up to 2 KiB, a view 8% cheaper at 64 KiB (measured).
_COPY_BELOW = 8192


def new_key() -> bytes:
    """A fresh 256-bit key from the operating system's CSPRNG."""
    return os.urandom(KEY_BYTES)


def new_nonce() -> bytes:
    """The one place nonces are made: 96 random bits per encryption, one getrandom call each.

    A per-thread buffer of CSPRNG output was faster by about 0.3 us per nonce, but refilling it
    released the GIL every ~100 us, a rhythm that starves other threads waiting for the GIL
    (CPython's convoy effect): a rewrap thread stalled concurrent reads for 100-250 ms. One
    syscall per nonce releases it at every call and keeps those reads under 1 ms."""
    return os.urandom(NONCE_BYTES)


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

    def seal_one(self, header: bytes, plaintext: bytes, aad_tail: bytes) -> bytes:
        """header || nonce || ciphertext || tag, a fresh nonce, with header || nonce ||
        aad_tail as associated data: the envelope's layout in one call."""
        nonce = os.urandom(NONCE_BYTES)  # new_nonce(), inlined: the token library's hot path
        prefix = header + nonce
        return prefix + self._cipher.encrypt(nonce, plaintext, prefix + aad_tail)

    def open_one(self, blob: bytes, end: int, aad_tail: bytes) -> bytes:
        """The inverse of ``seal_one`` for a blob whose header ends at ``end``."""
        nonce_end = end + NONCE_BYTES
        prefix = blob[:nonce_end]
        try:
            return self._cipher.decrypt(prefix[end:], blob[nonce_end:], prefix + aad_tail)
        except (InvalidTag, ValueError, OverflowError):
            raise DecryptionError() from None

    def seal_each(self, header: bytes, plaintexts: Iterable[bytes], aad_tail: bytes) -> list[bytes]:
        """For each plaintext: header || nonce || ciphertext || tag, a fresh nonce each, with
        header || nonce || aad_tail as associated data (the envelope's layout, for a batch
        under one data key: no wrapper call per item)."""
        encrypt, urandom = self._cipher.encrypt, os.urandom
        sealed: list[bytes] = []
        append = sealed.append
        for plaintext in plaintexts:
            nonce = urandom(NONCE_BYTES)  # new_nonce(), inlined for the batch
            prefix = header + nonce
            append(prefix + encrypt(nonce, plaintext, prefix + aad_tail))
        return sealed

    def open_run(
        self, blobs: Sequence[bytes], start: int, end: int, aad_tail: bytes, opened: list[bytes]
    ) -> int:
        """The inverse of ``seal_each``: ``blobs[start:]`` opened in order onto ``opened`` (their
        headers ending at ``end``) until one does not open; returns that one's index, or
        ``len(blobs)``. No header is compared here: a blob under another data key fails its tag
        as a broken one does, and the caller tells the two apart."""
        decrypt, nonce_end = self._cipher.decrypt, end + NONCE_BYTES
        append, before = opened.append, len(opened)
        with contextlib.suppress(InvalidTag, ValueError, OverflowError):
            for blob in itertools.islice(blobs, start, None):
                prefix = blob[:nonce_end]
                body = blob[nonce_end:] if len(blob) < _COPY_BELOW else memoryview(blob)[nonce_end:]
                append(decrypt(prefix[end:], body, prefix + aad_tail))
        return start + len(opened) - before

    def wrap(self, plaintext: bytes, associated_data: bytes) -> bytes:
        """nonce || ciphertext || tag, with a fresh nonce: for wrapping keys."""
        nonce = new_nonce()
        return nonce + self._cipher.encrypt(nonce, plaintext, associated_data)

    def unwrap(self, wrapped: bytes, associated_data: bytes) -> bytes:
        if len(wrapped) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionError()
        return self.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], associated_data)


class DataCipher:
    """A named key's data cipher (Transit): AES-GCM with a 128- or 256-bit key, or
    ChaCha20-Poly1305. ``seal`` makes its own nonce and returns nonce || ciphertext || tag: there
    is no way to pass one in (Vault CVE-2023-4680)."""

    __slots__ = ("_cipher",)

    def __init__(self, key: bytes, algorithm: str) -> None:
        if algorithm == "aes-gcm" and len(key) in (16, 32):
            self._cipher: AESGCM | ChaCha20Poly1305 = AESGCM(key)
        elif algorithm == "chacha20-poly1305" and len(key) == 32:
            self._cipher = ChaCha20Poly1305(key)
        else:
            raise DecryptionError()

    def __repr__(self) -> str:
        return "DataCipher(<key hidden>)"

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("key material is never pickled")

    def seal(self, plaintext: bytes, associated_data: bytes | None) -> bytes:
        nonce = new_nonce()
        return nonce + self._cipher.encrypt(nonce, plaintext, associated_data)

    def open(self, sealed: bytes, associated_data: bytes | None) -> bytes:
        if len(sealed) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionError()
        try:
            return self._cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated_data)
        except (InvalidTag, ValueError, OverflowError):
            raise DecryptionError() from None
