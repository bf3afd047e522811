"""The stored rows of secrets (names, version numbers, labels; never a value), for the
compatibility backends, which keep their own records beside strongroom's secrets and read
these rows to answer in their API's shape.

A row is read only with a ``Grant`` on its secret (policy/grants.py): any capability the caller
was allowed on a secret lets it see that secret's rows, and removing one takes ``delete``. The
one read without a grant is a listing of names, which every caller filters by the caller's
rights on each name before it touches anything else (``names``, ``scan_paths``)."""

from __future__ import annotations

from strongroom.policy.grants import Grant
from strongroom.store.protocol import SecretRecord, Store, VersionRecord

__all__ = ["SecretRecord", "SecretRows", "VersionRecord"]


class SecretRows:
    def __init__(self, store: Store) -> None:
        self._store = store

    def get(self, grant: Grant) -> SecretRecord | None:
        return self._store.get_secret(grant.namespace, grant.path)

    def exists(self, grant: Grant) -> bool:
        return self._store.get_secret(grant.namespace, grant.path) is not None

    def versions(self, grant: Grant) -> list[VersionRecord]:
        return self._store.list_versions(grant.namespace, grant.path)

    def delete(self, grant: Grant) -> bool:
        """Remove the secret, every version with it."""
        grant.require("delete")
        return self._store.delete_secret(grant.namespace, grant.path)

    def purge(self, grant: Grant) -> bool:
        """Remove a secret whose deletion was authorized earlier and is now due (a Secrets
        Manager secret past its recovery window): the caller that finds it due may hold any
        grant on it, for the removal is the one ``delete`` already allowed."""
        return self._store.delete_secret(grant.namespace, grant.path)

    def names(self, namespace: str, after: str, limit: int) -> list[str]:
        """Up to ``limit`` secret names after ``after``, in order: for a listing that filters
        each by the caller's rights."""
        return [secret.path for secret in self._store.scan_secrets(namespace, after, limit)]

    def scan_paths(self, namespace: str, prefix: str, after: str, limit: int) -> list[str]:
        """Names under ``prefix``, for a listing that filters each by the caller's rights."""
        return self._store.scan_paths(namespace, prefix, after, limit)
