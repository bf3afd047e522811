"""SDK calls for policies, audit sinks and the seal."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

from strongroom.client.base import BaseClient
from strongroom.results import (
    AuditSinkInfo,
    AuditVerification,
    InitResult,
    RekeyStarted,
    SealMigration,
)
from strongroom.types import SealStatusInfo

__all__ = ["SystemCalls"]


class SystemCalls(BaseClient):
    # -- policies
    def write_policy(self, name: str, text: str) -> None:
        self._call("PUT", f"/api/v1/sys/policies/acl/{quote(name, safe='')}", json={"policy": text})

    def read_policy(self, name: str) -> str:
        doc = self._call("GET", f"/api/v1/sys/policies/acl/{quote(name, safe='')}")
        return str(doc["data"]["policy"])

    def list_policies(self) -> list[str]:
        return list(self._call("GET", "/api/v1/sys/policies/acl")["keys"])

    def delete_policy(self, name: str) -> None:
        self._call("DELETE", f"/api/v1/sys/policies/acl/{quote(name, safe='')}")

    def capabilities(self, paths: Sequence[str]) -> dict[str, list[str]]:
        doc = self._call("POST", "/api/v1/sys/capabilities-self", json={"paths": list(paths)})
        return {k: list(v) for k, v in doc["data"].items()}

    # -- audit
    def enable_audit(self, name: str, sink_type: str = "file") -> None:
        self._call("PUT", f"/api/v1/sys/audit/{quote(name, safe='')}", json={"type": sink_type})

    def disable_audit(self, name: str) -> None:
        self._call("DELETE", f"/api/v1/sys/audit/{quote(name, safe='')}")

    def list_audit(self) -> list[AuditSinkInfo]:
        return [AuditSinkInfo.from_json(d) for d in self._call("GET", "/api/v1/sys/audit")["sinks"]]

    def verify_audit(self, name: str) -> AuditVerification:
        doc = self._call("POST", f"/api/v1/sys/audit/{quote(name, safe='')}/verify")
        return AuditVerification.from_json(doc["data"])

    def audit_hash(self, name: str, value: str) -> str:
        doc = self._call(
            "POST", f"/api/v1/sys/audit-hash/{quote(name, safe='')}", json={"input": value}
        )
        return str(doc["data"]["hash"])

    # -- seal
    def seal_status(self) -> SealStatusInfo:
        return SealStatusInfo.from_json(self._call("GET", "/api/v1/sys/seal-status")["data"])

    def init(self, shares: int = 1, threshold: int = 1) -> InitResult:
        body = {"shares": shares, "threshold": threshold}
        return InitResult.from_json(self._call("POST", "/api/v1/sys/init", json=body)["data"])

    def unseal(self, key: str, nonce: str = "") -> SealStatusInfo:
        """Give one share to the unseal attempt ``nonce`` (or start one); the status carries the
        attempt's nonce for the next operators."""
        doc = self._call("POST", "/api/v1/sys/unseal", json={"key": key, "nonce": nonce})
        return SealStatusInfo.from_json(doc["data"])

    def backup(self, progress: Callable[[int, int], None] | None = None) -> bytes:
        """An encrypted snapshot of the whole store (sudo on sys/backup): it opens only with
        the server's root key (service/backup.py). ``progress(done, total)`` as bytes arrive."""
        return self._download("/api/v1/sys/backup", progress)

    def seal(self) -> None:
        self._call("POST", "/api/v1/sys/seal")

    def create_aws_credentials(
        self, policies: Sequence[str], display_name: str = ""
    ) -> dict[str, Any]:
        """A new AWS access key: ``access_key_id`` and ``secret_access_key`` (shown once)."""
        body = {"policies": list(policies), "display_name": display_name}
        return dict(self._call("POST", "/api/v1/sys/aws/credentials", json=body)["data"])

    def list_aws_credentials(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/api/v1/sys/aws/credentials")["data"]["keys"])

    def revoke_aws_credentials(self, access_key_id: str) -> None:
        self._call("DELETE", f"/api/v1/sys/aws/credentials/{quote(access_key_id, safe='')}")

    def create_aws_lambda(
        self, name: str, url: str, signing_secret: str, timeout: float = 10.0, retries: int = 3
    ) -> dict[str, Any]:
        """Register a webhook that plays the rotation Lambda function ``name``."""
        body = {
            "name": name,
            "url": url,
            "signing_secret": signing_secret,
            "timeout": timeout,
            "retries": retries,
        }
        return dict(self._call("POST", "/api/v1/sys/aws/lambda-functions", json=body)["data"])

    def list_aws_lambdas(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/api/v1/sys/aws/lambda-functions")["data"]["functions"])

    def delete_aws_lambda(self, name: str) -> None:
        self._call("DELETE", f"/api/v1/sys/aws/lambda-functions/{quote(name, safe='')}")

    def migrate_seal(self, to: str) -> SealMigration:
        """Move the root key to another of the server's key providers (a ``--key-provider``
        name or its URI)."""
        doc = self._call("POST", "/api/v1/sys/seal/migrate", json={"to": to})
        return SealMigration.from_json(doc["data"])

    def rekey(self, keys: Sequence[str], shares: int = 1, threshold: int = 1) -> RekeyStarted:
        """Start a rekey: new shares and the nonce. A shamir rekey takes effect only after
        ``rekey_verify``."""
        body = {"keys": list(keys), "shares": shares, "threshold": threshold}
        return RekeyStarted.from_json(self._call("POST", "/api/v1/sys/rekey", json=body)["data"])

    def rekey_verify(self, nonce: str, new_keys: Sequence[str]) -> None:
        body = {"nonce": nonce, "keys": list(new_keys)}
        self._call("POST", "/api/v1/sys/rekey/verify", json=body)

    def rekey_cancel(self) -> None:
        self._call("DELETE", "/api/v1/sys/rekey")
