"""The stored records of authentication, typed: token roles, AppRole roles, AppRole secret ids and
userpass users. Each is a sealed record in the store (``sealed_store.py``); its JSON field names
are the stored format and do not change."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_TOKEN_TYPE",
    "AppRoleRecord",
    "SecretIdRecord",
    "TokenRoleRecord",
    "UserRecord",
    "shown",
]

DEFAULT_TOKEN_TYPE = "default"  # noqa: S105  (Vault's name of a token type, no secret)


def shown(settings: dict[str, Any]) -> dict[str, Any]:
    """A role's settings as Vault shows them: each duration in whole seconds, 0 when unset (a
    Go client reads them into integers)."""
    return {
        name: int(value or 0) if name.endswith(("_ttl", "_period")) else value
        for name, value in settings.items()
    }


def _optional_float(value: Any) -> float | None:
    return float(value) if value is not None else None


@dataclass(frozen=True)
class TokenRoleRecord:
    allowed_policies: list[str] = field(default_factory=list)
    disallowed_policies: list[str] = field(default_factory=list)
    orphan: bool = False
    renewable: bool = True
    token_period: float = 0.0
    token_explicit_max_ttl: float | None = None
    token_ttl: float | None = None
    token_num_uses: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_json()).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> TokenRoleRecord:
        doc = json.loads(raw)
        return cls(
            list(doc.get("allowed_policies", [])),
            list(doc.get("disallowed_policies", [])),
            bool(doc.get("orphan", False)),
            bool(doc.get("renewable", True)),
            float(doc.get("token_period") or 0),
            _optional_float(doc.get("token_explicit_max_ttl")),
            _optional_float(doc.get("token_ttl")),
            int(doc.get("token_num_uses") or 0),
        )


@dataclass(frozen=True)
class AppRoleRecord:
    role_id: str = field(repr=False)
    token_policies: list[str] = field(default_factory=list)
    token_ttl: float | None = None
    token_max_ttl: float | None = None
    token_period: float = 0.0
    token_num_uses: int = 0
    bind_secret_id: bool = True
    secret_id_ttl: float | None = None
    secret_id_num_uses: int = 0
    secret_id_bound_cidrs: list[str] = field(default_factory=list)
    token_type: str = DEFAULT_TOKEN_TYPE  # as written; every type taken is a service token

    def settings(self) -> dict[str, Any]:
        """What a read shows: everything but the role_id (which has its own endpoint)."""
        return shown({k: v for k, v in asdict(self).items() if k != "role_id"})

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> AppRoleRecord:
        doc = json.loads(raw)
        return cls(
            str(doc["role_id"]),
            list(doc.get("token_policies", [])),
            _optional_float(doc.get("token_ttl")),
            _optional_float(doc.get("token_max_ttl")),
            float(doc.get("token_period") or 0),
            int(doc.get("token_num_uses") or 0),
            bool(doc.get("bind_secret_id", True)),
            _optional_float(doc.get("secret_id_ttl")),
            int(doc.get("secret_id_num_uses") or 0),
            list(doc.get("secret_id_bound_cidrs", [])),
            str(doc.get("token_type", DEFAULT_TOKEN_TYPE)),
        )


@dataclass(frozen=True)
class SecretIdRecord:
    """One AppRole secret id, stored under the HMAC digest of its value (never the value)."""

    accessor: str
    created: float
    expires: float | None
    num_uses: int
    cidr_list: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> SecretIdRecord:
        doc = json.loads(raw)
        return cls(
            str(doc["accessor"]),
            float(doc["created"]),
            _optional_float(doc.get("expires")),
            int(doc.get("num_uses") or 0),
            list(doc.get("cidr_list", [])),
            dict(doc.get("metadata", {})),
        )


@dataclass(frozen=True)
class UserRecord:
    name: str
    hash: str = field(default="", repr=False)  # the password's Argon2id hash
    token_policies: list[str] = field(default_factory=list)
    token_ttl: float | None = None
    token_max_ttl: float | None = None

    def settings(self) -> dict[str, Any]:
        """What a read shows: everything but the hash."""
        return shown({k: v for k, v in asdict(self).items() if k != "hash"})

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> UserRecord:
        doc = json.loads(raw)
        return cls(
            str(doc["name"]),
            str(doc.get("hash", "")),
            list(doc.get("token_policies", [])),
            _optional_float(doc.get("token_ttl")),
            _optional_float(doc.get("token_max_ttl")),
        )
