"""What the store keeps of a token: never the token itself (its record is named by its HMAC
digest), but its accessor, policies, lifetimes, parent, metadata and where it was issued."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from strongroom.types import format_time

__all__ = ["TokenInfo"]


@dataclass(frozen=True)
class TokenInfo:
    accessor: str
    display_name: str
    policies: tuple[str, ...]
    created: float
    expires: float | None  # None: never (root tokens)
    max_expires: float | None
    ttl: float  # the creation TTL, used by renewals without an increment
    period: float = 0.0
    renewable: bool = True
    num_uses: int = 0  # 0: unlimited
    parent: str | None = None  # the parent's accessor; None for orphans
    meta: dict[str, str] = field(default_factory=dict)
    role: str = ""
    path: str = "auth/token/create"
    # The stored entity an identity alias made the login act as (auth/identity_store.py)
    entity: str = ""
    # The external groups whose aliases the login's groups named (a JWT's groups claim)
    groups: tuple[str, ...] = ()

    @property
    def orphan(self) -> bool:
        return self.parent is None

    def encode(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def decode(cls, raw: bytes) -> TokenInfo:
        doc = json.loads(raw)
        doc["policies"] = tuple(doc["policies"])
        doc["groups"] = tuple(doc.get("groups", ()))
        return cls(**doc)

    def to_json(self, now: float, uses_left: int | None = None) -> dict[str, Any]:
        remaining = max(0, int(self.expires - now)) if self.expires is not None else 0
        return {
            "accessor": self.accessor,
            "display_name": self.display_name,
            "policies": list(self.policies),
            "meta": self.meta,
            "creation_time": format_time(self.created),
            "expire_time": format_time(self.expires) if self.expires is not None else None,
            "ttl": remaining,
            "creation_ttl": int(self.ttl),
            "explicit_max_ttl": int(self.max_expires - self.created)
            if self.max_expires is not None
            else 0,
            "period": int(self.period),
            "renewable": self.renewable,
            "num_uses": uses_left if uses_left is not None else self.num_uses,
            "orphan": self.orphan,
            "role": self.role,
            "path": self.path,
        }
