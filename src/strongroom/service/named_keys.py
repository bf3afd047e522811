"""Named keys (Transit's keys): their settings and versions, stored as one record per key.

The record (kind ``named-key``, name ``<mount>/<key>``) is an envelope sealed under the mount's
namespace keyring, bound to {purpose, namespace, name}: the key material sits under the key
hierarchy (root key -> mount keyring -> named key, design.md §2), a mount's keys are destroyed
with its keyring, and a record moved to another name does not open. The store seals every
record once more under the system keyring.

A decoded key is cached against the exact bytes it came from, so a hot key costs one indexed
read and a bytes comparison per operation, and a change on another node is seen at once."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from strongroom.crypto import canonical_context
from strongroom.crypto.envelope import open_sealed, parse_envelope, seal
from strongroom.crypto.named_keys import KEY_TYPES, check_material, generate_material
from strongroom.errors import Conflict, NotFound
from strongroom.keys import Keyrings
from strongroom.store.protocol import Store
from strongroom.store.records import Records

__all__ = [
    "NAMED_KEY_KIND",
    "KeyVersion",
    "NamedKey",
    "NamedKeyStore",
]

NAMED_KEY_KIND = "named-key"
_HMAC_KEY_BYTES = 32
_RETRIES = 20
_CACHE_ENTRIES = 1024


@dataclass(frozen=True)
class KeyVersion:
    material: bytes = field(repr=False)
    hmac_key: bytes = field(repr=False)
    created: float


@dataclass(frozen=True)
class NamedKey:
    name: str
    type: str
    versions: dict[int, KeyVersion] = field(repr=False)
    latest_version: int
    derived: bool = False
    exportable: bool = False
    allow_plaintext_backup: bool = False
    deletion_allowed: bool = False
    min_decryption_version: int = 1
    min_encryption_version: int = 0
    min_available_version: int = 0
    auto_rotate_period: float = 0.0

    @classmethod
    def create(cls, name: str, key_type: str, now: float, **settings: Any) -> NamedKey:
        return cls(name, key_type, {1: _new_version(key_type, now)}, 1, **settings)

    def rotated(self, now: float) -> NamedKey:
        number = self.latest_version + 1
        versions = {**self.versions, number: _new_version(self.type, now)}
        return replace(self, versions=versions, latest_version=number)

    def check(self) -> None:
        """Raise ValueError unless every version holds what key creation makes (a restored
        backup is held to it): material of the key's type and a full-length HMAC key, and
        settings that name versions the key has."""
        if not self.versions or not 1 <= self.latest_version == max(self.versions):
            raise ValueError("the key's versions are not numbered 1 to its latest")
        for number, version in self.versions.items():
            check_material(self.type, version.material)
            if len(version.hmac_key) != _HMAC_KEY_BYTES:
                raise ValueError(f"version {number}'s HMAC key is not {_HMAC_KEY_BYTES} bytes")
        if not 0 <= self.min_encryption_version <= self.latest_version:
            raise ValueError("min_encryption_version names no version of the key")
        if not 1 <= self.min_decryption_version <= self.latest_version:
            raise ValueError("min_decryption_version names no version of the key")

    def encode(self) -> bytes:
        doc = {
            "type": self.type,
            "latest_version": self.latest_version,
            "derived": self.derived,
            "exportable": self.exportable,
            "allow_plaintext_backup": self.allow_plaintext_backup,
            "deletion_allowed": self.deletion_allowed,
            "min_decryption_version": self.min_decryption_version,
            "min_encryption_version": self.min_encryption_version,
            "min_available_version": self.min_available_version,
            "auto_rotate_period": self.auto_rotate_period,
            "versions": {
                str(n): {
                    "material": base64.b64encode(v.material).decode(),
                    "hmac_key": base64.b64encode(v.hmac_key).decode(),
                    "created": v.created,
                }
                for n, v in self.versions.items()
            },
        }
        return json.dumps(doc, sort_keys=True).encode()

    @classmethod
    def decode(cls, name: str, raw: bytes) -> NamedKey:
        doc = json.loads(raw)
        versions = {
            int(n): KeyVersion(
                base64.b64decode(v["material"]),
                base64.b64decode(v["hmac_key"]),
                float(v["created"]),
            )
            for n, v in doc["versions"].items()
        }
        return cls(
            name,
            str(doc["type"]),
            versions,
            int(doc["latest_version"]),
            bool(doc["derived"]),
            bool(doc["exportable"]),
            bool(doc["allow_plaintext_backup"]),
            bool(doc["deletion_allowed"]),
            int(doc["min_decryption_version"]),
            int(doc["min_encryption_version"]),
            int(doc["min_available_version"]),
            float(doc["auto_rotate_period"]),
        )


def _new_version(key_type: str, now: float) -> KeyVersion:
    if key_type not in KEY_TYPES:
        raise ValueError(key_type)
    hmac_key = generate_material("hmac")[:_HMAC_KEY_BYTES]
    return KeyVersion(generate_material(key_type), hmac_key, now)


def _context(mount: str, name: str) -> dict[str, str]:
    return {"purpose": "named-key", "namespace": mount, "name": name}


class NamedKeyStore:
    def __init__(self, store: Store, keyrings: Keyrings) -> None:
        self._store = store
        self._sealed = Records(store, NAMED_KEY_KIND, bytes, bytes)  # the envelopes as stored
        self._keyrings = keyrings
        self._cache: dict[str, tuple[bytes, NamedKey]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _record_name(mount: str, name: str) -> str:
        return f"{mount}/{name}"

    def _decode(self, mount: str, name: str, raw: bytes) -> NamedKey:
        record = self._record_name(mount, name)
        cached = self._cache.get(record)
        if cached is not None and cached[0] == raw:
            return cached[1]
        encoded = canonical_context(_context(mount, name))
        unwrap = self._keyrings.unwrap_dek
        plain = open_sealed(raw, encoded, lambda ref, wrapped: unwrap(ref, wrapped, encoded))
        key = NamedKey.decode(name, plain)
        with self._lock:
            if len(self._cache) >= _CACHE_ENTRIES:
                self._cache.clear()
            self._cache[record] = (raw, key)
        return key

    def _encode(self, mount: str, key: NamedKey) -> bytes:
        term = self._keyrings.term_for_encryption(mount)
        return seal(key.encode(), keys=term, context=_context(mount, key.name))

    def _keys(self, mount: str, name: str) -> Records[NamedKey]:
        """The record of one key, opened and sealed under its own context."""
        return Records(
            self._store,
            NAMED_KEY_KIND,
            lambda raw: self._decode(mount, name, raw),
            lambda key: self._encode(mount, key),
        )

    def get(self, mount: str, name: str) -> NamedKey | None:
        return self._keys(mount, name).get(self._record_name(mount, name))

    def require(self, mount: str, name: str) -> NamedKey:
        key = self.get(mount, name)
        if key is None:
            raise NotFound(f"no key {name!r} in {mount}")
        return key

    def create(self, mount: str, key: NamedKey) -> bool:
        """Store a new key; False when one of that name exists already."""
        return self._keys(mount, key.name).create(self._record_name(mount, key.name), key)

    def replace(self, mount: str, key: NamedKey) -> None:
        """Store ``key`` whether or not one of its name exists (a forced restore)."""
        self._keys(mount, key.name).put(self._record_name(mount, key.name), key)

    def change(self, mount: str, name: str, update: Callable[[NamedKey], NamedKey]) -> NamedKey:
        """Compare-and-set a key's new state; a concurrent change is retried on its result."""

        def updated(key: NamedKey | None) -> NamedKey:
            if key is None:
                raise NotFound(f"no key {name!r} in {mount}")
            return update(key)

        record = self._record_name(mount, name)
        return self._keys(mount, name).change(record, updated, attempts=_RETRIES, gave_up=_key_busy)

    def delete(self, mount: str, name: str) -> bool:
        self._cache.pop(self._record_name(mount, name), None)
        return self._sealed.delete(self._record_name(mount, name))

    def names(self, mount: str) -> list[str]:
        prefix = f"{mount}/"
        return sorted(n[len(prefix) :] for n in self._sealed.names() if n.startswith(prefix))

    def terms_in_use(self, mount: str) -> Mapping[str, int]:
        """How many of the mount's keys are sealed under each keyring term (by key_ref)."""
        counts: dict[str, int] = {}
        for name in self.names(mount):
            raw = self._sealed.get(self._record_name(mount, name))
            if raw is not None:
                ref = parse_envelope(raw).key_ref
                counts[ref] = counts.get(ref, 0) + 1
        return counts

    def reseal(self, mount: str, active_ref: str) -> int:
        """Seal every key of the mount that is not under the active term under it (a keyring
        rewrap); how many were re-sealed."""
        moved = 0
        for name in self.names(mount):
            raw = self._sealed.get(self._record_name(mount, name))
            if raw is not None and parse_envelope(raw).key_ref != active_ref:
                self.change(mount, name, lambda key: key)
                moved += 1
        return moved

    def every_key(self) -> list[tuple[str, str]]:
        """(mount, name) of every named key of every mount."""
        return [
            (mount, name) for mount, _, name in (n.partition("/") for n in self._sealed.names())
        ]

    def delete_mount(self, mount: str) -> None:
        for name in self.names(mount):
            self.delete(mount, name)


def _key_busy() -> Conflict:
    return Conflict("too many concurrent changes to this key; retry")
