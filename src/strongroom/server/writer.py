"""The writer thread: a node with its own database file runs its short writes here, one after
another, and commits them together.

Request threads each running a write's statements hand the GIL and the statement lock around
(about 14 context switches per write, measured) and each waits for a commit on its own. Here the
event loop queues a write route's handler; the thread runs every handler queued, each write
returning once its statements ran (``GroupCommit.deferring``), then commits them all with one
fsync and answers them together: a handler's answer is never sent before its commit. A batch
that failed to commit fails every handler in it.

Only routes marked ``batched`` come here: short, local work (a KV write). Anything that may wait
(password hashing, a key provider across the network, a backup) would hold every write up, so
a namespace whose keyring is not in memory yet is written from a worker thread (``batchable``).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from strongroom.errors import Sealed
from strongroom.server.routes import Call
from strongroom.store.group_commit import Deferred, GroupCommit

__all__ = ["Writer", "batchable"]

_T = TypeVar("_T")

# Handlers run before one commit: bounds how long the first of them waits for its answer.
_MOST_PER_COMMIT = 64

_Job = tuple[contextvars.Context, Callable[..., Any], tuple[Any, ...], "asyncio.Future[Any]"]
# What one handler left: its caller's future, its result or error, and the batches it wrote in.
_Ran = tuple["asyncio.Future[Any]", Any, BaseException | None, Deferred]
_Outcome = tuple["asyncio.Future[Any]", Any, BaseException | None]


def batchable(call: Call) -> bool:
    """Whether a batched route's call may run on the writer thread: its namespace's keyring is
    in memory. Loading it (a namespace's first use after unsealing) may call the key provider
    across the network, and an outage there must not hold up every other write."""
    namespace = call.params.get("namespace") or call.params.get("mount")
    services = call.services_or_none
    if not namespace or services is None:
        return False
    return services.secrets.keys_in_memory(namespace)


class Writer:
    def __init__(self, group: GroupCommit) -> None:
        self._group = group
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()
        self._closed = False

    async def __call__(self, function: Callable[..., _T], *args: Any) -> _T:
        """``function(*args)`` on the writer thread, in a copy of the caller's context; returns
        once what it wrote is committed."""
        if self._closed:
            raise Sealed()  # the node is shutting down
        self._start()
        future: asyncio.Future[_T] = asyncio.get_running_loop().create_future()
        self._jobs.put((contextvars.copy_context(), function, args, future))
        return await future

    def _start(self) -> None:
        if self._thread is not None:
            return
        with self._starting:
            if self._thread is None and not self._closed:
                thread = threading.Thread(target=self._run, name="strongroom-writer", daemon=True)
                thread.start()
                self._thread = thread

    def close(self) -> None:
        """Finish the writes queued, then stop the thread."""
        with self._starting:
            self._closed = True
            thread, self._thread = self._thread, None
        if thread is not None:
            self._jobs.put(None)
            thread.join()
        # A call that passed the check above as the thread stopped: told, never left waiting.
        late: list[_Outcome] = []
        with contextlib.suppress(queue.Empty):
            while True:
                job = self._jobs.get_nowait()
                if job is not None:
                    late.append((job[3], None, Sealed()))
        for future, result, error in late:
            with contextlib.suppress(RuntimeError):
                future.get_loop().call_soon_threadsafe(_resolve, [(future, result, error)])

    def _run(self) -> None:
        running = True
        while running:
            job = self._jobs.get()
            ran: list[_Ran] = []
            while job is not None:  # every handler queued meanwhile joins this commit
                ran.append(self._one(job))
                if len(ran) == _MOST_PER_COMMIT:
                    break
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
            else:
                running = False  # close() queued None: finish what came before it
            # one commit, one fsync, for every write above (and any batch of theirs another
            # writer's commit took and has not finished)
            self._group.settle(*(deferred for _, _, _, deferred in ran))
            _answer(ran)

    def _one(self, job: _Job) -> _Ran:
        context, function, args, future = job
        with self._group.deferring() as deferred:
            try:
                return future, context.run(function, *args), None, deferred
            except BaseException as exc:  # the caller's to raise, once the commit is done
                return future, None, exc, deferred


def _answer(ran: list[_Ran]) -> None:
    """Each handler's result, or its error, or its batch's failure, to its caller's loop (one
    wake-up of each loop for them all)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
    for future, result, error, deferred in ran:
        failed = error or deferred.error()
        by_loop.setdefault(future.get_loop(), []).append((future, result, failed))
    for loop, outcomes in by_loop.items():
        with contextlib.suppress(RuntimeError):  # that loop closed: nobody is waiting
            loop.call_soon_threadsafe(_resolve, outcomes)


def _resolve(outcomes: list[_Outcome]) -> None:
    for future, result, error in outcomes:
        if future.done():  # cancelled: the client went away
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)
