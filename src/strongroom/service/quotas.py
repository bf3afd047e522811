"""Vault's rate limit quotas (``sys/quotas/rate-limit/:name``, ``sys/quotas/config``): at most
``rate`` requests per ``interval`` from one client address on the paths a quota covers, and,
with a ``block_interval``, none at all for that long after a client went over.

A request is held to the most specific quota that covers its path, as in Vault: one on its exact
path below a mount, then the longest ``<mount>/<prefix>*``, then its mount's, then the global one
(path ""). The quotas are one sealed record changed with compare-and-set; each node reads it
again at most once a second, so a change reaches every node within a second. Each node counts
its own requests (as Vault's nodes do): with N nodes behind a balancer, a client may make up to
N times the rate. Counts live in memory, for at most ``MAX_CLIENTS`` client addresses per node.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

from strongroom.auth.identity import Identity
from strongroom.clock import Clock
from strongroom.errors import BadRequest, NotFound, RateLimited
from strongroom.store.protocol import Store
from strongroom.store.records import Records

__all__ = [
    "DEFAULT_EXEMPT_PATHS",
    "MAX_CLIENTS",
    "MAX_QUOTAS",
    "QuotaConfig",
    "QuotaConfigChange",
    "QuotaService",
    "RateLimitQuota",
]

MAX_QUOTAS = 1000
MAX_CLIENTS = 100_000  # (quota, client address) counts kept per node; the oldest go first
_RECORD = ("vault-quotas", "rate-limit")
_FRESH_FOR = 1.0  # seconds a node answers from its copy of the quotas
# Vault's defaults: what operators and load balancers need even when a global quota is full.
DEFAULT_EXEMPT_PATHS = (
    "sys/generate-recovery-token/attempt",
    "sys/generate-recovery-token/update",
    "sys/generate-root/attempt",
    "sys/generate-root/update",
    "sys/health",
    "sys/seal-status",
    "sys/unseal",
)


@dataclass(frozen=True)
class RateLimitQuota:
    name: str
    path: str  # "" (global), "<mount>/", "<mount>/<suffix>" or "<mount>/<prefix>*"
    rate: float
    interval: float = 1.0
    block_interval: float = 0.0


@dataclass(frozen=True)
class QuotaConfig:
    exempt_paths: tuple[str, ...]
    # Kept and shown as Vault's: strongroom audits every refused request anyway, and sends no
    # X-Ratelimit headers.
    audit_logging: bool
    response_headers: bool


@dataclass(frozen=True)
class QuotaConfigChange:
    """What a write of ``sys/quotas/config`` changes (None: left as it is)."""

    exempt_paths: tuple[str, ...] | None = None
    audit_logging: bool | None = None
    response_headers: bool | None = None


@dataclass(frozen=True)
class _Quotas:
    quotas: dict[str, RateLimitQuota] = field(default_factory=dict)
    exempt_paths: tuple[str, ...] = DEFAULT_EXEMPT_PATHS
    audit_logging: bool = False
    response_headers: bool = False


def _decode(raw: bytes) -> _Quotas:
    doc = json.loads(raw)
    quotas = {name: RateLimitQuota(**q) for name, q in doc["quotas"].items()}
    return _Quotas(
        quotas,
        tuple(doc["exempt_paths"]),
        bool(doc["audit_logging"]),
        bool(doc["response_headers"]),
    )


def _encode(value: _Quotas) -> bytes:
    return json.dumps(asdict(value), sort_keys=True).encode()


class QuotaService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        engine_at: Callable[[str], str | None],
        auth_method_at: Callable[[str], str | None],
    ) -> None:
        """``engine_at(name)`` and ``auth_method_at(path)``: the type mounted there, or None."""
        self._records = Records(store, _RECORD[0], _decode, _encode)
        self._clock = clock
        self._engine_at = engine_at
        self._auth_method_at = auth_method_at
        self._lock = threading.Lock()
        self._copy: tuple[float, _Quotas, _Index] | None = None
        # (quota name, client address) -> (tokens left, last refill, blocked until)
        self._counts: OrderedDict[tuple[str, str], tuple[float, float, float]] = OrderedDict()

    # -- the API
    def write(self, identity: Identity, quota: RateLimitQuota) -> None:
        """Create or replace ``quota`` (Vault replaces every field on a write), its path as the
        caller gave it: kept as the mount it names and the path below."""
        name = quota.name
        path = f"sys/quotas/rate-limit/{name}"
        identity.require_write(path, lambda: name in self._fresh().quotas)
        quota = self._resolved(quota)

        def edit(current: _Quotas | None) -> _Quotas:
            found = current or _Quotas()
            for other in found.quotas.values():
                if other.path == quota.path and other.name != name:
                    raise BadRequest(
                        f'quota rule with similar properties exists under the name "{other.name}"'
                    )
            if name not in found.quotas and len(found.quotas) >= MAX_QUOTAS:
                raise BadRequest(f"at most {MAX_QUOTAS} rate limit quotas")
            return replace(found, quotas={**found.quotas, name: quota})

        self._change(edit)

    def read(self, identity: Identity, name: str) -> RateLimitQuota:
        identity.require("read", f"sys/quotas/rate-limit/{name}")
        quota = self._current().quotas.get(name)
        if quota is None:
            raise NotFound(f"no rate limit quota {name!r}")
        return quota

    def names(self, identity: Identity) -> list[str]:
        identity.require("list", "sys/quotas/rate-limit")
        return sorted(self._current().quotas)

    def delete(self, identity: Identity, name: str) -> None:
        identity.require("delete", f"sys/quotas/rate-limit/{name}")
        self._change(lambda q: replace(q or _Quotas(), quotas=_without(q, name)))

    def read_config(self, identity: Identity) -> QuotaConfig:
        identity.require("read", "sys/quotas/config")
        quotas = self._current()
        return QuotaConfig(quotas.exempt_paths, quotas.audit_logging, quotas.response_headers)

    def write_config(self, identity: Identity, change: QuotaConfigChange) -> None:
        identity.require("update", "sys/quotas/config")
        if change.exempt_paths is not None and len(change.exempt_paths) > MAX_QUOTAS:
            raise BadRequest(f"rate_limit_exempt_paths: at most {MAX_QUOTAS} paths")
        changes = {k: v for k, v in asdict(change).items() if v is not None}
        if change.exempt_paths is not None:
            changes["exempt_paths"] = tuple(p.strip("/") for p in change.exempt_paths)
        self._change(lambda q: replace(q or _Quotas(), **changes))

    # -- enforcement
    def admit(self, path: str, address: str) -> None:
        """Count a request to the Vault API path ``path`` (no leading ``/v1/``) from ``address``
        against the quota that covers it; RateLimited (429) when over."""
        quotas, index = self._current_indexed()
        if not quotas.quotas or index.exempt(path):
            return
        quota = self._covering(index, path)
        if quota is None:
            return
        now = self._clock.monotonic()
        key = (quota.name, address)
        with self._lock:
            tokens, last, blocked_until = self._counts.pop(key, (quota.rate, now, 0.0))
            if now < blocked_until:
                self._counts[key] = (tokens, last, blocked_until)
                raise _exceeded(path, blocked_until - now)
            tokens = min(quota.rate, tokens + (now - last) * quota.rate / quota.interval)
            if tokens < 1.0:
                if quota.block_interval:
                    blocked_until = now + quota.block_interval
                self._counts[key] = (tokens, now, blocked_until)
                wait = blocked_until - now if blocked_until > now else quota.interval
                raise _exceeded(path, wait)
            self._counts[key] = (tokens - 1.0, now, 0.0)
            while len(self._counts) > MAX_CLIENTS:
                self._counts.popitem(last=False)

    def _mount_of(self, path: str) -> str | None:
        """The mount a Vault API path is under (``secret/``, ``auth/approle/``, ``sys/``), or
        None when none serves it."""
        first, _, rest = path.partition("/")
        if first in ("sys", "identity"):
            return f"{first}/"
        if first == "auth":
            method = rest.partition("/")[0]
            known = method == "token" or self._auth_method_at(method) is not None
            return f"auth/{method}/" if method and known else None
        return f"{first}/" if first and self._engine_at(first) is not None else None

    def _covering(self, index: _Index, path: str) -> RateLimitQuota | None:
        """The most specific quota covering ``path``: exact, longest glob, mount, global. Its
        cost is bounded by the number of quotas, whatever the path's length."""
        mount = self._mount_of(path)
        if mount is not None:
            full = mount + (path[len(mount) :].rstrip("/") if path.startswith(mount) else "")
            if full != mount and full in index.exact:
                return index.exact[full]
            for prefix, quota in index.globs:  # the longest prefix first
                if full.startswith(prefix):
                    return quota
            if mount in index.exact:
                return index.exact[mount]
        return index.exact.get("")

    # -- the record
    def _resolved(self, quota: RateLimitQuota) -> RateLimitQuota:
        if not quota.name or len(quota.name) > 128 or "/" in quota.name:
            raise BadRequest("a quota's name has 1-128 characters and no '/'")
        if not 0 < quota.rate <= 1e9:
            raise BadRequest("'rate' is invalid")
        path = quota.path.strip().strip("/")
        if path:
            mount = self._mount_of(path)
            if mount is None:
                raise BadRequest(f'invalid mount path "{path}/"')  # Vault's, slash and all
            suffix = path.removeprefix(mount.rstrip("/")).strip("/")
            path = f"{mount}{suffix}"
        return replace(quota, path=path)

    def _current(self) -> _Quotas:
        return self._current_indexed()[0]

    def _fresh(self) -> _Quotas:
        """The quotas as stored now (an administrator's decision reads them, not a copy)."""
        return self._records.get(_RECORD[1]) or _Quotas()

    def _current_indexed(self) -> tuple[_Quotas, _Index]:
        now = self._clock.monotonic()
        held = self._copy
        if held is not None and now - held[0] < _FRESH_FOR:
            return held[1], held[2]
        quotas = self._records.get(_RECORD[1]) or _Quotas()
        self._copy = (now, quotas, _Index.of(quotas))
        return quotas, self._copy[2]

    def _change(self, edit: Callable[[_Quotas | None], _Quotas]) -> None:
        changed = self._records.change(_RECORD[1], edit)
        self._copy = (self._clock.monotonic(), changed, _Index.of(changed))
        with self._lock:
            self._counts.clear()  # counts follow the quotas as they now are


