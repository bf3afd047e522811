"""The secret service's core: the one write path (a check-and-set with retries under
per-secret locks) and the one read path, over the store and the keyrings, with the access
checks they start with. ``SecretService`` (secrets.py) adds labels, metadata, the mount's
settings and deletion on top."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from strongroom.auth import Identity
from strongroom.clock import Clock
from strongroom.crypto.envelope import open_sealed
from strongroom.errors import (
    BadRequest,
    CheckAndSetMismatch,
    Conflict,
    NoSuchSecret,
    NotFound,
    SecretDeleted,
)
from strongroom.jsondata import encode_data, merge_patch, parse_json
from strongroom.keys import Keyrings
from strongroom.limits import MAX_INTEGER, Limits, is_version
from strongroom.opened_cache import OpenedCache
from strongroom.paths import check_namespace, check_path
from strongroom.policy.grants import Grant
from strongroom.policy.kv import (
    DATA,
    kv_policy_path,
    v1_only,
)
from strongroom.service.kv_config import (
    KvConfig,
    effective_delete_after,
    load_kv_config,
)
from strongroom.service.staging import (
    staged_settings,
)
from strongroom.store.protocol import SecretRecord, SecretSettings, Store, VersionRecord
from strongroom.types import SecretData, SecretValue, VersionMetadata, time_of

__all__ = [
    "WRITE_RETRIES",
    "SecretCore",
    "encoded_version_context",
    "is_deleted",
    "subkeys_of",
    "version_context",
    "version_metadata",
]

WRITE_RETRIES = 10
_WRITE_LOCK_STRIPES = 64


def version_context(namespace: str, path: str, version: int) -> Mapping[str, str]:
    """Rebuilt from where an envelope lives, so a moved envelope fails to open."""
    return {"namespace": namespace, "path": path, "version": str(version)}


def _field(text: str) -> bytes:
    data = text.encode("utf-8")
    return len(data).to_bytes(2, "big") + data


def encoded_version_context(namespace: str, path: str, version: int) -> bytes:
    """canonical_context(version_context(...)) without the generic encoder (the read hot path);
    the keys are already in sorted order. A test checks both agree."""
    return (
        b"\x00\x09namespace"
        + _field(namespace)
        + b"\x00\x04path"
        + _field(path)
        + b"\x00\x07version"
        + _field(str(version))
    )


def version_metadata(record: VersionRecord, now: float) -> VersionMetadata:
    deletion = record.deletion_time
    return VersionMetadata(
        record.version,
        time_of(record.created_time),
        None if deletion is None else time_of(deletion),
        record.destroyed,
        deletion is not None and deletion > now,
    )


def is_deleted(record: VersionRecord, now: float) -> bool:
    """Deleted, or past the deletion time its mount or secret set when it was written."""
    return record.deletion_time is not None and record.deletion_time <= now


def subkeys_of(data: SecretData, depth: int, level: int = 1) -> SecretData:
    """``data``'s structure without its values: every leaf None, down to ``depth`` (0: all)."""
    return {
        key: subkeys_of(value, depth, level + 1)
        if isinstance(value, dict) and value and (depth == 0 or level < depth)
        else None
        for key, value in data.items()
    }


