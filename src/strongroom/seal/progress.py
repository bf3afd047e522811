"""Unseal progress that no unauthenticated caller can block, evict or reset.

Each unseal attempt is its own session, named by a nonce that is handed to the operator who
starts it (the first share without a nonce); the other operators pass that nonce with their
shares. A share only ever joins the session its sender names, so a bogus share can spoil nothing
but its sender's own attempt: it cannot take another operator's share index, and a failed
combination discards only the session that failed. Sessions expire after PROGRESS_SECONDS; each
client address holds at most PER_ADDRESS sessions (a new one replaces that address's oldest),
and when MAX_SESSIONS are open a new one is refused (429) rather than evicting anyone's."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from strongroom.errors import BadRequest, RateLimited

__all__ = ["MAX_SESSIONS", "PER_ADDRESS", "PROGRESS_SECONDS", "UnsealSessions"]

PROGRESS_SECONDS = 600.0
PER_ADDRESS = 4
MAX_SESSIONS = 10_000


@dataclass
class _Session:
    address: str
    started: float
    shares: dict[int, bytes] = field(default_factory=dict)  # share index -> share


class UnsealSessions:
    def __init__(self) -> None:
        self._sessions: dict[str, _Session] = {}

    def clear(self) -> None:
        self._sessions.clear()

    def _expire(self, now: float) -> None:
        for nonce in [n for n, s in self._sessions.items() if now - s.started >= PROGRESS_SECONDS]:
            del self._sessions[nonce]

    def progress(self, nonce: str, now: float) -> int:
        self._expire(now)
        session = self._sessions.get(nonce)
        return len(session.shares) if session else 0

    def add(self, share: bytes, nonce: str, address: str, now: float) -> tuple[str, list[bytes]]:
        """Add a share; returns the session's nonce and its shares so far."""
        self._expire(now)
        if not nonce:
            nonce = self._start(address, now)
        session = self._sessions.get(nonce)
        if session is None:
            raise BadRequest(
                "no unseal in progress with this nonce (it expires after 10 minutes, or its "
                "shares did not rebuild the key); start again without --nonce"
            )
        known = session.shares.get(share[0])
        if known is not None and known != share:
            raise BadRequest("this unseal attempt already has a different share with this index")
        session.shares[share[0]] = share
        return nonce, list(session.shares.values())

    def latest(self, address: str, now: float) -> str:
        """The nonce of the newest attempt this address started ("" if none): Vault's clients
        send shares without a nonce, and join their own address's attempt."""
        self._expire(now)
        own = [(s.started, n) for n, s in self._sessions.items() if s.address == address]
        return max(own)[1] if own else ""

    def discard(self, nonce: str) -> None:
        self._sessions.pop(nonce, None)

    def _start(self, address: str, now: float) -> str:
        own = sorted((s.started, n) for n, s in self._sessions.items() if s.address == address)
        for _, nonce in own[: max(0, len(own) - PER_ADDRESS + 1)]:
            del self._sessions[nonce]
        if len(self._sessions) >= MAX_SESSIONS:
            error = RateLimited("too many unseal attempts are in progress; retry in a few minutes")
            error.details["retry_after"] = 60
            raise error
        nonce = secrets.token_hex(16)
        self._sessions[nonce] = _Session(address, now)
        return nonce