@dataclass(frozen=True)
class _Index:
    """The quotas by path: exact paths (a mount's ``x/``, the global ``""``) and globs."""

    exact: dict[str, RateLimitQuota]
    globs: tuple[tuple[str, RateLimitQuota], ...]  # (prefix before the "*", quota), longest first
    exempt_paths: frozenset[str]
    exempt_prefixes: tuple[str, ...]  # of exempt paths ending in "*", as Vault's path manager

    @classmethod
    def of(cls, quotas: _Quotas) -> _Index:
        exact = {q.path: q for q in quotas.quotas.values() if not q.path.endswith("*")}
        globs = [(q.path[:-1], q) for q in quotas.quotas.values() if q.path.endswith("*")]
        exempt = quotas.exempt_paths
        return cls(
            exact,
            tuple(sorted(globs, key=lambda item: -len(item[0]))),
            frozenset(p for p in exempt if not p.endswith("*")),
            tuple(p[:-1] for p in exempt if p.endswith("*")),
        )

    def exempt(self, path: str) -> bool:
        return path in self.exempt_paths or path.startswith(self.exempt_prefixes)


def _without(quotas: _Quotas | None, name: str) -> dict[str, RateLimitQuota]:
    return {k: v for k, v in (quotas.quotas if quotas else {}).items() if k != name}


def _exceeded(path: str, wait: float) -> RateLimited:
    error = RateLimited(f'request path "{path}": rate limit quota exceeded')
    error.details["retry_after"] = max(1, int(wait + 0.999))
    return error
