"""Group commit: concurrent writes share one transaction and one commit (SQLite and PostgreSQL).

Every write of a process runs its statements on one connection, each inside a savepoint of the
open transaction (so a refused write undoes only itself). A write is answered only once a commit
covering it has returned: the first writer to finish commits everything added so far, and the
writers that arrived meanwhile are covered by that commit's single fsync (SQLite's WAL,
PostgreSQL's). With one writer this is the old behaviour (its own commit); with 16 it is one
fsync for many writes.

A commit that fails fails every write in its batch: none of them is acknowledged. A connection
that broke (PostgreSQL restarted) fails its batch and is replaced for the next one.

A thread that runs many writes one after another (the server's writer thread) defers instead:
inside ``deferring()`` a write returns once its statements ran, and the thread commits them all
with ``settle()`` before it answers any of them.
"""

from __future__ import annotations

import contextlib
import copy
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from strongroom.errors import StoreUnavailable

__all__ = ["SQLITE", "Deferred", "Dialect", "GroupCommit"]


@dataclass(frozen=True)
class Dialect:
    """What differs between the databases a batch runs on."""

    error: type[Exception]  # the driver's base error
    begin: str  # the statement that opens a batch
    in_transaction: Callable[[Any], bool]
    broken: Callable[[Any], bool] = lambda conn: False  # the connection is gone


SQLITE = Dialect(sqlite3.Error, "BEGIN IMMEDIATE", lambda conn: bool(conn.in_transaction))

# How long a committer lets writers already queued for the connection add to its batch: short
# against an fsync (~200 µs here), long enough for a few writes' statements.
_GATHER_SECONDS = 0.0005


class _Batch:
    """One transaction: the writes in it are acknowledged, or fail, together."""

    __slots__ = ("done", "error")

    def __init__(self) -> None:
        self.done = False
        self.error: BaseException | None = None


class Deferred:
    """The batches a thread's deferred writes joined: answered only once every one committed."""

    __slots__ = ("_batches",)

    def __init__(self) -> None:
        self._batches: list[_Batch] = []

    @property
    def batches(self) -> list[_Batch]:
        return self._batches

    def joined(self, batch: _Batch) -> None:
        if not self._batches or self._batches[-1] is not batch:
            self._batches.append(batch)

    def error(self) -> BaseException | None:
        """What failed one of the batches (a copy: each write raises its own), or None once all
        committed. Asked after ``settle()``."""
        for batch in self._batches:
            if not batch.done:
                return StoreUnavailable("database write failed: it was never committed")
            if batch.error is not None:
                return copy.copy(batch.error)
        return None


