"""The secret service: the only place that combines the store, the keyrings and access checks.

KV semantics follow Vault KV v2 (versions, check-and-set, soft delete, undelete, destroy). Writes
and reads are ``SecretCore``'s (secret_core.py); this adds labels (``StagedVersions``, for
rotation), metadata, the mount's settings and deletion. Listing lives in ``listing.py``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from strongroom.auth import Identity
from strongroom.errors import (
    BadRequest,
    Conflict,
    LimitExceeded,
    NotFound,
)
from strongroom.jsondata import merge_patch
from strongroom.limits import MAX_INTEGER, is_version
from strongroom.paths import check_namespace
from strongroom.policy.grants import Grant
from strongroom.policy.kv import (
    DELETE,
    DESTROY,
    METADATA,
    SUBKEYS,
    UNDELETE,
    kv_policy_path,
)
from strongroom.service.kv_config import (
    KvConfig,
    kv_configs,
    load_kv_config,
)
from strongroom.service.secret_core import (
    WRITE_RETRIES,
    SecretCore,
    subkeys_of,
    version_metadata,
)
from strongroom.service.staging import (
    Staging,
    check_label,
    promoted_settings,
    relabelled_settings,
)
from strongroom.store.protocol import SecretRecord, SecretSettings
from strongroom.types import SecretData, SecretMetadata, VersionMetadata, time_of

__all__ = ["SecretService"]


class SecretService(SecretCore):
    def labels(self, grant: Grant) -> Staging | None:
        """The granted secret's labels and pending rotation token (any capability on it will
        do: they are no value), None when there is no such secret; never of a KV version 1
        mount, which has no labels and other policy paths."""
        namespace, path = grant.namespace, grant.path
        self._not_version_1(namespace)
        secret = self._store.get_secret(namespace, path)
        return Staging.of(secret.settings) if secret is not None else None

    def promote(self, grant: Grant, version: int) -> None:
        """``pending`` (= ``version``) becomes ``current`` in one compare-and-set."""
        grant.require("update")
        self._update_settings(grant.namespace, grant.path, lambda s: promoted_settings(s, version))

    def move_label(self, grant: Grant, label: str, version: int | None) -> None:
        """Put ``label`` on ``version`` (None: take it off), reserved labels included, for a
        surface that has checked the caller itself (the AWS API's UpdateSecretVersionStage):
        ``current`` moves the old current to ``previous``, as a promotion does, and leaves
        ``pending`` where it is (Secrets Manager's rule: a rotation function's finishSecret
        moves AWSCURRENT only)."""
        grant.require("update")
        namespace, path = grant.namespace, grant.path
        if version is not None and self._store.get_version(namespace, path, version) is None:
            raise NotFound(f"no version {version} of {namespace}/{path}")

        def moved(settings: SecretSettings) -> SecretSettings:
            if label == "current" and version is not None:
                promoted = promoted_settings(settings, version)
                if "pending" in settings.get("labels", {}):
                    promoted["labels"]["pending"] = settings["labels"]["pending"]
                    if "pending_token" in settings:
                        promoted["pending_token"] = settings["pending_token"]
                return promoted
            updated = settings.copy()
            labels = dict(updated.get("labels", {}))
            if version is None:
                labels.pop(label, None)
            else:
                labels[label] = version
            updated["labels"] = labels
            return updated

        self._update_settings(namespace, path, moved)

    def drop_pending(self, grant: Grant, version: int) -> None:
        """Forget a rolled-back rotation's version: unlabel it and soft-delete it."""
        grant.require("update")
        namespace, path = grant.namespace, grant.path

        def drop(settings: SecretSettings) -> SecretSettings:
            updated = settings.copy()
            labels = dict(updated.get("labels", {}))
            if labels.get("pending") == version:
                del labels["pending"]
                updated.pop("pending_token", None)
            updated["labels"] = labels
            return updated

        self._update_settings(namespace, path, drop)
        self._store.set_deletion(namespace, path, [version], self._clock.now())

    def set_label(
        self, identity: Identity, namespace: str, path: str, label: str, version: int | None
    ) -> Staging:
        """Put ``label`` on ``version`` (None: take it off); the secret's staging after it."""
        self._target(identity, "update", namespace, path, METADATA)
        check_label(label)  # a reserved or malformed name is refused before any look-up
        if version is not None and not is_version(version):
            raise BadRequest(f"version must be an integer from 1 to {MAX_INTEGER}")
        if version is not None and self._store.get_version(namespace, path, version) is None:
            raise NotFound(f"no version {version} of {namespace}/{path}")
        updated = self._update_settings(
            namespace, path, lambda s: relabelled_settings(s, label, version)
        )
        return Staging.of(updated)

    def metadata(self, identity: Identity, namespace: str, path: str) -> SecretMetadata:
        self._target(identity, "read", namespace, path, METADATA)
        secret = self._secret(namespace, path)
        versions = self._store.list_versions(namespace, path)
        now = self._clock.now()
        return SecretMetadata(
            path,
            secret.current_version,
            versions[0].version if versions else 0,
            time_of(secret.created_time),
            time_of(secret.updated_time),
            self._max_versions(secret, load_kv_config(self._store, namespace)),
            bool(secret.settings.get("cas_required", False)),
            dict(secret.settings.get("custom_metadata", {})),
            [version_metadata(v, now) for v in versions],
            float(secret.settings.get("delete_version_after", 0.0)),
            int(secret.settings.get("max_versions", 0)),
            {str(k): int(v) for k, v in secret.settings.get("labels", {}).items()},
        )

    # -- the mount's settings (Vault's <mount>/config)
    def config(self, identity: Identity, namespace: str) -> KvConfig:
        check_namespace(namespace, self.limits)
        identity.require("read", f"{namespace}/config")
        self._kv_mount(namespace)
        return load_kv_config(self._store, namespace)

    def write_config(
        self,
        identity: Identity,
        namespace: str,
        *,
        max_versions: int | None = None,
        cas_required: bool | None = None,
        delete_version_after: float | None = None,
    ) -> None:
        check_namespace(namespace, self.limits)
        identity.require("update", f"{namespace}/config")
        self._kv_mount(namespace)
        self._check_max_versions(max_versions)

        def updated(current: KvConfig | None) -> KvConfig:
            current = current or KvConfig()
            return KvConfig(
                current.max_versions if max_versions is None else max_versions,
                current.cas_required if cas_required is None else cas_required,
                current.delete_version_after
                if delete_version_after is None
                else delete_version_after,
            )

        configs = kv_configs(self._store)
        configs.change(namespace, updated, attempts=WRITE_RETRIES, gave_up=_busy_settings)

    def _check_max_versions(self, max_versions: int | None) -> None:
        if max_versions is not None and not 0 <= max_versions <= self.limits.max_versions_limit:
            raise LimitExceeded(f"max_versions must be 0-{self.limits.max_versions_limit}")

    def history(self, identity: Identity, namespace: str, path: str) -> list[VersionMetadata]:
        return self.metadata(identity, namespace, path).versions

    def write_metadata(
        self,
        identity: Identity,
        namespace: str,
        path: str,
        *,
        max_versions: int | None = None,
        cas_required: bool | None = None,
        custom_metadata: Mapping[str, str] | None = None,
        delete_version_after: float | None = None,
    ) -> SecretMetadata | None:
        """Write settings; the metadata afterwards, or None when the caller may not read it
        (a create-only token writes, and learns nothing it did not send)."""
        self._target_write(identity, namespace, path, METADATA)
        self._check_max_versions(max_versions)
        custom = None if custom_metadata is None else self._check_custom_metadata(custom_metadata)
        for _ in range(WRITE_RETRIES):
            # Compare-and-set: a version written meanwhile is never rolled back, and a settings
            # change made meanwhile never undone; the loser reads again.
            now = self._clock.now()
            secret = self._store.get_secret(namespace, path)
            base = secret or SecretRecord(namespace, path, 0, now, now)
            settings = base.settings.copy()
            if max_versions is not None:
                settings["max_versions"] = max_versions
            if delete_version_after is not None:
                settings["delete_version_after"] = delete_version_after
            if cas_required is not None:
                settings["cas_required"] = bool(cas_required)
            if custom is not None:
                settings["custom_metadata"] = dict(custom)
            updated = SecretRecord(
                namespace, path, base.current_version, base.created_time, now, settings
            )
            if self._store.replace_secret(secret, updated):
                break
        else:
            raise Conflict("too many concurrent writes to this secret; retry")
        if not identity.allows("read", kv_policy_path(namespace, METADATA, path)):
            return None
        return self.metadata(identity, namespace, path)

    def patch_metadata(
        self,
        identity: Identity,
        namespace: str,
        path: str,
        *,
        max_versions: int | None = None,
        cas_required: bool | None = None,
        delete_version_after: float | None = None,
        custom_metadata: Mapping[str, str | None] | None = None,
    ) -> None:
        """Change only what is given; ``custom_metadata`` merges (a null value removes a key)."""
        self._target(identity, "patch", namespace, path, METADATA)
        self._check_max_versions(max_versions)
        if custom_metadata is not None and not isinstance(custom_metadata, Mapping):
            raise BadRequest("custom_metadata must be an object of string values")

        def change(settings: SecretSettings) -> SecretSettings:
            updated = settings.copy()
            if max_versions is not None:
                updated["max_versions"] = max_versions
            if cas_required is not None:
                updated["cas_required"] = cas_required
            if delete_version_after is not None:
                updated["delete_version_after"] = delete_version_after
            if custom_metadata is not None:
                merged = merge_patch(updated.get("custom_metadata", {}), dict(custom_metadata))
                updated["custom_metadata"] = self._check_custom_metadata(merged)
            return updated

        self._update_settings(namespace, path, change)

    def subkeys(
        self,
        identity: Identity,
        namespace: str,
        path: str,
        *,
        version: int | None = None,
        depth: int = 0,
    ) -> tuple[SecretData, VersionMetadata]:
        """The structure of a version without its values: every leaf is None (Vault's subkeys;
        ``depth`` 0 is unlimited)."""
        self._target(identity, "read", namespace, path, SUBKEYS)
        value = self._get(namespace, path, version)
        return subkeys_of(value.data, depth), value.metadata

    def _check_custom_metadata(self, custom: Mapping[str, str]) -> dict[str, str]:
        limits = self.limits
        if not isinstance(custom, Mapping):
            raise BadRequest("custom_metadata must be an object of string values")
        if len(custom) > limits.max_custom_metadata_keys:
            raise LimitExceeded(
                f"custom_metadata has more than {limits.max_custom_metadata_keys} keys"
            )
        for key, value in custom.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise BadRequest("custom_metadata keys and values must be strings")
            if not key or len(key.encode()) > limits.max_custom_metadata_key_bytes:
                raise LimitExceeded(
                    f"custom_metadata keys must be 1-{limits.max_custom_metadata_key_bytes} bytes"
                )
            if len(value.encode()) > limits.max_custom_metadata_value_bytes:
                raise LimitExceeded(
                    "custom_metadata values must be at most "
                    f"{limits.max_custom_metadata_value_bytes} bytes"
                )
        return dict(custom)

    # -- deletion
    def _existing_versions(self, namespace: str, path: str, versions: Sequence[int]) -> list[int]:
        if not versions:
            raise BadRequest("name at least one version")
        if len(versions) > self.limits.max_list_page:
            raise LimitExceeded(f"name at most {self.limits.max_list_page} versions at once")
        if not all(is_version(v) for v in versions):
            raise BadRequest(f"versions must be integers from 1 to {MAX_INTEGER}")
        self._secret(namespace, path)
        return sorted(set(versions))

    def delete(
        self, identity: Identity, namespace: str, path: str, versions: Sequence[int] | None = None
    ) -> None:
        """Soft delete: the data stays and can be undeleted. Default: the current version (Vault's
        DELETE on data); named versions need Vault's ``delete/`` path instead."""
        if versions is None:
            self._target(identity, "delete", namespace, path)
            versions = [self._secret(namespace, path).current_version]
        else:
            self._target(identity, "update", namespace, path, DELETE)
        chosen = self._existing_versions(namespace, path, versions)
        self._store.set_deletion(namespace, path, chosen, self._clock.now())

    def undelete(
        self, identity: Identity, namespace: str, path: str, versions: Sequence[int]
    ) -> None:
        self._target(identity, "update", namespace, path, UNDELETE)
        self._store.set_deletion(
            namespace, path, self._existing_versions(namespace, path, versions), None
        )

    def destroy(
        self, identity: Identity, namespace: str, path: str, versions: Sequence[int]
    ) -> None:
        """Permanently remove the envelopes of these versions; their metadata stays."""
        self._target(identity, "update", namespace, path, DESTROY)
        self._store.destroy_versions(
            namespace, path, self._existing_versions(namespace, path, versions)
        )
        self.plaintexts.clear()  # destroyed plaintexts leave this node's memory at once

    def delete_all(self, identity: Identity, namespace: str, path: str) -> None:
        """Remove every version and the metadata; the name can be created again from version 1."""
        self._target(identity, "delete", namespace, path, METADATA)
        self._delete(namespace, path)


def _busy_settings() -> Conflict:
    return Conflict("too many concurrent writes to this mount's settings; retry")
