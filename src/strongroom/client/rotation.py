"""SDK calls for rotation, staging labels, passwords and key lifecycle."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strongroom.client.base import BaseClient
from strongroom.results import RootKeyRotation, RotationStatus, RunResult
from strongroom.types import NamespaceInfo

__all__ = ["RotationCalls"]


class RotationCalls(BaseClient):
    def configure_rotation(
        self,
        namespace: str,
        path: str,
        rotator: str,
        *,
        params: Mapping[str, Any] | None = None,
        interval: str | int | None = None,
        cron: str | None = None,
        expire_after: str | int | None = None,
        notify_url: str | None = None,
        notify_secret: str | None = None,
    ) -> dict[str, Any]:
        """Rotate ``namespace/path`` with ``rotator`` every ``interval`` ("30d") or on
        ``cron`` ("0 3 * * 1", UTC)."""
        body: dict[str, Any] = {"rotator": rotator, "params": dict(params or {})}
        optional = {
            "interval": interval,
            "cron": cron,
            "expire_after": expire_after,
            "notify_url": notify_url,
            "notify_secret": notify_secret,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        url = self._secret_url("rotation/config", namespace, path)
        result: dict[str, Any] = self._call("PUT", url, json=body)["data"]
        return result

    def rotation_status(self, namespace: str, path: str) -> RotationStatus:
        """Settings, labels, the run in progress and the history."""
        url = self._secret_url("rotation/config", namespace, path)
        return RotationStatus.from_json(self._call("GET", url)["data"])

    def list_rotations(self) -> list[RotationStatus]:
        return [RotationStatus.from_json(d) for d in self._call("GET", "/api/v1/rotation")["data"]]

    def remove_rotation(self, namespace: str, path: str) -> None:
        self._call("DELETE", self._secret_url("rotation/config", namespace, path))

    def rotate_now(self, namespace: str, path: str) -> RunResult:
        """Run (or resume) the rotation now; ``.result`` is success, failed, rolled_back, …"""
        doc = self._call("POST", self._secret_url("rotation/run", namespace, path))
        return RunResult.from_json(doc["data"])

    def cancel_rotation(self, namespace: str, path: str) -> bool:
        doc = self._call("POST", self._secret_url("rotation/cancel", namespace, path))
        return bool(doc["data"]["cancelled"])

    def set_label(
        self, namespace: str, path: str, label: str, version: int | None
    ) -> dict[str, int]:
        body = {"label": label, "version": version}
        doc = self._call("POST", self._secret_url("labels", namespace, path), json=body)
        return dict(doc["data"]["labels"])

    def random_password(self, **policy: Any) -> str:
        """A password from the server's generator: length, classes, exclude, require_each."""
        return str(
            self._call("POST", "/api/v1/sys/tools/password", json=policy)["data"]["password"]
        )

    def retire_key_term(self, namespace: str, term: int) -> NamespaceInfo:
        doc = self._call("POST", f"/api/v1/namespaces/{namespace}/keys/retire", json={"term": term})
        return NamespaceInfo.from_json(doc["data"])

    def rotate_root_key(self, *, rewrap_only: bool = False, provider: str = "") -> RootKeyRotation:
        body: dict[str, Any] = {"rewrap_only": rewrap_only}
        if provider:
            body["provider"] = provider
        doc = self._call("POST", "/api/v1/sys/kms/rotate-root", json=body)
        return RootKeyRotation.from_json(doc["data"])

    def migrate_keyring(self, namespace: str, to: str) -> NamespaceInfo:
        """Wrap a namespace's keyring under another of the server's key providers (a
        ``--key-provider`` name, its URI, or ``root``)."""
        doc = self._call("POST", f"/api/v1/namespaces/{namespace}/keys/migrate", json={"to": to})
        return NamespaceInfo.from_json(doc["data"])