class GroupCommit:
    def __init__(
        self,
        connect: Callable[[], Any],
        store_error: Callable[[Any], Exception],
        committed: Callable[[], None],
        dialect: Dialect = SQLITE,
    ) -> None:
        """``connect`` opens the shared write connection (lazily, and again after it broke);
        ``store_error`` turns a failed statement into the error callers see; ``committed`` runs
        after every commit, successful or not (the store's read cache moves its generation)."""
        self._dialect = dialect
        self._connect = connect
        self._store_error = store_error
        self._committed = committed
        self._conn: Any = None
        self._statements = threading.Lock()  # held while one write runs its statements
        self._committing = threading.Lock()  # one committer at a time
        self._open: _Batch | None = None
        self._arriving = 0  # writers waiting for the statement lock (a hint for the committer)
        self._counting = threading.Lock()  # += is not atomic across threads
        self._local = threading.local()
        self._changes = 0  # moves at every write and commit (under the statement lock)

    @property
    def connection(self) -> Any:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    @contextmanager
    def write(self, integrity_errors: tuple[type[BaseException], ...]) -> Iterator[Any]:
        """Run the body's statements as one write; return once they are committed. A write
        inside a write (the same thread) joins the outer one."""
        if getattr(self._local, "inside", False):
            yield self.connection
            return
        self._arrive()
        try:
            conn = self.connection
            batch = self._begin(conn)
            self._local.inside = True
            try:
                conn.execute("SAVEPOINT write")
                yield conn
                conn.execute("RELEASE write")
            except BaseException as exc:
                self._undo(conn, batch)
                if isinstance(exc, self._dialect.error) and not isinstance(exc, integrity_errors):
                    raise self._store_error(exc) from None
                raise  # a caller's compare-and-set decides on integrity errors
            finally:
                self._local.inside = False
                self._changes += 1
        finally:
            self._statements.release()
        deferred: Deferred | None = getattr(self._local, "deferred", None)
        if deferred is None:
            self._wait_for_commit(batch)
        else:
            deferred.joined(batch)

    def sees_uncommitted(self) -> bool:
        """Whether this thread defers and a batch is open: its reads then go through
        ``read_uncommitted``, so a write sees the writes queued before it in the batch (a
        second write of one secret reads the first, instead of conflicting with it)."""
        return self._open is not None and getattr(self._local, "deferred", None) is not None

    def read_mark(self) -> int | None:
        """A number that moves whenever what ``read_uncommitted`` shows may have changed (a
        write, its undoing, a commit): a read made at one mark may be kept while the mark
        stays. None inside a write, whose own statements have not moved it yet."""
        return None if getattr(self._local, "inside", False) else self._changes

    def read_uncommitted(self, statement: str, params: Any) -> list[Any]:
        """``statement``'s rows on the write connection, as the open batch sees them."""
        if getattr(self._local, "inside", False):  # this thread holds the connection already
            return list(self.connection.execute(statement, params).fetchall())
        with self._statements:
            return list(self.connection.execute(statement, params).fetchall())

    @contextmanager
    def deferring(self) -> Iterator[Deferred]:
        """This thread's writes in the body return before they are committed; the caller
        commits them with ``settle()`` and answers them by the ``Deferred``."""
        deferred = self._local.deferred = Deferred()
        try:
            yield deferred
        finally:
            self._local.deferred = None

    def _arrive(self) -> None:
        """Take the statement lock, counted while waiting for it (the committer's hint); the
        caller releases it."""
        with self._counting:
            self._arriving += 1
        try:
            self._statements.acquire()
        finally:
            with self._counting:
                self._arriving -= 1

    def _begin(self, conn: Any) -> _Batch:
        if self._open is None:
            try:
                conn.execute(self._dialect.begin)
            except self._dialect.error as exc:
                self._forget_if_broken(conn)
                raise self._store_error(exc) from None
            self._open = _Batch()
        return self._open

    def _undo(self, conn: Any, batch: _Batch) -> None:
        """Undo one write's statements; if the database rolled the whole transaction back
        (SQLite may, on a full disk or an I/O error) or the connection broke, the batch is lost
        and fails."""
        with contextlib.suppress(self._dialect.error):
            conn.execute("ROLLBACK TO write")
            conn.execute("RELEASE write")
        lost = self._forget_if_broken(conn) or not self._dialect.in_transaction(conn)
        if lost and self._open is batch:
            self._open = None
            self._finish(batch, StoreUnavailable("database write failed: the transaction was lost"))

    def _forget_if_broken(self, conn: Any) -> bool:
        """Whether ``conn`` broke; if so it is closed, and the next batch opens another."""
        if not self._dialect.broken(conn):
            return False
        with contextlib.suppress(Exception):
            conn.close()
        if self._conn is conn:
            self._conn = None
        return True

    def _wait_for_commit(self, batch: _Batch) -> None:
        while not batch.done:
            with self._committing:
                if batch.done:
                    break
                self._gather()
                with self._statements:
                    self._commit_open()
        if batch.error is not None:
            raise copy.copy(batch.error)

    def settle(self, *deferred: Deferred) -> None:
        """Return once every write already run is committed (or has failed): the open batch,
        and each batch ``deferred`` joined, which another writer's commit may have taken and
        not yet finished (no longer open, not yet done)."""
        if getattr(self._local, "inside", False):
            return
        batches = [b for d in deferred for b in d.batches]
        if self._open is not None:
            batches.append(self._open)
        for batch in batches:
            if not batch.done:
                with contextlib.suppress(Exception):  # its own writers report a failure
                    self._wait_for_commit(batch)

    def _gather(self) -> None:
        """Let writers already queued for the connection join this commit, briefly."""
        deadline = time.monotonic() + _GATHER_SECONDS
        while self._arriving > 0 and time.monotonic() < deadline:
            time.sleep(0)  # gives them the GIL and the statement lock

    def _commit_open(self) -> None:
        batch, self._open = self._open, None
        if batch is None:
            return
        conn = self.connection
        error: BaseException | None = None
        try:
            conn.execute("COMMIT")
        except self._dialect.error as exc:
            with contextlib.suppress(self._dialect.error):
                conn.execute("ROLLBACK")
            self._forget_if_broken(conn)
            error = self._store_error(exc)
        self._finish(batch, error)

    def _finish(self, batch: _Batch, error: BaseException | None) -> None:
        # The read caches are outdated before anyone learns the batch is done: a writer whose
        # compare-and-set was refused waits for this, then reads again, and must not be given
        # what was cached before the commit.
        self._changes += 1
        self._committed()
        batch.error = error
        batch.done = True

    def close(self) -> None:
        with self._statements:
            if self._conn is not None:
                with contextlib.suppress(self._dialect.error):
                    self._conn.close()
                self._conn = None
