"""Tokens, stored only as HMAC-SHA256 digests, and the identity a request acts as.

This is the foundation's minimal authentication: a root token plus tokens with simple per-
namespace grants. The access-control issue replaces grants with full policies behind the same
``Identity.require`` check point."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from strongroom.clock import Clock
from strongroom.errors import AccessDenied, BadRequest, DecryptionError, Unauthenticated
from strongroom.kms.provider import KeyProvider
from strongroom.store.protocol import Store

__all__ = ["CAPABILITIES", "Grant", "Identity", "TokenRegistry"]

CAPABILITIES = frozenset({"read", "write", "list", "delete", "admin", "encrypt", "decrypt"})
TOKEN_PREFIX = "sr."  # noqa: S105 - a prefix, not a secret
CACHE_SECONDS = 1.0
CACHE_ENTRIES = 10_000
_TOKEN_KIND = "token"  # noqa: S105 - a record kind
_SYSTEM_KIND = "system"


@dataclass(frozen=True)
class Grant:
    namespace: str  # a namespace name, or "*" for all
    capabilities: frozenset[str]

    def to_json(self) -> dict[str, object]:
        return {"namespace": self.namespace, "capabilities": sorted(self.capabilities)}


@dataclass(frozen=True)
class Identity:
    name: str
    root: bool = False
    grants: tuple[Grant, ...] = ()
    accessor: str = field(default="", repr=False)

    def allows(self, capability: str, namespace: str) -> bool:
        if self.root:
            return True
        return any(
            capability in grant.capabilities and grant.namespace in ("*", namespace)
            for grant in self.grants
        )

    def require(self, capability: str, namespace: str) -> None:
        """The one check point. Deny by default."""
        if not self.allows(capability, namespace):
            raise AccessDenied(f"permission denied: {capability} on namespace {namespace!r}")


def parse_grants(raw: Iterable[object]) -> tuple[Grant, ...]:
    grants = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("namespace"), str):
            raise BadRequest('each grant is {"namespace": str, "capabilities": [str]}')
        caps = item.get("capabilities")
        if not isinstance(caps, list) or not all(isinstance(c, str) for c in caps):
            raise BadRequest("grant capabilities must be a list of strings")
        unknown = set(caps) - CAPABILITIES
        if unknown:
            raise BadRequest(f"unknown capabilities {sorted(unknown)}; use {sorted(CAPABILITIES)}")
        grants.append(Grant(item["namespace"], frozenset(caps)))
    return tuple(grants)


class TokenRegistry:
    def __init__(self, store: Store, provider: KeyProvider, clock: Clock) -> None:
        self._store = store
        self._provider = provider
        self._clock = clock
        self._hmac_key = self._load_hmac_key()
        # digest -> (identity, expires, cached until): saves a store read per request. A token
        # revoked on this node is dropped at once; on another node within CACHE_SECONDS.
        self._cache: dict[str, tuple[Identity, float | None, float]] = {}
        self._digests: dict[str, str] = {}  # token -> digest; memory is out of scope

    def _load_hmac_key(self) -> bytes:
        context = {"purpose": "token-hmac-key"}
        wrapped = self._store.get_record(_SYSTEM_KIND, "token-hmac-key")
        if wrapped is None:
            fresh = self._provider.wrap(secrets.token_bytes(32), context=context)
            self._store.replace_record(_SYSTEM_KIND, "token-hmac-key", None, fresh)
            wrapped = self._store.get_record(_SYSTEM_KIND, "token-hmac-key")
            assert wrapped is not None
        return self._provider.unwrap(wrapped, context=context)

    def _digest(self, token: str) -> str:
        known = self._digests.get(token)
        if known is None:
            known = hmac.new(self._hmac_key, token.encode("utf-8"), hashlib.sha256).hexdigest()
            if len(self._digests) >= CACHE_ENTRIES:
                self._digests.clear()
            self._digests[token] = known
        return known

    def create(
        self,
        name: str,
        *,
        grants: tuple[Grant, ...] = (),
        root: bool = False,
        ttl: float | None = None,
        token: str | None = None,
    ) -> str:
        """Create a token and return it; only its digest is stored."""
        token = token or TOKEN_PREFIX + secrets.token_urlsafe(32)
        expires = self._clock.now() + ttl if ttl else None
        doc = {
            "name": name,
            "root": root,
            "grants": [g.to_json() for g in grants],
            "expires": expires,
            "accessor": secrets.token_hex(12),
        }
        self._store.put_record(_TOKEN_KIND, self._digest(token), json.dumps(doc).encode())
        return token

    def authenticate(self, token: str | None) -> Identity:
        if not token:
            raise Unauthenticated()
        # Looking up by HMAC digest means no byte of the token is compared in variable time.
        digest = self._digest(token)
        now = self._clock.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and now < cached[2]:
            identity, expires, _ = cached
        else:
            raw = self._store.get_record(_TOKEN_KIND, digest)
            if raw is None:
                self._cache.pop(digest, None)
                raise Unauthenticated("invalid or revoked token")
            doc = json.loads(raw)
            identity = Identity(
                doc["name"], bool(doc["root"]), parse_grants(doc["grants"]), doc["accessor"]
            )
            expires = doc["expires"]
            if len(self._cache) >= CACHE_ENTRIES:
                self._cache.clear()
            self._cache[digest] = (identity, expires, now + CACHE_SECONDS)
        if expires is not None and self._clock.now() >= expires:
            raise Unauthenticated("token expired")
        return identity

    def revoke(self, token: str) -> bool:
        digest = self._digest(token)
        self._cache.pop(digest, None)
        return self._store.delete_record(_TOKEN_KIND, digest)

    def dev_root_token(self, chosen: str | None) -> str:
        """Dev mode's root token, kept wrapped by the key provider so a restart can print it."""
        context = {"purpose": "dev-root-token"}
        wrapped = self._store.get_record(_SYSTEM_KIND, "dev-root-token")
        if wrapped is not None:
            try:
                previous = self._provider.unwrap(wrapped, context=context).decode()
            except (DecryptionError, UnicodeDecodeError):
                previous = None
            if previous is not None and chosen in (None, previous):
                self.create("root", root=True, token=previous)
                return previous
            if previous is not None:
                self.revoke(previous)
        token = chosen or TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.create("root", root=True, token=token)
        self._store.put_record(
            _SYSTEM_KIND, "dev-root-token", self._provider.wrap(token.encode(), context=context)
        )
        return token
