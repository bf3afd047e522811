"""The audit entries of the requests answered in one turn of the event loop, written together.

Each answered request used to call the broker on its own: one write system call per request,
per sink. Here a request queues its entries and waits; the first to queue in a turn of the loop
schedules one write of everything queued in that turn, after which each waiter is answered, or
given the failure (fail closed: no answer goes out before its entries are written). The entries
keep their order, so each sink's hash chain is the one the requests would have made one by
one. A batch that fills up (``MOST_PER_WRITE`` requests) is written at once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from strongroom.audit import AuditBroker
from strongroom.audit.record import SENSITIVE_FIELDS
from strongroom.errors import AuditUnavailable

__all__ = ["MOST_PER_WRITE", "AuditBatch"]

# Requests per write at most. Unbounded, a batch took in every request of 32 connections and
# the slowest answers waited for all of them: p99 25 ms against 8 ms with this bound, for about
# the same throughput (docs/benchmarks.md, session 16).
MOST_PER_WRITE = 16


class AuditBatch:
    def __init__(self, broker: AuditBroker, sync: Callable[[], Awaitable[None]]) -> None:
        """``sync``: makes every entry written before it was called durable (audit_sync.py)."""
        self._broker = broker
        self._sync = sync
        self._entries: list[dict[str, Any]] = []
        self._waiters: list[tuple[asyncio.Future[None], bool]] = []

    async def write(self, entries: tuple[dict[str, Any], ...], *, durable: bool = False) -> None:
        """Return once ``entries`` are written; ``durable``: once they are on disk too (one
        sync shared by every durable request of the batch, started after the batch's write)."""
        loop = asyncio.get_running_loop()
        if not self._waiters:
            loop.call_soon(self._flush)
        done: asyncio.Future[None] = loop.create_future()
        self._entries.extend(entries)
        self._waiters.append((done, durable))
        if len(self._waiters) >= MOST_PER_WRITE:
            self._flush()
        await done

    def _flush(self) -> None:
        if not self._waiters:
            return  # written already: the batch filled up before its turn came
        entries, self._entries = self._entries, []
        waiters, self._waiters = self._waiters, []
        try:
            self._broker.log(*entries, sensitive=SENSITIVE_FIELDS)
        except Exception as exc:  # each waiter fails as it would have alone
            _fail([done for done, _ in waiters], exc)
            return
        durable = [done for done, needs_sync in waiters if needs_sync]
        for done, needs_sync in waiters:
            if not needs_sync and not done.done():  # one cancelled is written all the same
                done.set_result(None)
        if durable:
            synced = asyncio.ensure_future(self._sync())
            synced.add_done_callback(lambda sync: _synced(sync, durable))


def _fail(waiters: list[asyncio.Future[None]], exc: BaseException) -> None:
    for done in waiters:
        if not done.done():
            done.set_exception(AuditUnavailable() if isinstance(exc, AuditUnavailable) else exc)


def _synced(sync: asyncio.Future[None], waiters: list[asyncio.Future[None]]) -> None:
    error = sync.exception() if not sync.cancelled() else AuditUnavailable()
    if error is not None:
        _fail(waiters, error)
        return
    for done in waiters:
        if not done.done():
            done.set_result(None)
