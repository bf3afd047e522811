"""Worker contexts: the only place sealed tokens may be opened.

A worker context carries who the worker is, the purpose it serves, the scope it may open (for
each context key, the values allowed), an expiry and a budget of decrypts. It is entered with
``with``; outside one, opening raises."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType

from strongroom.clock import Clock
from strongroom.crypto.context import Context
from strongroom.errors import AccessDenied

__all__ = ["TokenAccessDenied", "WorkerContext", "current_worker"]

_CURRENT: contextvars.ContextVar[WorkerContext | None] = contextvars.ContextVar(
    "strongroom_worker", default=None
)


class TokenAccessDenied(AccessDenied):
    """Opening was refused: no worker context, expired, over budget, or out of scope."""

    code = "token_access_denied"


def current_worker() -> WorkerContext | None:
    return _CURRENT.get()


@dataclass
class WorkerContext:
    identity: str
    purpose: str
    scope: Mapping[str, frozenset[str]]
    expires_at: float
    max_decrypts: int
    clock: Clock = field(repr=False)
    _opener: Callable[[WorkerContext, bytes, Context], bytes] = field(repr=False)
    _many_opener: Callable[[WorkerContext, Sequence[bytes], Context], list[bytes]] = field(
        repr=False
    )
    decrypts: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _token: contextvars.Token[WorkerContext | None] | None = field(default=None, repr=False)

    def __enter__(self) -> WorkerContext:
        self._token = _CURRENT.set(self)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._token is not None:
            _CURRENT.reset(self._token)
            self._token = None

    def authorize(self, context: Context, count: int = 1) -> None:
        """Spend ``count`` decrypts from the budget, then check expiry and scope. Raise if
        refused (a batch is refused whole when the budget does not hold it all)."""
        if _CURRENT.get() is not self:
            raise TokenAccessDenied("tokens open only inside an active worker context")
        with self._lock:
            if self.clock.now() >= self.expires_at:
                raise TokenAccessDenied(f"worker context of {self.identity!r} has expired")
            if self.decrypts + count > self.max_decrypts:
                raise TokenAccessDenied(
                    f"worker context of {self.identity!r} used its {self.max_decrypts} decrypts"
                )
            self.decrypts += count
        if context.get("purpose") != self.purpose:
            raise TokenAccessDenied("the token's purpose is outside this worker context")
        for key, allowed in self.scope.items():
            if context.get(key) not in allowed:
                raise TokenAccessDenied(
                    f"the token's {key!r} is outside this worker context's scope"
                )

    def open(self, sealed: bytes, *, context: Context) -> bytes:
        """Open a sealed token whose seal context is ``context``."""
        return self._opener(self, sealed, context)

    def open_many(self, sealed: Sequence[bytes], *, context: Context) -> list[bytes]:
        """Open many tokens sealed with one context, in order; one check of the context and
        ``len(sealed)`` decrypts from the budget. Any token that does not open raises the one
        DecryptionError for the whole batch."""
        return self._many_opener(self, sealed, context)
