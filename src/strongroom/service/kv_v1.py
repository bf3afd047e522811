"""Vault's KV version 1 over strongroom's secrets: one value per secret, no history, and one
policy path per secret, ``<mount>/<path>`` (policy/kv.py).

A version 1 mount is a namespace of kind ``kv-v1``; its secrets are stored as every secret is
(encrypted, one envelope per value), keeping only the latest version. Every operation checks the
path, then the caller's capability, and only then what is mounted there, so a caller without
rights learns nothing about the mount.
"""

from __future__ import annotations

from collections.abc import Callable

from strongroom.auth import Identity
from strongroom.auth.mount_tuning import MountTunings, secrets_mount_key
from strongroom.errors import BadRequest, NoSuchNamespace, NotFound, SecretDeleted
from strongroom.limits import Limits
from strongroom.paths import check_namespace, check_path, check_prefix
from strongroom.policy.grants import granted
from strongroom.policy.kv import kv1_policy_path
from strongroom.service.listing import ListingService
from strongroom.service.secrets import SecretService
from strongroom.store.protocol import Store
from strongroom.types import SecretData, SecretValue

__all__ = ["KvVersion1", "VersionedMount"]


class VersionedMount(NotFound):
    """A version 1 path on a version 2 mount: Vault's KV answers with where to look instead."""

    def __init__(self) -> None:
        super().__init__(
            "invalid path for a versioned K/V secrets engine: use its data/ and metadata/ paths"
        )


class KvVersion1:
    def __init__(
        self,
        secrets: SecretService,
        listing: ListingService,
        store: Store,
        limits: Limits,
        kind_of: Callable[[str], str | None],
    ) -> None:
        self._secrets = secrets
        self._listing = listing
        self._store = store
        self._limits = limits
        self._kind_of = kind_of
        self._tunings = MountTunings(store)

    def _checked(self, mount: str, path: str) -> str:
        check_path(path, self._limits)
        return kv1_policy_path(mount, path)

    def _mounted(self, mount: str) -> None:
        """After the caller's check: what is mounted there. A name no mount can have (``sys``,
        a bad character) is no mount at all: these routes match every path under /v1/."""
        try:
            check_namespace(mount, self._limits)
        except BadRequest:
            raise NoSuchNamespace(f"no KV version 1 mount at {mount}/") from None
        kind = self._kind_of(mount)
        if kind == "kv-v1":
            return
        if kind == "kv-v2":
            raise VersionedMount()
        raise NoSuchNamespace(f"no KV version 1 mount at {mount}/")

    def read(self, identity: Identity, mount: str, path: str) -> SecretValue:
        grant = granted(identity, "read", self._checked(mount, path), mount, path)
        self._mounted(mount)
        try:
            return self._secrets.read_version_1(grant)
        except SecretDeleted:  # written as version 2 before an operator changed the kind
            raise NotFound(f"no secret at {mount}/{path}") from None

    def read_leased(self, identity: Identity, mount: str, path: str) -> tuple[SecretValue, int]:
        """The value and the lease Vault reports with it: the mount's default lease TTL."""
        value = self.read(identity, mount, path)
        return value, int(self._tunings.of(secrets_mount_key(mount)).default_ttl)

    def write(self, identity: Identity, mount: str, path: str, data: SecretData) -> None:
        """Replace the value (Vault's version 1 write): ``create`` for a new secret, ``update``
        for an existing one."""
        policy_path = self._checked(mount, path)
        exists = identity.require_write(
            policy_path, lambda: self._store.get_secret(mount, path) is not None
        )
        grant = granted(identity, "update" if exists else "create", policy_path, mount, path)
        self._mounted(mount)
        if not data:
            raise BadRequest("missing data fields")
        self._secrets.write_granted(grant, data, keep=1)

    def delete(self, identity: Identity, mount: str, path: str) -> None:
        """Remove the secret; NoSuchSecret (Vault's 204) when there is none."""
        grant = granted(identity, "delete", self._checked(mount, path), mount, path)
        self._mounted(mount)
        self._secrets.delete_granted(grant)

    def list(self, identity: Identity, mount: str, folder: str) -> list[str]:
        """One level under ``folder``: names, with a trailing '/' for folders."""
        base = check_prefix(folder, self._limits)
        identity.require("list", kv1_policy_path(mount, base + "/" if base else ""))
        self._mounted(mount)
        return self._listing.list_keys_v1(identity, mount, base)
