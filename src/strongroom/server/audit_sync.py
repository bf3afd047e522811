"""One audit fsync at a time for every write answered on the event loop, shared by all of them.

A write is answered only once its audit entries are on disk. Each answer used to send its own
worker thread to ``broker.sync`` (a thread hop per write, and 16 threads queueing on one lock to
learn that the fsync they waited behind covered them). Here the event loop keeps one sync in
flight: a caller arriving while it runs waits for the next one, which starts after it and so
covers every entry written before that caller asked."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from strongroom.server.threads import in_thread

__all__ = ["SharedSync"]


class SharedSync:
    def __init__(self, sync: Callable[[], None]) -> None:
        self._sync = sync
        self._running: asyncio.Future[None] | None = None
        self._next: asyncio.Future[None] | None = None

    async def __call__(self) -> None:
        """Return once every entry written before this call is durable; raise what the sync
        raised (each waiter of a failed sync gets the failure)."""
        if self._running is None:
            self._running = self._start()
            await asyncio.shield(self._running)
            return
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._next)

    def _start(self) -> asyncio.Future[None]:
        done = asyncio.ensure_future(in_thread(self._sync))
        done.add_done_callback(self._finished)
        return done

    def _finished(self, done: asyncio.Future[None]) -> None:
        waiting, self._next = self._next, None
        if waiting is None:
            self._running = None
            return
        self._running = self._start()
        self._running.add_done_callback(lambda run: _copy(run, waiting))


def _copy(source: asyncio.Future[None], target: asyncio.Future[None]) -> None:
    if target.cancelled():
        return
    error = source.exception() if not source.cancelled() else asyncio.CancelledError()
    if error is not None:
        target.set_exception(error)
    else:
        target.set_result(None)
