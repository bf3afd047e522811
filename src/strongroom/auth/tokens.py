"""Tokens: opaque, prefixed, 256 random bits, stored only as HMAC-SHA256 digests.

A token has an accessor (a handle that can look it up or revoke it without being able to use
it), policies, a TTL within a max TTL, optional periodic renewal, a use limit, metadata and a
parent. Revoking a token revokes its descendants; an expired ancestor invalidates the tree."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from strongroom.auth.identity import Identity
from strongroom.auth.mount_tuning import SYSTEM_DEFAULT_TTL, SYSTEM_MAX_TTL, MountTunings
from strongroom.auth.token_info import TokenInfo
from strongroom.clock import Clock
from strongroom.errors import BadRequest, DecryptionError, NotFound, Unauthenticated
from strongroom.keyproviders.provider import KeyProvider
from strongroom.policy.store import PolicyStore
from strongroom.record_migration import TOKEN_HMAC_CONTEXT
from strongroom.store.protocol import Store
from strongroom.store.records import Records

__all__ = [
    "ACCESSOR_PREFIX",
    "CACHE_ENTRIES",
    "CACHE_SECONDS",
    "DEFAULT_TTL",
    "MAX_TTL",
    "TOKEN_PREFIX",
    "Identities",
    "TokenInfo",
    "TokenRegistry",
]

TOKEN_PREFIX = "srs."  # noqa: S105 - the type prefix of service tokens, not a secret
ACCESSOR_PREFIX = "sra."
CACHE_SECONDS = 1.0
CACHE_ENTRIES = 10_000
DEFAULT_TTL = SYSTEM_DEFAULT_TTL  # Vault's 768h, unless the auth method's mount was tuned
MAX_TTL = SYSTEM_MAX_TTL
_TOKEN_KIND = "token"  # noqa: S105 - a record kind
_ACCESSOR_KIND = "token-accessor"
_USES_KIND = "token-uses"
_SYSTEM_KIND = "system"
_RETRIES = 20


def _children_kind(accessor: str) -> str:
    return f"token-children:{accessor}"


_DEV_ROOT_CONTEXT = {"purpose": "dev-root-token"}


class Identities(Protocol):
    """The identity store, as tokens see it (auth/identity_store.py)."""

    def entity_for(self, login_path: str, alias_name: str) -> str: ...

    def groups_for(self, login_path: str, names: tuple[str, ...]) -> tuple[str, ...]: ...

    def policies_of(
        self, entity_id: str, groups: tuple[str, ...] = ()
    ) -> tuple[str, ...] | None: ...


class TokenRegistry:
    def __init__(
        self, store: Store, provider: KeyProvider, clock: Clock, policies: PolicyStore
    ) -> None:
        self._store = store
        self._tokens = Records(store, _TOKEN_KIND, TokenInfo.decode, TokenInfo.encode)
        self._accessors = Records(store, _ACCESSOR_KIND, bytes.decode, str.encode)  # -> digest
        self._system = Records(store, _SYSTEM_KIND, bytes, bytes)  # keys wrapped by the provider
        self._provider = provider
        self._clock = clock
        self.policies = policies
        self.tunings = MountTunings(store)
        self._hmac_key = self._load_hmac_key()
        # digest -> (identity, expires, cached until): saves store reads per request. A token
        # revoked on this node is dropped at once; on another node within CACHE_SECONDS.
        self._cache: dict[str, tuple[Identity, float | None, float]] = {}
        self._digests: dict[str, str] = {}  # token -> digest; process memory is out of scope
        self._lock = threading.Lock()
        self.identities: Identities | None = None  # set once the identity store exists

    def _load_hmac_key(self) -> bytes:
        context = TOKEN_HMAC_CONTEXT
        wrapped = self._system.get("token-hmac-key")
        if wrapped is None:
            fresh = self._provider.wrap(secrets.token_bytes(32), context=context)
            self._system.create("token-hmac-key", fresh)  # another node's, if it came first
            wrapped = self._system.get("token-hmac-key")
            assert wrapped is not None
        return self._provider.unwrap(wrapped, context=context)

    def now(self) -> float:
        return self._clock.now()

    def digest(self, token: str) -> str:
        known = self._digests.get(token)
        if known is None:
            known = hmac.new(self._hmac_key, token.encode("utf-8"), hashlib.sha256).hexdigest()
            if len(self._digests) >= CACHE_ENTRIES:
                self._digests.clear()
            self._digests[token] = known
        return known

    # -- create
    def create(
        self,
        policies: tuple[str, ...],
        *,
        display_name: str = "token",
        parent: str | None = None,
        ttl: float | None = None,
        explicit_max_ttl: float | None = None,
        period: float = 0.0,
        renewable: bool = True,
        num_uses: int = 0,
        meta: dict[str, str] | None = None,
        role: str = "",
        path: str = "auth/token/create",
        token: str | None = None,
        alias: str = "",
        group_aliases: tuple[str, ...] = (),
    ) -> tuple[str, TokenInfo]:
        """Create a token and return it with its info; only its digest is stored. Root tokens
        (the ``root`` policy) never expire unless given a TTL."""
        now = self._clock.now()
        root = "root" in policies
        mount = self.tunings.of_token_path(path)  # the auth method's default and ceiling
        max_expires = now + min(explicit_max_ttl, mount.max_ttl) if explicit_max_ttl else None
        if period:
            expires: float | None = now + period
            ttl = period
        elif root and not ttl:
            expires, ttl = None, 0.0
        else:
            ttl = min(ttl or mount.default_ttl, mount.max_ttl)
            expires = now + ttl
            if max_expires is None:
                max_expires = now + mount.max_ttl
        if expires is not None and max_expires is not None:
            expires = min(expires, max_expires)
        info = TokenInfo(
            accessor=ACCESSOR_PREFIX + secrets.token_hex(12),
            display_name=display_name,
            policies=tuple(dict.fromkeys(policies)),
            created=now,
            expires=expires,
            max_expires=max_expires,
            ttl=float(ttl),
            period=float(period),
            # As in Vault: a token that never expires has nothing to renew; one with a TTL does,
            # the root policy's too (a root token created with a TTL renews like any other).
            renewable=renewable and expires is not None,
            num_uses=num_uses,
            parent=parent,
            meta=dict(meta or {}),
            role=role,
            path=path,
            # A login's name for the caller (``alias``) may be an identity alias's, and the
            # groups it names (``group_aliases``) external groups' aliases
            entity=self.identities.entity_for(path, alias) if alias and self.identities else "",
            groups=self.identities.groups_for(path, group_aliases)
            if group_aliases and self.identities
            else (),
        )
        token = token or TOKEN_PREFIX + secrets.token_urlsafe(32)
        digest = self.digest(token)
        self._accessors.put(info.accessor, digest)
        if parent is not None:
            self._children(parent).put(info.accessor, b"")
        self._tokens.put(digest, info)
        return token, info

    # -- look up
    def _by_digest(self, digest: str) -> TokenInfo | None:
        return self._tokens.get(digest)

    def _digest_of_accessor(self, accessor: str) -> str | None:
        return self._accessors.get(accessor)

    def _children(self, accessor: str) -> Records[bytes]:
        """The accessors of a token's children (the names; the values are empty)."""
        return Records(self._store, _children_kind(accessor), bytes, bytes)

    def _live(self, info: TokenInfo) -> bool:
        """Unexpired, and every ancestor still exists and is unexpired."""
        now = self._clock.now()
        seen = 0
        current: TokenInfo | None = info
        while current is not None:
            if current.expires is not None and now >= current.expires:
                return False
            if current.parent is None:
                return True
            seen += 1
            digest = self._digest_of_accessor(current.parent)
            current = self._by_digest(digest) if digest is not None and seen < 64 else None
        return False

    def lookup(self, token: str) -> TokenInfo:
        info = self._by_digest(self.digest(token))
        if info is None or not self._live(info):
            raise Unauthenticated("invalid, expired or revoked token")
        return info

    def lookup_accessor(self, accessor: str) -> TokenInfo:
        digest = self._digest_of_accessor(accessor) if isinstance(accessor, str) else None
        info = self._by_digest(digest) if digest is not None else None
        if info is None or not self._live(info):
            raise NotFound("no live token has this accessor")
        return info

    def uses_left(self, info: TokenInfo) -> int:
        if not info.num_uses:
            return 0
        return max(0, info.num_uses - self._store.add_counter(_USES_KIND, info.accessor, 0))

    def remembered(self, token: str) -> Identity | None:
        """The token's identity if this node holds it in memory, still valid; None when
        knowing needs the store (a caller on the event loop then moves to a thread)."""
        return self._remembered(self.digest(token)) if token else None

    def _remembered(self, digest: str) -> Identity | None:
        cached = self._cache.get(digest)
        if cached is not None and self._clock.monotonic() < cached[2]:
            identity, expires, _ = cached
            if expires is None or self._clock.now() < expires:
                return identity
        return None

    def authenticate(self, token: str | None) -> Identity:
        if not token:
            raise Unauthenticated()
        # The store is keyed by HMAC digest, so no byte of a token is compared in variable time.
        digest = self.digest(token)
        remembered = self._remembered(digest)
        if remembered is not None:
            return remembered
        now = self._clock.monotonic()  # before the read: a cached entry never outlives it
        info = self._by_digest(digest)
        if info is None:
            self._cache.pop(digest, None)
            raise Unauthenticated("invalid, expired or revoked token")
        if not self._live(info):
            self.revoke(info.accessor)
            raise Unauthenticated("invalid, expired or revoked token")
        policies = self._with_identity_policies(info)
        identity = Identity(info.display_name, policies, self.policies.acl(policies), info.accessor)
        if info.num_uses:
            used = self._store.add_counter(_USES_KIND, info.accessor, 1)
            if used > info.num_uses:
                self.revoke(info.accessor)
                raise Unauthenticated("invalid, expired or revoked token")
            return identity
        # Cache until the sooner of CACHE_SECONDS and the closest expiry in the token's chain.
        with self._lock:
            if len(self._cache) >= CACHE_ENTRIES:
                self._cache.clear()
            self._cache[digest] = (identity, info.expires, now + CACHE_SECONDS)
        return identity

    def _with_identity_policies(self, info: TokenInfo) -> tuple[str, ...]:
        """The token's policies and those its entity and the entity's groups have now."""
        if not (info.entity or info.groups) or self.identities is None:
            return info.policies
        added = self.identities.policies_of(info.entity, info.groups)
        if added is None:
            raise Unauthenticated("the token's entity is disabled")
        return tuple(dict.fromkeys((*info.policies, *added)))

    def identity_policies(self, info: TokenInfo) -> list[str]:
        """What the entity adds (Vault's ``identity_policies`` in a token's look-up)."""
        if not (info.entity or info.groups) or self.identities is None:
            return []
        return list(self.identities.policies_of(info.entity, info.groups) or ())

    # -- renew
    def renew(self, accessor: str, increment: float | None = None) -> TokenInfo:
        digest = self._digest_of_accessor(accessor)
        if digest is None:
            raise NotFound("no live token has this accessor")

        def renewed(info: TokenInfo | None) -> TokenInfo:
            if info is None or not self._live(info):
                raise NotFound("no live token has this accessor")
            if not info.renewable:
                raise BadRequest("this token is not renewable")
            now = self._clock.now()
            if info.period:
                expires = now + info.period
            else:
                ceiling = self.tunings.of_token_path(info.path).max_ttl
                expires = now + min(increment or info.ttl, ceiling)
            if info.max_expires is not None:
                # Never past the max TTL, however close to it the renewal comes (CVE-2021-32923).
                expires = min(expires, info.max_expires)
            return replace(info, expires=expires)

        info = self._tokens.change(digest, renewed, attempts=_RETRIES, gave_up=_changed_meanwhile)
        self._cache.pop(digest, None)
        self._store.publish("token", digest)
        return info

    # -- revoke
    def forget(self, digest: str) -> None:
        """Drop a cached token (another node changed it); an empty digest drops them all."""
        if digest:
            self._cache.pop(digest, None)
        else:
            self._cache.clear()

    def revoke(self, accessor: str, *, orphan_children: bool = False) -> bool:
        """Revoke the token with this accessor and, unless ``orphan_children``, its descendants."""
        digest = self._digest_of_accessor(accessor)
        if digest is None:
            return False
        children = self._children(accessor).names()
        if orphan_children:
            for child in children:
                self._make_orphan(child)
        else:
            for child in children:
                self.revoke(child)
        for child in children:
            self._children(accessor).delete(child)
        info = self._tokens.get(digest)
        if info is not None and info.parent is not None:
            self._children(info.parent).delete(accessor)
        self._cache.pop(digest, None)
        self._tokens.delete(digest)
        self._accessors.delete(accessor)
        self._store.publish("token", digest)
        return True

    def _make_orphan(self, accessor: str) -> None:
        digest = self._digest_of_accessor(accessor)
        if digest is not None and self._tokens.get(digest) is not None:
            with contextlib.suppress(NotFound):  # revoked meanwhile: nothing to orphan
                self._tokens.change(digest, _orphaned)

    def accessors(self) -> list[str]:
        return sorted(self._accessors.names())

    def revoke_issued(self, issued_by: Callable[[TokenInfo], bool]) -> int:
        """Revoke every token ``issued_by`` says a login issued, with its descendants: what an
        auth method, an AppRole role or a user issued dies with it, as on Vault. Reads every
        token's record (an administrator's rare action). How many were revoked."""
        revoked = 0
        for accessor in self.accessors():
            digest = self._digest_of_accessor(accessor)
            info = self._by_digest(digest) if digest is not None else None
            if info is not None and issued_by(info):
                revoked += bool(self.revoke(accessor))
        return revoked

    def tidy(self) -> int:
        """Revoke every token that expired or lost an ancestor (they are refused already; this
        frees their records). How many were removed."""
        removed = 0
        for accessor in self.accessors():
            digest = self._digest_of_accessor(accessor)
            info = self._by_digest(digest) if digest is not None else None
            if info is None or not self._live(info):
                removed += bool(self.revoke(accessor))
        return removed

    def rewrap_root_wrapped(self) -> int:
        """Wrap the token HMAC key (and dev mode's root token) again with the root key as it is
        now (a seal migration); every token stays valid."""
        count = 0
        for name, context in (
            ("token-hmac-key", TOKEN_HMAC_CONTEXT),
            ("dev-root-token", _DEV_ROOT_CONTEXT),
        ):
            wrapped, _ = self._system.read(name)
            if wrapped is None:
                continue
            value = self._provider.unwrap(wrapped, context=context)
            self._system.swap(name, wrapped, self._provider.wrap(value, context=context))
            count += 1
        return count

    # -- dev mode
    def ensure_root_token(self, token: str) -> None:
        """Make ``token`` a root token (``--root-token``), creating it if it does not exist."""
        if self._by_digest(self.digest(token)) is None:
            self.create(("root",), display_name="root", token=token, path="auth/token/root")

    def dev_root_token(self, chosen: str | None) -> str:
        """Dev mode's root token, kept wrapped by the key provider so a restart can print it."""
        context = _DEV_ROOT_CONTEXT
        wrapped = self._system.get("dev-root-token")
        if wrapped is not None:
            try:
                previous = self._provider.unwrap(wrapped, context=context).decode()
            except (DecryptionError, UnicodeDecodeError):
                previous = None
            if previous is not None and chosen in (None, previous):
                self.ensure_root_token(previous)
                return previous
            if previous is not None:
                info = self._by_digest(self.digest(previous))
                if info is not None:
                    self.revoke(info.accessor)
        token = chosen or TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.ensure_root_token(token)
        self._system.put("dev-root-token", self._provider.wrap(token.encode(), context=context))
        return token


def _orphaned(info: TokenInfo | None) -> TokenInfo:
    if info is None:
        raise NotFound("no such token")
    return replace(info, parent=None)


def _changed_meanwhile() -> BadRequest:
    return BadRequest("the token changed during renewal; retry")
