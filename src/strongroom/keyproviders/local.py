"""The local KMS: named, versioned root keys in a key file kept apart from the secret store.

It is the "local development mock" of the S021 story, but real cryptography: AES-256-GCM key
wrapping with the context bound as associated data. The key file is created with mode 0600 and
replaced atomically. Protect it like any root key (docs/kms.md)."""

from __future__ import annotations

import base64
import json
import os
import re
import struct
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from strongroom.crypto import KEY_BYTES, Aead, new_key
from strongroom.crypto.context import Context, canonical_context
from strongroom.errors import BadRequest, DecryptionError, KeyProviderUnavailable, NotFound
from strongroom.keyproviders.provider import KeyProviderBase

__all__ = ["KeyVersionInfo", "LocalKeyFile", "LocalKeyProvider"]

_WRAP_FORMAT = 1
_HEAD = struct.Struct(">BI")  # wrap format, key version
_KEY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class KeyVersionInfo:
    name: str
    version: int
    created: float


class LocalKeyFile:
    """A JSON key file holding ``{name: {version: key}}``. Thread-safe within one process."""

    def __init__(
        self,
        path: Path,
        *,
        payload: bytes | None = None,
        persist: Callable[[bytes], None] | None = None,
    ) -> None:
        """Keys from the file at ``path``; or, for file and shamir seals, from ``payload``
        (the decrypted document) with changes handed to ``persist`` instead of the file."""
        self.path = path
        self._persist = persist
        self._lock = threading.Lock()
        self._keys: dict[str, dict[int, tuple[bytes, float]]] = {}
        self._ciphers: dict[tuple[str, int], Aead] = {}
        if payload is not None:
            self._load(payload)
        elif persist is None and path.exists():
            try:
                payload = path.read_bytes()
            except OSError as exc:
                raise KeyProviderUnavailable(
                    f"cannot read the local key file: {type(exc).__name__}"
                ) from None
            self._load(payload)

    def __repr__(self) -> str:
        return f"LocalKeyFile({str(self.path)!r})"

    def _load(self, payload: bytes) -> None:
        try:
            raw = json.loads(payload)
            keys: dict[str, dict[int, tuple[bytes, float]]] = {}
            for name, versions in raw["keys"].items():
                keys[name] = {
                    int(number): (base64.b64decode(entry["key"]), float(entry["created"]))
                    for number, entry in versions.items()
                }
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise KeyProviderUnavailable(
                f"cannot read the local key file: {type(exc).__name__}"
            ) from None
        self._keys = keys

    def serialize(self) -> bytes:
        payload = {
            "format": 1,
            "keys": {
                name: {
                    str(number): {"key": base64.b64encode(key).decode(), "created": created}
                    for number, (key, created) in versions.items()
                }
                for name, versions in self._keys.items()
            },
        }
        return json.dumps(payload).encode()

    def _save(self) -> None:
        data = self.serialize()
        if self._persist is not None:
            self._persist(data)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".keyfile-", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._keys)

    def versions(self, name: str) -> list[KeyVersionInfo]:
        with self._lock:
            versions = self._keys.get(name)
            if versions is None:
                raise NotFound(f"no local key named {name!r}")
            return [
                KeyVersionInfo(name, n, created) for n, (_, created) in sorted(versions.items())
            ]

    def ensure_key(self, name: str) -> None:
        """Create key ``name`` (version 1) unless it exists."""
        if not _KEY_NAME.fullmatch(name):
            raise BadRequest("key names use 1-64 characters from A-Z, a-z, 0-9, '_', '.', '-'")
        with self._lock:
            if name not in self._keys:
                self._keys[name] = {1: (new_key(), time.time())}
                self._save()

    def rotate(self, name: str) -> int:
        """Add a new version of key ``name``; new wraps use it, old versions still unwrap."""
        with self._lock:
            versions = self._keys.get(name)
            if versions is None:
                raise NotFound(f"no local key named {name!r}")
            number = max(versions) + 1
            versions[number] = (new_key(), time.time())
            self._save()
            return number

    def current_version(self, name: str) -> int:
        with self._lock:
            versions = self._keys.get(name)
            if not versions:
                raise NotFound(f"no local key named {name!r}")
            return max(versions)

    def cipher(self, name: str, version: int) -> Aead:
        cached = self._ciphers.get((name, version))
        if cached is not None:
            return cached
        with self._lock:
            entry = self._keys.get(name, {}).get(version)
        if entry is None or len(entry[0]) != KEY_BYTES:
            raise DecryptionError()
        cipher = Aead(entry[0])
        self._ciphers[(name, version)] = cipher
        return cipher

    def provider(self, name: str) -> LocalKeyProvider:
        self.ensure_key(name)
        return LocalKeyProvider(self, name)


def _associated_data(name: str, version: int, context: Context) -> bytes:
    return (
        b"strongroom local kms v1\x00"
        + name.encode("utf-8")
        + b"\x00"
        + struct.pack(">I", version)
        + canonical_context(context)
    )


class LocalKeyProvider(KeyProviderBase):
    """A KeyProvider over one named key of a LocalKeyFile. Wraps with the newest version."""

    def __init__(self, key_file: LocalKeyFile, name: str) -> None:
        self._file = key_file
        self._name = name

    def __repr__(self) -> str:
        return f"LocalKeyProvider({self._name!r})"

    @property
    def key_ref(self) -> str:
        return f"local:{self._name}"

    def rotate(self) -> int:
        """A new version of the root key; new wraps use it, old versions still unwrap."""
        return self._file.rotate(self._name)

    def wrap(self, plaintext_key: bytes, *, context: Context) -> bytes:
        version = self._file.current_version(self._name)
        cipher = self._file.cipher(self._name, version)
        head = _HEAD.pack(_WRAP_FORMAT, version)
        return head + cipher.wrap(
            plaintext_key, head + _associated_data(self._name, version, context)
        )

    def unwrap(self, wrapped: bytes, *, context: Context) -> bytes:
        if len(wrapped) < _HEAD.size:
            raise DecryptionError()
        wrap_format, version = _HEAD.unpack_from(wrapped)
        if wrap_format != _WRAP_FORMAT:
            raise DecryptionError()
        cipher = self._file.cipher(self._name, version)
        head = wrapped[: _HEAD.size]
        return cipher.unwrap(
            wrapped[_HEAD.size :], head + _associated_data(self._name, version, context)
        )
