"""Transit key management: create, read, list, delete, configure, rotate, trim, export,
backup and restore, and the scheduler's automatic rotation."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import replace

from strongroom.auth import Identity
from strongroom.compat.vault.transit.core import TransitCore
from strongroom.compat.vault.transit.fields import settings_int
from strongroom.compat.vault.transit.items import KeyConfigChange, KeySettings
from strongroom.compat.vault.transit.models import (
    BACKUP_FORMAT,
    MAX_KEY_VERSIONS,
    MIN_AUTO_ROTATE_SECONDS,
    mac_key,
)
from strongroom.crypto.named_keys import (
    KEY_TYPES,
)
from strongroom.errors import (
    BadRequest,
    NotFound,
)
from strongroom.service.named_keys import NamedKey

__all__ = ["TransitKeys"]


def _auto_rotate(period: float | None) -> float | None:
    if period is not None and 0 < period < MIN_AUTO_ROTATE_SECONDS:
        raise BadRequest("auto rotate period must be 0 to disable or at least an hour")
    return period


class TransitKeys(TransitCore):
    # -- keys
    def _new_key(self, name: str, settings: KeySettings) -> NamedKey:
        key_type = settings.type
        if not (key_type in KEY_TYPES and KEY_TYPES[key_type].transit):
            raise BadRequest(f"unknown key type {key_type}")
        if settings.convergent_encryption:
            raise BadRequest(
                "convergent encryption is not supported: it takes its nonce from the plaintext "
                "and context, which lets a caller choose nonces (Vault CVE-2023-4680)"
            )
        if settings.derived and not KEY_TYPES[key_type].derivation:
            raise BadRequest(f"key derivation is not supported for key type {key_type}")
        if settings.key_size not in (None, 0, 32):
            raise BadRequest("key_size: HMAC keys here are 32 bytes")
        period = _auto_rotate(settings.auto_rotate_period)
        return NamedKey.create(
            name,
            key_type,
            self._clock.now(),
            derived=settings.derived,
            exportable=settings.exportable,
            allow_plaintext_backup=settings.allow_plaintext_backup,
            auto_rotate_period=period or 0.0,
        )

    def create_key(
        self, identity: Identity, mount: str, name: str, settings: KeySettings
    ) -> NamedKey:
        """Create the key; an existing key of that name is answered as it is. As on Vault (the
        path has no existence check), writing a key needs ``update`` whether it exists or not:
        ``create`` alone neither makes one nor reads one that exists."""
        self._check(identity, "update", mount, f"keys/{self._name(name)}")
        existing = self._keys.get(mount, name)
        if existing is not None:
            return existing
        key = self._new_key(name, settings)
        if not self._keys.create(mount, key):
            return self._keys.require(mount, name)
        return key

    def read_key(self, identity: Identity, mount: str, name: str) -> NamedKey:
        self._check(identity, "read", mount, f"keys/{self._name(name)}")
        return self._keys.require(mount, name)

    def list_keys(self, identity: Identity, mount: str) -> list[str]:
        self._check(identity, "list", mount, "keys/")
        return self._keys.names(mount)

    def delete_key(self, identity: Identity, mount: str, name: str) -> None:
        self._check(identity, "delete", mount, f"keys/{self._name(name)}")
        try:
            key = self._keys.require(mount, name)
        except NotFound:  # Vault's words for a key that is not there
            raise BadRequest(
                f"error deleting policy {name}: could not delete key; not found"
            ) from None
        if not key.deletion_allowed:
            raise BadRequest(f"error deleting policy {name}: deletion is not allowed for this key")
        self._keys.delete(mount, name)

    def configure(
        self, identity: Identity, mount: str, name: str, asked: KeyConfigChange
    ) -> NamedKey:
        self._check(identity, "update", mount, f"keys/{self._name(name)}/config")
        if asked.convergent_encryption:
            raise BadRequest("convergent encryption is not supported")
        period = _auto_rotate(asked.auto_rotate_period)
        min_dec, min_enc = asked.min_decryption_version, asked.min_encryption_version

        def change(key: NamedKey) -> NamedKey:
            deletion_allowed = asked.deletion_allowed
            updated = replace(
                key,
                deletion_allowed=key.deletion_allowed
                if deletion_allowed is None
                else deletion_allowed,
                exportable=key.exportable or bool(asked.exportable),
                allow_plaintext_backup=key.allow_plaintext_backup
                or bool(asked.allow_plaintext_backup),
                auto_rotate_period=key.auto_rotate_period if period is None else period,
            )
            if asked.exportable is False and key.exportable:
                raise BadRequest("exportable cannot be disabled once enabled")
            if min_dec is not None:
                if not 1 <= min_dec <= key.latest_version and min_dec != 0:
                    raise BadRequest("cannot set min decryption version above the latest version")
                if min_dec and key.min_available_version and min_dec < key.min_available_version:
                    raise BadRequest("min decryption version is below the min available version")
                updated = replace(updated, min_decryption_version=min_dec or 1)
            if min_enc is not None:
                if not 0 <= min_enc <= key.latest_version:
                    raise BadRequest("cannot set min encryption version above the latest version")
                if min_enc and min_enc < updated.min_decryption_version:
                    raise BadRequest(
                        "min encryption version should not be less than min decryption version"
                    )
                updated = replace(updated, min_encryption_version=min_enc)
            return updated

        return self._keys.change(mount, self._name(name), change)

    def rotate(self, identity: Identity, mount: str, name: str) -> NamedKey:
        self._check(identity, "update", mount, f"keys/{self._name(name)}/rotate")

        def rotated(key: NamedKey) -> NamedKey:
            # Every version lives in the key's one record: bound it, or rotations grow it forever.
            if len(key.versions) >= MAX_KEY_VERSIONS:
                raise BadRequest(
                    f"a key keeps at most {MAX_KEY_VERSIONS} versions; raise "
                    "min_encryption_version and min_decryption_version, then trim"
                )
            return key.rotated(self._clock.now())

        return self._keys.change(mount, name, rotated)

    def trim(self, identity: Identity, mount: str, name: str, minimum: int | None) -> NamedKey:
        self._check(identity, "update", mount, f"keys/{self._name(name)}/trim")

        def change(key: NamedKey) -> NamedKey:
            if minimum is None or minimum < 1:
                raise BadRequest("missing or invalid min_available_version")
            if not key.min_encryption_version:
                raise BadRequest(
                    "minimum available version cannot be set when minimum encryption version "
                    "is not set"
                )
            if minimum > key.min_encryption_version or minimum > key.min_decryption_version:
                raise BadRequest(
                    "minimum available version cannot be greater than the minimum encryption "
                    "or decryption version"
                )
            kept = {n: v for n, v in key.versions.items() if n >= minimum}
            return replace(key, versions=kept, min_available_version=minimum)

        return self._keys.change(mount, name, change)

    def export(
        self, identity: Identity, mount: str, kind: str, name: str, version: str | None
    ) -> tuple[NamedKey, Mapping[int, bytes]]:
        suffix = f"/{version}" if version else ""
        self._check(identity, "read", mount, f"export/{kind}/{self._name(name)}{suffix}")
        key = self._keys.require(mount, name)
        if not key.exportable:
            raise BadRequest("key is not exportable")
        if kind not in ("encryption-key", "signing-key", "hmac-key"):
            raise BadRequest("invalid export type")
        kind_of = KEY_TYPES[key.type]
        if kind == "encryption-key" and not kind_of.encryption:
            raise BadRequest("encryption not supported for the key")
        if kind == "signing-key" and not kind_of.signing:
            raise BadRequest("signing not supported for the key")
        numbers = sorted(key.versions)
        if version:
            wanted = (
                key.latest_version if version == "latest" else settings_int({"v": version}, "v")
            )
            if wanted not in key.versions:
                raise BadRequest("invalid key version")
            numbers = [wanted]
        chosen = {
            n: mac_key(key, n) if kind == "hmac-key" else key.versions[n].material for n in numbers
        }
        return key, chosen

    def backup(self, identity: Identity, mount: str, name: str) -> str:
        """Every version of the key, in plaintext, for ``restore`` (only a key created
        exportable with allow_plaintext_backup). strongroom's own format: base64 of JSON."""
        self._check(identity, "read", mount, f"backup/{self._name(name)}")
        key = self._keys.require(mount, name)
        if not (key.exportable and key.allow_plaintext_backup):
            raise BadRequest("plaintext backup is disallowed on the policy")
        doc = {"format": BACKUP_FORMAT, "name": key.name, "key": json.loads(key.encode())}
        return base64.b64encode(json.dumps(doc).encode()).decode()

    def restore(
        self, identity: Identity, mount: str, name: str | None, backup: str, force: bool
    ) -> str:
        """A key from ``backup``, under ``name`` or the name it was saved with; an existing key
        is replaced only with ``force``. The restored key's name."""
        path = f"restore/{self._name(name)}" if name else "restore"
        self._check(identity, "update", mount, path)
        try:
            doc = json.loads(base64.b64decode(backup, validate=True))
            if doc.get("format") != BACKUP_FORMAT:
                raise ValueError
            chosen = self._name(name or str(doc["name"]))
            key = NamedKey.decode(chosen, json.dumps(doc["key"]).encode())
            if key.type not in KEY_TYPES or key.latest_version not in key.versions:
                raise ValueError
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
            raise BadRequest("invalid backup: not a strongroom Transit key backup") from None
        try:
            key.check()
        except ValueError as exc:
            raise BadRequest(f"invalid backup: {exc}") from None
        if force:
            self._keys.replace(mount, key)
        elif not self._keys.create(mount, key):
            raise BadRequest(f'key "{chosen}" already exists')
        return chosen

    def rotate_due(self) -> list[str]:
        """Rotate every key whose auto_rotate_period has passed since its latest version."""
        rotated = []
        now = self._clock.now()
        for mount, name in self._keys.every_key():
            key = self._keys.get(mount, name)
            if key is None or not key.auto_rotate_period or len(key.versions) >= MAX_KEY_VERSIONS:
                continue
            if now - key.versions[key.latest_version].created >= key.auto_rotate_period:
                self._keys.change(mount, name, lambda k: k.rotated(self._clock.now()))
                rotated.append(f"{mount}/{name}")
        return rotated
