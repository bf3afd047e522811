"""The Store every service of an unsealed server uses: it seals what decides access.

A database writer without the keys must not be able to grant themselves anything
(design.md §2). So this decorator over the untrusted store:

- seals every record value (tokens, policies, roles, users, secret IDs, audit sinks, rotation
  settings, keyrings, …) with AES-256-GCM under the record key, with the record's kind
  and name as associated data: a record that is edited, forged or moved to another name does
  not open, and is refused (``TamperedRecord``);
- MACs each secret's row (current version, labels, settings) bound to its namespace and path,
  and keeps version deletion times inside that MAC'd row, so which version is served cannot be
  changed by editing a column.

The record key (an AEAD key and a MAC key) is wrapped by the root-key provider. Names stay in the
clear so lookups stay indexed. What a writer can still do is in docs/security.md: delete, and
restore an older genuine record or row."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, cast

from strongroom.crypto import Aead, canonical_context, new_key
from strongroom.crypto.keyed_mac import KeyedMac
from strongroom.errors import Conflict, DecryptionError, TamperedRecord
from strongroom.keyproviders.provider import KeyProvider
from strongroom.opened_cache import OpenedCache
from strongroom.store.protocol import SecretRecord, SecretSettings, Store, VersionRecord

__all__ = [
    "DELETED_FIELD",
    "MAC_FIELD",
    "SEAL_RECORDS",
    "SealedStore",
    "open_sealed_store",
    "rewrap_record_key",
]

log = logging.getLogger("strongroom.store")

_PREFIX = b"SRR\x01"  # sealed record, format 1
_SYSTEM = "system"
_RECORD_KEY = "record-key"
_RECORD_KEY_CONTEXT = {"purpose": "record-key"}
# Records the seal reads before unseal; they protect themselves (docs/security.md).
SEAL_RECORDS = frozenset(
    {"seal-config", "sealed-root-keys", "sealed-root-keys-next", "rekey-pending", _RECORD_KEY}
)
MAC_FIELD = "_mac"
DELETED_FIELD = "_deleted"  # version number (str) -> deletion time, inside the MAC'd row
_SECRET_MAC_PREFIX = b"strongroom:secret:v1|"
_VERIFIED_ROWS = 10_000
_RETRIES = 20
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _with_settings(secret: SecretRecord, settings: Mapping[str, Any]) -> SecretRecord:
    # Positional construction: dataclasses.replace costs several microseconds on every read.
    return SecretRecord(
        secret.namespace,
        secret.path,
        secret.current_version,
        secret.created_time,
        secret.updated_time,
        cast(SecretSettings, settings),
    )


# Kinds whose names are credentials (a role_id is half of an AppRole login): logged as a digest.
_SECRET_NAMES = frozenset({"approle-role-id"})


def _tampered(kind: str, name: str) -> TamperedRecord:
    shown = hashlib.sha256(name.encode()).hexdigest()[:16] if kind in _SECRET_NAMES else name
    log.warning("refused a stored %s record %r: it does not open (edited or forged)", kind, shown)
    return TamperedRecord.of(kind)


class SealedStore:
    """Implements the Store protocol over another store, sealing records and MACing secrets."""

    def __init__(self, inner: Store, record_key: bytes) -> None:
        if len(record_key) != 64:
            raise DecryptionError()
        self._inner = inner
        self._aead = Aead(record_key[:32])
        # Records read again and again (a secret's sidecar, a role) open once per minute.
        self._opened = OpenedCache()
        self._row_mac = KeyedMac(record_key[32:])
        self._verified_rows: dict[tuple[str, str, int, str], None] = {}

    def __repr__(self) -> str:
        return "SealedStore(<keys hidden>)"

    @property
    def inner(self) -> Store:
        return self._inner

    # -- records
    @staticmethod
    def _binding(kind: str, name: str) -> bytes:
        return b"strongroom:record:v1|" + canonical_context({"kind": kind, "name": name})

    def seal_record(self, kind: str, name: str, value: bytes) -> bytes:
        return _PREFIX + self._aead.wrap(value, self._binding(kind, name))

    def try_open(self, kind: str, name: str, value: bytes) -> bytes | None:
        """``value`` opened as a sealed record of this name, or None: quiet, for values that
        come from a caller (a page cursor) or from the migration's probe."""
        if not value.startswith(_PREFIX):
            return None
        key = (kind, name, value)  # the very bytes, under this kind and name
        opened = self._opened.get(key)
        if opened is not None:
            return opened
        try:
            opened = self._aead.unwrap(value[len(_PREFIX) :], self._binding(kind, name))
        except DecryptionError:
            return None
        self._opened.put(key, opened, len(kind) + len(name) + len(value))
        return opened

    def opens(self, kind: str, name: str, value: bytes) -> bool:
        return self.try_open(kind, name, value) is not None

    def open_record(self, kind: str, name: str, sealed: bytes) -> bytes:
        opened = self.try_open(kind, name, sealed)
        if opened is None:
            raise _tampered(kind, name)
        return opened

    def get_record(self, kind: str, name: str) -> bytes | None:
        raw = self._inner.get_record(kind, name)
        return None if raw is None else self.open_record(kind, name, raw)

    def put_record(self, kind: str, name: str, value: bytes) -> None:
        self._inner.put_record(kind, name, self.seal_record(kind, name, value))

    def replace_record(self, kind: str, name: str, old: bytes | None, new: bytes) -> bool:
        sealed_new = self.seal_record(kind, name, new)
        if old is None:
            return self._inner.replace_record(kind, name, None, sealed_new)
        # Sealing is randomised: compare plaintexts, then swap exactly the ciphertext we opened.
        stored = self._inner.get_record(kind, name)
        if stored is None or self.open_record(kind, name, stored) != old:
            return False
        return self._inner.replace_record(kind, name, stored, sealed_new)

    def delete_record(self, kind: str, name: str) -> bool:
        return self._inner.delete_record(kind, name)

    def list_records(self, kind: str) -> list[str]:
        return self._inner.list_records(kind)

    def list_kinds(self) -> list[str]:
        return self._inner.list_kinds()

    def add_counter(self, kind: str, name: str, delta: int) -> int:
        return self._inner.add_counter(kind, name, delta)

    # -- secret rows: MAC'd, deletion times inside
    def _mac(self, secret: SecretRecord, settings: dict[str, Any]) -> str:
        body = _ENCODER.encode([secret.namespace, secret.path, secret.current_version, settings])
        return self._row_mac.hexdigest(_SECRET_MAC_PREFIX + body.encode())

    def signed_row(self, secret: SecretRecord) -> SecretRecord:
        """The row as stored: its settings with their MAC."""
        return self._signed(secret, dict(secret.settings))

    def _signed(self, secret: SecretRecord, settings: dict[str, Any]) -> SecretRecord:
        """``secret`` with ``settings`` (a copy of the caller's own, changed here) signed."""
        settings.pop(MAC_FIELD, None)
        settings[MAC_FIELD] = self._mac(secret, settings)
        return _with_settings(secret, settings)

    def signed(self, secret: SecretRecord) -> bool:
        """Whether a stored row carries a valid MAC (the migration's probe; quiet)."""
        settings = dict(secret.settings)
        mac = settings.pop(MAC_FIELD, None)
        return isinstance(mac, str) and hmac.compare_digest(mac, self._mac(secret, settings))

    def _verified(self, secret: SecretRecord | None) -> SecretRecord | None:
        """The row once its MAC checks out. Its settings keep the MAC field: every write signs
        afresh (``signed_row`` drops an old MAC), and no reader shows settings whole."""
        if secret is None:
            return None
        # A row read before, byte for byte (settings and MAC included), was verified then.
        seen = (secret.namespace, secret.path, secret.current_version, secret.stored)
        if secret.stored and seen in self._verified_rows:
            return secret
        if not self.signed(secret):
            raise _tampered("secret", f"{secret.namespace}/{secret.path}")
        if secret.stored:
            self._remember_verified(seen)
        return secret

    def _remember_verified(self, row: tuple[str, str, int, str]) -> None:
        if not row[3]:
            return  # a backend that keeps no text: every read checks the MAC
        if len(self._verified_rows) >= _VERIFIED_ROWS:
            self._verified_rows.clear()
        self._verified_rows[row] = None

    @staticmethod
    def _with_deletion(secret: SecretRecord, version: VersionRecord | None) -> VersionRecord | None:
        if version is None:
            return None
        deleted = secret.settings.get(DELETED_FIELD)
        when = deleted.get(str(version.version)) if isinstance(deleted, dict) else None
        trusted = float(when) if when is not None else None
        if trusted == version.deletion_time:
            return version  # the common case: the column agrees with the MAC'd row
        return replace(version, deletion_time=trusted)

    def get_secret(self, namespace: str, path: str) -> SecretRecord | None:
        return self._verified(self._inner.get_secret(namespace, path))

    def replace_secret(self, old: SecretRecord | None, new: SecretRecord) -> bool:
        signed_old = self.signed_row(old) if old is not None else None
        return self._inner.replace_secret(signed_old, self.signed_row(new))

    def write_version(
        self,
        secret: SecretRecord,
        version: VersionRecord,
        *,
        expected_current: int,
        keep: int,
        protected: Sequence[int] = (),
        expected_settings: Mapping[str, Any] | None = None,
    ) -> str:
        settings: dict[str, Any] = dict(secret.settings)
        deleted = settings.get(DELETED_FIELD)
        if isinstance(deleted, dict):  # forget pruned versions
            floor, spared = version.version - keep, {str(v) for v in protected}
            kept = {k: v for k, v in deleted.items() if int(k) > floor or k in spared}
            settings[DELETED_FIELD] = kept
        if version.deletion_time is not None:
            marks = dict(settings.get(DELETED_FIELD, {}))
            marks[str(version.version)] = version.deletion_time
            settings[DELETED_FIELD] = marks
        signed = self._signed(secret, settings)
        stored = self._inner.write_version(
            signed,
            version,
            expected_current=expected_current,
            keep=keep,
            protected=protected,
            expected_settings=expected_settings,  # as read: with the MAC it was stored with
        )
        # This node signed the row it just stored: read back byte for byte, it needs no check.
        self._remember_verified((signed.namespace, signed.path, signed.current_version, stored))
        return stored

    def get_version(self, namespace: str, path: str, version: int) -> VersionRecord | None:
        return self.read_version(namespace, path, version)[1]

    def read_version(
        self, namespace: str, path: str, version: int | None
    ) -> tuple[SecretRecord | None, VersionRecord | None]:
        raw_secret, record = self._inner.read_version(namespace, path, version)
        secret = self._verified(raw_secret)
        if secret is None:
            return None, None
        return secret, self._with_deletion(secret, record)

    def list_versions(self, namespace: str, path: str) -> list[VersionRecord]:
        secret = self.get_secret(namespace, path)
        if secret is None:
            return []
        found = self._inner.list_versions(namespace, path)
        return [v for v in (self._with_deletion(secret, r) for r in found) if v is not None]

    def set_deletion(
        self, namespace: str, path: str, versions: Sequence[int], deletion_time: float | None
    ) -> None:
        for _ in range(_RETRIES):  # compare-and-set on the MAC'd row, as labels move
            secret = self.get_secret(namespace, path)
            if secret is None:
                return
            live = {v.version for v in self._inner.list_versions(namespace, path) if v.envelope}
            marks = dict(secret.settings.get("_deleted", {}))
            for number in versions:
                if number not in live:
                    continue
                if deletion_time is None:
                    marks.pop(str(number), None)
                else:
                    marks[str(number)] = deletion_time
            settings = {**secret.settings, DELETED_FIELD: marks}
            if not marks:
                del settings[DELETED_FIELD]
            if self.replace_secret(secret, _with_settings(secret, settings)):
                break
        else:
            raise Conflict("the secret changed during the deletion; retry")
        # The column follows for queries and operators; the MAC'd row above is what is trusted.
        self._inner.set_deletion(namespace, path, versions, deletion_time)

    def destroy_versions(self, namespace: str, path: str, versions: Sequence[int]) -> None:
        self._inner.destroy_versions(namespace, path, versions)

    def delete_secret(self, namespace: str, path: str) -> bool:
        return self._inner.delete_secret(namespace, path)

    def scan_paths(self, namespace: str, prefix: str, after: str, limit: int) -> list[str]:
        return self._inner.scan_paths(namespace, prefix, after, limit)

    def scan_secrets(self, namespace: str, after: str, limit: int) -> list[SecretRecord]:
        found = self._inner.scan_secrets(namespace, after, limit)
        return [s for s in (self._verified(r) for r in found) if s is not None]

    # -- keys and the rest: no access decision rides on these
    def scan_versions_not_under(
        self, namespace: str, key_ref: str, after: tuple[str, int], limit: int
    ) -> list[VersionRecord]:
        return self._inner.scan_versions_not_under(namespace, key_ref, after, limit)

    def replace_envelope(self, record: VersionRecord, envelope: bytes, key_ref: str) -> bool:
        return self._inner.replace_envelope(record, envelope, key_ref)

    def replace_envelopes(self, items: Sequence[tuple[VersionRecord, bytes, str]]) -> int:
        return self._inner.replace_envelopes(items)

    def count_by_key_ref(self, namespace: str) -> dict[str, int]:
        return self._inner.count_by_key_ref(namespace)

    def delete_namespace_data(self, namespace: str) -> None:
        self._inner.delete_namespace_data(namespace)

    def close(self) -> None:
        self._inner.close()

    def publish(self, topic: str, key: str = "") -> None:
        self._inner.publish(topic, key)

    def subscribe(self, handler: Callable[[str, str], None]) -> Callable[[], None]:
        return self._inner.subscribe(handler)

    def try_leader(self, name: str) -> bool:
        return self._inner.try_leader(name)

    @property
    def listening(self) -> bool:
        return self._inner.listening

    def dump(self) -> Iterator[tuple[str, tuple[str, ...], tuple[Any, ...]]]:
        return self._inner.dump()  # rows as stored: sealed records stay sealed

    def load(self, rows: Iterable[tuple[str, tuple[str, ...], tuple[Any, ...]]]) -> int:
        return self._inner.load(rows)


