"""Failed-login lockout, shared by every node through the store.

Each login *attempt* first reserves a slot in two windows, both kept in the store with
compare-and-set (so concurrent guesses and several nodes cannot race past them):

- the identity **from one address**: at most ``max_attempts`` in ``window`` seconds, then that
  address is locked out of that identity until the window frees a slot. Someone who knows a
  user's name locks out only themselves, never the user at their own address.
- the identity **from every address**: once ``max_attempts * GLOBAL_FACTOR`` attempts are in the
  window, attempts are *slowed*, not refused for good: one each ``GLOBAL_SPACING`` seconds
  (a 429 with ``retry_after`` meanwhile), so guesses spread over many addresses stay few while
  the real user still gets in.

A successful login clears its address's window. Identities are canonical names (case, space and
Unicode variants are one identity); keys are hashed so the store holds no names or addresses."""

from __future__ import annotations

import hashlib
import math

from strongroom.auth.canonical import canonical_name
from strongroom.clock import Clock
from strongroom.errors import RateLimited
from strongroom.store.protocol import Store
from strongroom.store.records import Records

__all__ = ["GLOBAL_FACTOR", "GLOBAL_SPACING", "PRUNE_SECONDS", "LoginGuard"]

_KIND = "login-attempts"
_RETRIES = 50
PRUNE_SECONDS = 60.0
GLOBAL_FACTOR = 4  # attempts from every address before they are slowed: 4 x max_attempts
GLOBAL_SPACING = 30.0  # then one attempt each this many seconds, whoever makes it


class LoginGuard:
    def __init__(
        self, store: Store, clock: Clock, *, max_attempts: int = 5, window: float = 900.0
    ) -> None:
        self._windows = Records.of_json(store, _KIND)  # key -> the attempts' times
        self._clock = clock
        self.max_attempts = max_attempts
        self.window = window
        self._pruned = float("-inf")

    @staticmethod
    def key(method: str, name: str, address: str | None = None) -> str:
        """The window of ``name`` from ``address`` (None: from every address)."""
        canonical = canonical_name(name)
        where = "\0*" if address is None else f"\0@{address}"
        return hashlib.sha256(f"{method}\0{canonical}{where}".encode()).hexdigest()

    def reserve(self, method: str, name: str, address: str) -> None:
        """Count one attempt, or raise RateLimited: this address's window is full, or the
        identity is being guessed from everywhere and it is not this attempt's turn yet."""
        self._take(self.key(method, name, address), self.max_attempts, 0.0, method)
        limit = self.max_attempts * GLOBAL_FACTOR
        self._take(self.key(method, name), limit, GLOBAL_SPACING, method)

    def _take(self, key: str, limit: int, spacing: float, method: str) -> None:
        def taken(current: list[float] | None) -> list[float]:
            now = self._clock.now()
            recent = [t for t in current or [] if t > now - self.window]
            if len(recent) >= limit:
                # A full window locks (spacing 0) or only slows (one attempt per spacing).
                wait = (
                    (min(recent) + self.window - now)
                    if not spacing
                    else max(recent) + spacing - now
                )
                if wait > 0:
                    raise _refused(method, math.ceil(wait), slowed=bool(spacing))
                recent = recent[-(limit - 1) :]
            return [*recent, now]

        self._windows.change(key, taken, attempts=_RETRIES, gave_up=_too_many_at_once)

    def succeeded(self, method: str, name: str, address: str) -> None:
        self._windows.delete(self.key(method, name, address))

    def prune(self, limit: int = 10_000) -> int:
        """Delete windows with no attempt left in them (the scheduler calls this): every name
        an unauthenticated caller tries leaves a record, which must not stay for good."""
        now, removed = self._clock.now(), 0
        if now - self._pruned < PRUNE_SECONDS:
            return 0
        self._pruned = now
        for key in self._windows.names()[:limit]:
            raw, times = self._windows.read(key)
            if times is None:
                continue
            # emptied only if no attempt came meanwhile, then deleted
            if all(t <= now - self.window for t in times) and self._windows.swap(key, raw, []):
                removed += self._windows.delete(key)
        return removed


def _too_many_at_once() -> RateLimited:
    return RateLimited("too many concurrent logins for this identity; retry")


def _refused(method: str, retry: int, *, slowed: bool) -> RateLimited:
    if slowed:
        message = (
            f"this {method} identity is being tried from many addresses: logins to it are "
            f"slowed; retry in {retry} s"
        )
    else:
        message = f"too many failed logins for this {method} identity; locked for another {retry} s"
    error = RateLimited(message)
    error.details["retry_after"] = retry
    return error
