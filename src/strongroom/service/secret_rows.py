"""The stored rows of secrets (names, version numbers, labels; never a value), for the
compatibility backends, which keep their own records beside strongroom's secrets and read
these rows to answer in their API's shape. Nothing here checks access: every caller has
authorized the request before it reads a row."""

from __future__ import annotations

from strongroom.store.protocol import SecretRecord, Store, VersionRecord

__all__ = ["SecretRecord", "SecretRows", "VersionRecord"]


class SecretRows:
    def __init__(self, store: Store) -> None:
        self._store = store

    def get(self, namespace: str, path: str) -> SecretRecord | None:
        return self._store.get_secret(namespace, path)

    def exists(self, namespace: str, path: str) -> bool:
        return self._store.get_secret(namespace, path) is not None

    def versions(self, namespace: str, path: str) -> list[VersionRecord]:
        return self._store.list_versions(namespace, path)

    def scan(self, namespace: str, after: str, limit: int) -> list[SecretRecord]:
        """Up to ``limit`` secrets after the path ``after``, in path order."""
        return self._store.scan_secrets(namespace, after, limit)

    def scan_paths(self, namespace: str, prefix: str, after: str, limit: int) -> list[str]:
        return self._store.scan_paths(namespace, prefix, after, limit)

    def delete(self, namespace: str, path: str) -> bool:
        """Remove the secret, every version with it."""
        return self._store.delete_secret(namespace, path)
