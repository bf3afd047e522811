"""A typed httpx client that mirrors the server's paths. Imports only errors, types and httpx."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

from strongroom.client.auth import AuthCalls
from strongroom.client.base import BaseClient
from strongroom.client.rotation import RotationCalls
from strongroom.client.system import SystemCalls
from strongroom.types import (
    KeyTermStatus,
    NamespaceInfo,
    RewrapProgress,
    SecretMetadata,
    SecretValue,
    VersionMetadata,
    WrappedDataKey,
)

__all__ = ["Client"]


class Client(RotationCalls, AuthCalls, SystemCalls, BaseClient):
    """``Client("http://127.0.0.1:8200", token)``: every strongroom API call, typed."""

    # -- secrets
    def _write(
        self, method: str, namespace: str, path: str, data: Mapping[str, Any], cas: int | None
    ) -> VersionMetadata:
        body: dict[str, Any] = {"data": dict(data)}
        if cas is not None:
            body["cas"] = cas
        return VersionMetadata.from_json(
            self._call(method, self._secret_url("secrets", namespace, path), json=body)
        )

    def put(
        self, namespace: str, path: str, data: Mapping[str, Any], *, cas: int | None = None
    ) -> VersionMetadata:
        """Write a new version; ``cas`` makes it conditional on the current version."""
        return self._write("PUT", namespace, path, data, cas)

    def get(
        self, namespace: str, path: str, *, version: int | None = None, stage: str | None = None
    ) -> SecretValue:
        """The current version; or ``version=N``; or ``stage="pending"``/``"previous"``/a
        custom label."""
        params: dict[str, Any] | None = {"version": version} if version else None
        if stage is not None:
            params = {"stage": stage}
        return SecretValue.from_json(
            self._call("GET", self._secret_url("secrets", namespace, path), params=params)
        )

    def patch(
        self, namespace: str, path: str, data: Mapping[str, Any], *, cas: int | None = None
    ) -> VersionMetadata:
        """Merge ``data`` into the latest version (RFC 7386; None removes a key)."""
        return self._write("PATCH", namespace, path, data, cas)

    def delete(self, namespace: str, path: str, versions: Sequence[int] | None = None) -> None:
        if versions:
            self._call(
                "POST",
                self._secret_url("delete", namespace, path),
                json={"versions": list(versions)},
            )
        else:
            self._call("DELETE", self._secret_url("secrets", namespace, path))

    def undelete(self, namespace: str, path: str, versions: Sequence[int]) -> None:
        self._call(
            "POST", self._secret_url("undelete", namespace, path), json={"versions": list(versions)}
        )

    def destroy(self, namespace: str, path: str, versions: Sequence[int]) -> None:
        self._call(
            "POST", self._secret_url("destroy", namespace, path), json={"versions": list(versions)}
        )

    def delete_all(self, namespace: str, path: str) -> None:
        self._call("DELETE", self._secret_url("metadata", namespace, path))

    def rollback(self, namespace: str, path: str, version: int) -> VersionMetadata:
        return VersionMetadata.from_json(
            self._call(
                "POST", self._secret_url("rollback", namespace, path), json={"version": version}
            )
        )

    def metadata(self, namespace: str, path: str) -> SecretMetadata:
        return SecretMetadata.from_json(
            self._call("GET", self._secret_url("metadata", namespace, path))
        )

    def write_metadata(
        self,
        namespace: str,
        path: str,
        *,
        max_versions: int | None = None,
        cas_required: bool | None = None,
        custom_metadata: Mapping[str, str] | None = None,
        delete_version_after: float | None = None,
    ) -> SecretMetadata | None:
        """The metadata afterwards; None when this token may write but not read it (204).
        ``delete_version_after``: seconds after which each new version reads as deleted."""
        body: dict[str, Any] = {}
        if delete_version_after is not None:
            body["delete_version_after"] = int(delete_version_after)
        if max_versions is not None:
            body["max_versions"] = max_versions
        if cas_required is not None:
            body["cas_required"] = cas_required
        if custom_metadata is not None:
            body["custom_metadata"] = dict(custom_metadata)
        answer = self._call("PUT", self._secret_url("metadata", namespace, path), json=body)
        return SecretMetadata.from_json(answer) if answer else None

    def list_keys(self, namespace: str, prefix: str = "") -> list[str]:
        url = self._secret_url("list", namespace, prefix) if prefix else f"/api/v1/list/{namespace}"
        return list(self._call("GET", url)["keys"])

    def list_recursive(
        self, namespace: str, prefix: str = "", *, page_size: int = 1000
    ) -> list[str]:
        """Every path under ``prefix``, following the server's cursor."""
        url = self._secret_url("list", namespace, prefix) if prefix else f"/api/v1/list/{namespace}"
        found: list[str] = []
        after = ""
        while True:
            doc = self._call(
                "GET", url, params={"recursive": "true", "after": after, "limit": page_size}
            )
            found.extend(doc["keys"])
            after = doc["next"]
            if not after:
                return found

    def search(
        self,
        namespace: str,
        *,
        prefix: str = "",
        name: str = "",
        metadata: Mapping[str, str] | None = None,
        limit: int = 1000,
    ) -> list[str]:
        """Up to ``limit`` matching paths, following the server's cursor across pages."""
        found: list[str] = []
        after = ""
        while len(found) < limit:
            params: list[tuple[str, Any]] = [
                ("prefix", prefix),
                ("name", name),
                ("limit", limit - len(found)),
                ("after", after),
            ]
            params.extend(("metadata", f"{k}={v}") for k, v in (metadata or {}).items())
            doc = self._call("GET", f"/api/v1/search/{namespace}", params=params)
            found.extend(doc["keys"])
            after = doc.get("next", "")
            if not after:
                break
        return found

    # -- namespaces and keys
    def namespaces(self) -> list[NamespaceInfo]:
        return [
            NamespaceInfo.from_json(n)
            for n in self._call("GET", "/api/v1/namespaces")["namespaces"]
        ]

    def create_namespace(
        self, name: str, *, description: str = "", provider: str = ""
    ) -> NamespaceInfo:
        """``provider``: a key provider the server was started with (``--key-provider``)."""
        body: dict[str, Any] = {"name": name}
        if description:
            body["description"] = description
        if provider:
            body["provider"] = provider
        return NamespaceInfo.from_json(self._call("POST", "/api/v1/namespaces", json=body))

    def namespace(self, name: str) -> NamespaceInfo:
        return NamespaceInfo.from_json(self._call("GET", f"/api/v1/namespaces/{name}"))

    def delete_namespace(self, name: str) -> None:
        self._call("DELETE", f"/api/v1/namespaces/{name}")

    def key_status(self, namespace: str) -> list[KeyTermStatus]:
        doc = self._call("GET", f"/api/v1/namespaces/{namespace}/keys")
        return [KeyTermStatus.from_json(t) for t in doc["terms"]]

    def rotate_keys(self, namespace: str) -> NamespaceInfo:
        return NamespaceInfo.from_json(
            self._call("POST", f"/api/v1/namespaces/{namespace}/keys/rotate")
        )

    def rewrap_batch(self, namespace: str, *, batch_size: int = 500) -> RewrapProgress:
        return RewrapProgress.from_json(
            self._call(
                "POST",
                f"/api/v1/namespaces/{namespace}/keys/rewrap",
                json={"batch_size": batch_size},
            )
        )

    # -- remote KMS for the token library
    def generate_data_key(self, namespace: str, context: Mapping[str, str]) -> WrappedDataKey:
        doc = self._call(
            "POST", f"/api/v1/namespaces/{namespace}/datakey", json={"context": dict(context)}
        )
        return WrappedDataKey(
            doc["key_ref"], base64.b64decode(doc["wrapped"]), base64.b64decode(doc["plaintext"])
        )

    def decrypt_data_key(
        self, namespace: str, key_ref: str, wrapped: bytes, context: Mapping[str, str]
    ) -> bytes:
        doc = self._call(
            "POST",
            f"/api/v1/namespaces/{namespace}/datakey/decrypt",
            json={
                "key_ref": key_ref,
                "wrapped": base64.b64encode(wrapped).decode(),
                "context": dict(context),
            },
        )
        return base64.b64decode(doc["plaintext"])
