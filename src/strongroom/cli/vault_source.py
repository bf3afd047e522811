"""Reading a Vault or OpenBao server for a migration: KV v2 secrets (every version's state and
data, metadata) and ACL policies, through Vault's own HTTP API. Read-only: nothing on the
source changes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from strongroom.errors import AccessDenied, BadRequest, ServerUnreachable

__all__ = ["SourceSecret", "SourceVersion", "VaultSource"]

_TIMEOUT = 30.0


@dataclass(frozen=True)
class SourceVersion:
    number: int
    deleted: bool
    destroyed: bool
    pruned: bool = False  # older than the source keeps: nothing to copy


@dataclass(frozen=True)
class SourceSecret:
    path: str
    current_version: int
    versions: list[SourceVersion]
    custom_metadata: dict[str, str] = field(default_factory=dict)
    max_versions: int = 0
    cas_required: bool = False
    delete_version_after: float = 0.0


def _seconds(text: object) -> float:
    """Go's duration text (``1h0m0s``, ``0s``) in seconds."""
    if not isinstance(text, str) or not text:
        return 0.0
    total, number = 0.0, ""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0}
    for char in text:
        if char in "0123456789.":
            number += char
        elif char in units and number:
            total += float(number) * units[char]
            number = ""
    return total


class VaultSource:
    def __init__(self, addr: str, token: str, *, verify: bool | str = True) -> None:
        self._http = httpx.Client(
            base_url=addr.rstrip("/"),
            headers={"X-Vault-Token": token, "X-Vault-Request": "true"},
            timeout=_TIMEOUT,
            verify=verify,
        )

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any] | None:
        try:
            response = self._http.request(method, f"/v1/{path}", **kwargs)
        except httpx.HTTPError as exc:
            raise ServerUnreachable(
                f"cannot reach the Vault server ({type(exc).__name__}); check --addr"
            ) from None
        if response.status_code == 404:
            return None if not response.content else _json(response)
        if response.status_code == 403:
            raise AccessDenied(
                f"the Vault token may not {method} {path}; it needs read and list on the mounts "
                "to copy, and read on sys/policies/acl"
            )
        if response.status_code >= 400:
            errors = _json(response).get("errors") or [response.reason_phrase]
            raise BadRequest(f"Vault answered {response.status_code} to {path}: {errors[0]}")
        return _json(response) if response.content else {}

    def check_kv2(self, mount: str) -> None:
        found = self._request("GET", f"sys/internal/ui/mounts/{mount}")
        options = ((found or {}).get("data") or {}).get("options") or {}
        if str(options.get("version")) != "2":
            raise BadRequest(f"{mount}/ on the source is not a KV version 2 mount")

    def paths(self, mount: str, folder: str = "") -> Iterator[str]:
        """Every secret path under ``folder``, depth first, in the source's order."""
        answer = self._request("LIST", f"{mount}/metadata/{folder}")
        keys = ((answer or {}).get("data") or {}).get("keys") or []
        for key in keys:
            if key.endswith("/"):
                yield from self.paths(mount, folder + key)
            else:
                yield folder + key

    def secret(self, mount: str, path: str) -> SourceSecret | None:
        answer = self._request("GET", f"{mount}/metadata/{path}")
        data = (answer or {}).get("data")
        if not data:
            return None
        listed = {int(n): v for n, v in (data.get("versions") or {}).items()}
        current = int(data.get("current_version") or 0)
        versions = [
            SourceVersion(n, bool(listed[n].get("deletion_time")), bool(listed[n].get("destroyed")))
            if n in listed
            else SourceVersion(n, False, True, pruned=True)
            for n in range(1, current + 1)
        ]
        return SourceSecret(
            path,
            current,
            versions,
            dict(data.get("custom_metadata") or {}),
            int(data.get("max_versions") or 0),
            bool(data.get("cas_required")),
            _seconds(data.get("delete_version_after")),
        )

    def version_data(self, mount: str, path: str, version: int) -> dict[str, Any] | None:
        """A live version's data; None when it was deleted meanwhile."""
        answer = self._request("GET", f"{mount}/data/{path}", params={"version": version})
        data = ((answer or {}).get("data") or {}).get("data")
        return data if isinstance(data, dict) else None

    def policies(self) -> dict[str, str]:
        """Every ACL policy but root and default (each server has its own)."""
        listed = self._request("LIST", "sys/policies/acl")
        names = ((listed or {}).get("data") or {}).get("keys") or []
        found = {}
        for name in names:
            if name in ("root", "default"):
                continue
            answer = self._request("GET", f"sys/policies/acl/{name}")
            if answer is not None:
                found[name] = str(answer["data"]["policy"])
        return found


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        doc = response.json()
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}
