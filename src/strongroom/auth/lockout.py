"""Failed-login lockout, shared by every node through the store.

Each login *attempt* first reserves a slot in the identity's window; at most ``max_attempts``
reservations fit in ``window`` seconds, so concurrent guesses cannot race past the limit. A
successful login clears the window. Keys are canonical names (case, space and Unicode variants
are one identity)."""

from __future__ import annotations

import hashlib
import json

from strongroom.auth.canonical import canonical_name
from strongroom.clock import Clock
from strongroom.errors import RateLimited
from strongroom.store.protocol import Store

__all__ = ["PRUNE_SECONDS", "LoginGuard"]

_KIND = "login-attempts"
_RETRIES = 50
PRUNE_SECONDS = 60.0


class LoginGuard:
    def __init__(
        self, store: Store, clock: Clock, *, max_attempts: int = 5, window: float = 900.0
    ) -> None:
        self._store = store
        self._clock = clock
        self.max_attempts = max_attempts
        self.window = window
        self._pruned = float("-inf")

    @staticmethod
    def key(method: str, name: str) -> str:
        # Hashed so the store holds no login names in its keys.
        canonical = canonical_name(name)
        return hashlib.sha256(f"{method}\0{canonical}".encode()).hexdigest()

    def reserve(self, method: str, name: str) -> None:
        """Count one attempt, or raise RateLimited when the window is full."""
        key = self.key(method, name)
        for _ in range(_RETRIES):
            raw = self._store.get_record(_KIND, key)
            now = self._clock.now()
            recent = [t for t in (json.loads(raw) if raw else []) if t > now - self.window]
            if len(recent) >= self.max_attempts:
                retry = int(min(recent) + self.window - now) + 1
                error = RateLimited(
                    f"too many failed logins for this {method} identity; "
                    f"locked for another {retry} s"
                )
                error.details["retry_after"] = retry
                raise error
            if self._store.replace_record(_KIND, key, raw, json.dumps([*recent, now]).encode()):
                return
        raise RateLimited("too many concurrent logins for this identity; retry")

    def succeeded(self, method: str, name: str) -> None:
        self._store.delete_record(_KIND, self.key(method, name))

    def prune(self, limit: int = 10_000) -> int:
        """Delete windows with no attempt left in them (the scheduler calls this): every name
        an unauthenticated caller tries leaves a record, which must not stay for good."""
        now, removed = self._clock.now(), 0
        if now - self._pruned < PRUNE_SECONDS:
            return 0
        self._pruned = now
        for key in self._store.list_records(_KIND)[:limit]:
            raw = self._store.get_record(_KIND, key)
            if raw is None:
                continue
            if all(t <= now - self.window for t in json.loads(raw)):
                removed += self._store.replace_record(_KIND, key, raw, b"[]") and bool(
                    self._store.delete_record(_KIND, key)
                )
        return removed