class SecretCore:
    def __init__(
        self,
        store: Store,
        keyrings: Keyrings,
        clock: Clock,
        limits: Limits,
        kind_of: Callable[[str], str | None] = lambda namespace: "kv-v2",
    ) -> None:
        self._kind_of = kind_of  # a KV operation on a mount of another kind finds nothing
        self._store = store
        self._keyrings = keyrings
        self._clock = clock
        self.limits = limits
        # Writes to one secret queue up in this process instead of racing each other; across
        # nodes the store's check-and-set decides and the loser retries.
        self._write_locks = [threading.Lock() for _ in range(_WRITE_LOCK_STRIPES)]
        # What another data model reads in a namespace of its own (Secrets Manager's binary
        # values, Parameter Store's parameters): each check refuses, on every surface's write,
        # a value that model could not read back. Wired by the composition root.
        self.value_checks: list[Callable[[str, Any], None]] = []
        self.plaintexts = OpenedCache()  # opened_cache.py
        keyrings.on_change.append(self.plaintexts.clear)  # crypto-shredding reaches it too

    # -- helpers
    def _target(
        self, identity: Identity, capability: str, namespace: str, path: str, area: str = DATA
    ) -> None:
        """Check the path, then the capability on its policy path in ``area`` (policy/kv.py)."""
        check_namespace(namespace, self.limits)
        check_path(path, self.limits)
        identity.require(capability, kv_policy_path(namespace, area, path))
        self._kv_mount(namespace)

    def _target_write(
        self, identity: Identity, namespace: str, path: str, area: str = DATA
    ) -> None:
        """``create`` for a new secret, ``update`` for an existing one (Vault's rule)."""
        check_namespace(namespace, self.limits)
        check_path(path, self.limits)
        identity.require_create_or_update(
            kv_policy_path(namespace, area, path),
            lambda: self._store.get_secret(namespace, path) is not None,
        )
        self._kv_mount(namespace)

    def _kv_mount(self, namespace: str) -> None:
        kind = self._kind_of(namespace)
        if kind == "kv-v1":
            raise NotFound(v1_only(namespace))
        if kind not in ("kv-v2", None):
            raise NotFound(f"{namespace} is not a KV mount")
        self._keyrings.get(namespace)  # NotFound for an unknown namespace

    def _secret(self, namespace: str, path: str) -> SecretRecord:
        secret = self._store.get_secret(namespace, path)
        if secret is None:
            raise NoSuchSecret(f"no secret at {namespace}/{path}")
        return secret

    def _max_versions(self, secret: SecretRecord | None, mount: KvConfig) -> int:
        configured = int(secret.settings.get("max_versions", 0)) if secret else 0
        return configured or mount.max_versions or self.limits.default_max_versions

    def _open(self, record: VersionRecord) -> dict[str, Any]:
        assert record.envelope is not None
        blob = bytes(record.envelope)
        plaintext = self.plaintexts.get(blob)
        if plaintext is None:
            # Encoded once, for both the DEK and the value.
            encoded = encoded_version_context(record.namespace, record.path, record.version)
            unwrap = self._keyrings.unwrap_dek
            plaintext = open_sealed(blob, encoded, lambda r, w: unwrap(r, w, encoded))
            self.plaintexts.put(blob, plaintext, len(blob))
        data: dict[str, Any] = parse_json(plaintext)
        return data

    # -- writes
    def put(
        self,
        identity: Identity,
        namespace: str,
        path: str,
        data: SecretData,
        *,
        cas: int | None = None,
    ) -> VersionMetadata:
        self._target_write(identity, namespace, path)
        plaintext = self._encode(namespace, data)
        return self._write(namespace, path, plaintext, cas)

    def _encode(self, namespace: str, data: Any) -> bytes:
        for check in self.value_checks:
            check(namespace, data)
        return encode_data(data, self.limits)

    def _write(
        self,
        namespace: str,
        path: str,
        plaintext: bytes,
        cas: int | None,
        *,
        pending_token: str | None = None,
        keep: int | None = None,
    ) -> VersionMetadata:
        with self._write_locks[hash((namespace, path)) % _WRITE_LOCK_STRIPES]:
            return self._write_locked(namespace, path, plaintext, cas, pending_token, keep)

    def write_granted(
        self, grant: Grant, data: SecretData, *, keep: int | None = None
    ) -> VersionMetadata:
        """A new version of the granted secret, for a backend that authorized the caller by its
        API's rules (policy/grants.py): the AWS API, and KV version 1 (``keep=1``: a write
        replaces the value)."""
        grant.require("create", "update")
        namespace, path = grant.namespace, grant.path
        return self._write(namespace, path, self._encode(namespace, data), None, keep=keep)

    def delete_granted(self, grant: Grant) -> None:
        """Remove every version and the metadata of the granted secret (KV version 1's
        delete). NoSuchSecret when there is nothing to remove."""
        grant.require("delete")
        self._delete(grant.namespace, grant.path)

    def _delete(self, namespace: str, path: str) -> None:
        if not self._store.delete_secret(namespace, path):
            raise NoSuchSecret(f"no secret at {namespace}/{path}")
        self.plaintexts.clear()

    def write_pending(self, grant: Grant, data: SecretData, rotation_token: str) -> VersionMetadata:
        """A new version labelled ``pending`` (for a rotation): readers keep getting ``current``
        until ``promote``."""
        grant.require("create", "update")
        namespace, path = grant.namespace, grant.path
        return self._write(
            namespace, path, self._encode(namespace, data), None, pending_token=rotation_token
        )

    def _write_locked(
        self,
        namespace: str,
        path: str,
        plaintext: bytes,
        cas: int | None,
        pending_token: str | None = None,
        keep: int | None = None,
    ) -> VersionMetadata:
        for _ in range(WRITE_RETRIES):
            secret = self._store.get_secret(namespace, path)
            current = secret.current_version if secret else 0
            mount = load_kv_config(self._store, namespace)
            settings = secret.settings.copy() if secret else SecretSettings()
            if cas is None and (mount.cas_required or settings.get("cas_required")):
                raise BadRequest("check-and-set parameter required for this call")
            if cas is not None and cas != current:
                raise CheckAndSetMismatch(
                    "check-and-set parameter did not match the current version "
                    f"(current version is {current}, cas was {cas})"
                )
            now = self._clock.now()
            number = current + 1
            encoded = encoded_version_context(namespace, path, number)
            envelope, key_ref = self._keyrings.seal_encoded(namespace, plaintext, encoded)
            delete_after = effective_delete_after(
                mount.delete_version_after, float(settings.get("delete_version_after", 0.0))
            )
            deletion = now + delete_after if delete_after else None
            version = VersionRecord(namespace, path, number, envelope, key_ref, now, deletion)
            if pending_token is not None or "labels" in settings:
                settings = staged_settings(settings, number, current, pending_token)
            updated = SecretRecord(
                namespace, path, number, secret.created_time if secret else now, now, settings
            )
            try:
                self._store.write_version(
                    updated,
                    version,
                    expected_current=current,
                    keep=keep or self._max_versions(secret, mount),
                    protected=[int(v) for v in settings.get("labels", {}).values()],
                    expected_settings=secret.settings if secret else None,
                )
            except Conflict:
                if cas is not None:
                    raise CheckAndSetMismatch(
                        "check-and-set parameter did not match the current version"
                    ) from None
                continue
            return version_metadata(version, now)
        raise Conflict("too many concurrent writes to this secret; retry")

    def patch(
        self,
        identity: Identity,
        namespace: str,
        path: str,
        data: SecretData,
        *,
        cas: int | None = None,
    ) -> VersionMetadata:
        self._target(identity, "patch", namespace, path)
        current = self._get(namespace, path, None)
        if cas is not None and cas != current.metadata.version:
            raise CheckAndSetMismatch("check-and-set parameter did not match the current version")
        merged = merge_patch(current.data, data)
        plaintext = self._encode(namespace, merged)
        return self._write(namespace, path, plaintext, current.metadata.version)

    def rollback(
        self, identity: Identity, namespace: str, path: str, version: int
    ) -> VersionMetadata:
        self._target(identity, "update", namespace, path)  # before any look-up: no oracle
        old = self.get(identity, namespace, path, version=version)
        secret = self._secret(namespace, path)
        return self._write(
            namespace, path, self._encode(namespace, old.data), secret.current_version
        )

    # -- reads
    def keys_in_memory(self, namespace: str) -> bool:
        """Whether reading from ``namespace`` needs no key provider call (its keyring is loaded)."""
        return self._keyrings.loaded(namespace)

    def get(
        self, identity: Identity, namespace: str, path: str, *, version: int | None = None
    ) -> SecretValue:
        self._target(identity, "read", namespace, path)
        return self._get(namespace, path, version)

    def _get(self, namespace: str, path: str, version: int | None) -> SecretValue:
        return self._get_with_secret(namespace, path, version)[0]

    def read_granted_with_row(
        self, grant: Grant, version: int | None
    ) -> tuple[SecretValue, SecretRecord]:
        """``read_granted``, with the secret's row (its labels) from the same query."""
        grant.require("read")
        self._not_version_1(grant.namespace)
        return self._get_with_secret(grant.namespace, grant.path, version)

    def _get_with_secret(
        self, namespace: str, path: str, version: int | None
    ) -> tuple[SecretValue, SecretRecord]:
        if version is not None and not is_version(version):
            raise BadRequest(f"version must be an integer from 1 to {MAX_INTEGER}")
        secret, record = self._store.read_version(namespace, path, version)
        if secret is None:
            raise NotFound(f"no secret at {namespace}/{path}")
        number = version or secret.current_version
        if version is None and "labels" in secret.settings:
            # Under rotation the newest version may be pending (untested): read `current`.
            labels = secret.settings["labels"]
            labelled = labels.get("current")
            if labelled is None and "pending" in labels:
                raise NotFound(f"{namespace}/{path} has no current version yet")
            if labelled is not None and labelled != number:
                number = int(labelled)
                record = self._store.get_version(namespace, path, number)
        if record is None:
            raise NotFound(f"no version {number} of {namespace}/{path}")
        now = self._clock.now()
        meta = version_metadata(record, now)
        if record.destroyed or is_deleted(record, now):
            error = SecretDeleted(
                f"version {number} of {namespace}/{path} was {meta.state}"
                + ("" if record.destroyed else "; restore it with undelete")
            )
            error.details = {"metadata": meta.to_json()}
            raise error
        custom = dict(secret.settings.get("custom_metadata", {}))
        return SecretValue(path, self._open(record), meta, custom), secret

    def get_stage(self, identity: Identity, namespace: str, path: str, stage: str) -> SecretValue:
        """The version under a staging label (``current``, ``pending``, ``previous``, custom)."""
        self._target(identity, "read", namespace, path)
        return self._read_stage(namespace, path, stage)

    def read_granted(
        self, grant: Grant, version: int | None = None, *, serving: str = "read"
    ) -> SecretValue:
        """A version of the granted secret (the AWS API's, the rotation engine's). ``serving``
        is the capability the read serves: ``read`` to answer with the value; a write's, for a
        read-modify-write (Parameter Store's PutParameter keeps the current Type); ``describe``
        for what is kept inside the value and shown as metadata (DescribeParameters). Never of
        a KV version 1 mount: such grants were made with version 2's policy paths, which mean
        other secrets there."""
        grant.require(serving)
        self._not_version_1(grant.namespace)
        return self._get(grant.namespace, grant.path, version)

    def read_version_1(self, grant: Grant) -> SecretValue:
        """The value of a KV version 1 secret, for service/kv_v1.py, which granted the read on
        version 1's policy path after checking the mount's kind."""
        grant.require("read")
        return self._get(grant.namespace, grant.path, None)

    def _not_version_1(self, namespace: str) -> None:
        if self._kind_of(namespace) == "kv-v1":
            raise NotFound(v1_only(namespace))

    def read_stage(self, grant: Grant, stage: str) -> SecretValue:
        """The granted secret's version under a staging label."""
        grant.require("read")
        return self._read_stage(grant.namespace, grant.path, stage)

    def _read_stage(self, namespace: str, path: str, stage: str) -> SecretValue:
        self._not_version_1(namespace)
        secret = self._secret(namespace, path)
        labels = secret.settings.get("labels", {})
        if stage == "current" and not labels:
            return self._get(namespace, path, None)
        if stage not in labels:
            raise NotFound(f"no version of {namespace}/{path} is labelled {stage!r}")
        return self._get(namespace, path, int(labels[stage]))

    def _update_settings(
        self, namespace: str, path: str, change: Callable[[SecretSettings], SecretSettings]
    ) -> SecretSettings:
        for _ in range(WRITE_RETRIES):
            secret = self._secret(namespace, path)
            settings = change(secret.settings.copy())
            updated = SecretRecord(
                namespace,
                path,
                secret.current_version,
                secret.created_time,
                self._clock.now(),
                settings,
            )
            if self._store.replace_secret(secret, updated):
                return settings
        raise Conflict("too many concurrent writes to this secret; retry")