def _record_key(store: Store, provider: KeyProvider) -> bytes:
    wrapped = store.get_record(_SYSTEM, _RECORD_KEY)
    if wrapped is None:
        fresh = provider.wrap(new_key() + new_key(), context=_RECORD_KEY_CONTEXT)
        store.replace_record(_SYSTEM, _RECORD_KEY, None, fresh)
        wrapped = store.get_record(_SYSTEM, _RECORD_KEY)
        assert wrapped is not None
    return provider.unwrap(wrapped, context=_RECORD_KEY_CONTEXT)


def rewrap_record_key(store: Store, provider: KeyProvider) -> None:
    """Wrap the record key again with ``provider`` (a seal migration); the records it seals
    are untouched."""
    wrapped = store.get_record(_SYSTEM, _RECORD_KEY)
    if wrapped is not None:
        key = provider.unwrap(wrapped, context=_RECORD_KEY_CONTEXT)
        fresh = provider.wrap(key, context=_RECORD_KEY_CONTEXT)
        store.replace_record(_SYSTEM, _RECORD_KEY, wrapped, fresh)


def open_sealed_store(store: Store, provider: KeyProvider) -> SealedStore:
    """The sealed view of ``store``, creating the record key on first use. A store written
    before records were sealed is then sealed in place by strongroom.record_migration."""
    return SealedStore(store, _record_key(store, provider))
