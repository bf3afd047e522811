"""The embedded default: SQLite (stdlib driver) in WAL mode, every commit fsynced; concurrent
writes share a commit (store/group_commit.py)."""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from strongroom.errors import StorageFull, StoreUnavailable
from strongroom.store.group_commit import GroupCommit
from strongroom.store.protocol import SecretRecord, VersionRecord
from strongroom.store.sql import SqlStore

__all__ = ["SqliteStore"]

_SQLITE_FULL = 13  # the database or its disk is full
_CACHED_READS = 10_000  # secret reads kept between commits
_Read = TypeVar("_Read")


def _store_error(exc: sqlite3.Error) -> StoreUnavailable | StorageFull:
    """A failed write in a precise error: a full disk is the operator's to fix (507)."""
    if getattr(exc, "sqlite_errorcode", 0) & 0xFF == _SQLITE_FULL:
        return StorageFull()
    return StoreUnavailable(f"database write failed: {type(exc).__name__}")


def _take_file(path: Path, exclusive: bool) -> int:
    """A lock beside the database: exclusive for a server, shared for anyone else."""
    fd = os.open(path.with_name(path.name + ".owner"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise StoreUnavailable(
            f"another process has {path.name} open"
            + (" (a server needs it alone)" if exclusive else " alone (a running server?)")
            + ": stop it first"
        ) from None
    return fd


def _kept_in(
    reads: dict[tuple[Any, ...], tuple[Any, Any]],
    mark: object,
    key: tuple[Any, ...],
    load: Callable[[], _Read],
) -> _Read:
    """``load()``, or what it gave at ``mark`` (None: keep nothing)."""
    if mark is None:
        return load()
    cached = reads.get(key)
    if cached is not None and cached[0] == mark:
        found: _Read = cached[1]
        return found
    found = load()
    if len(reads) >= _CACHED_READS:
        reads.clear()
    reads[key] = (mark, found)
    return found


class SqliteStore(SqlStore):
    integrity_errors = (sqlite3.IntegrityError,)

    def __init__(self, path: Path, *, exclusive: bool = False) -> None:
        """``exclusive``: this process is the only one that opens the file (a server); then
        it keeps reads between commits. Any other opener shares the file and keeps nothing;
        the two kinds exclude each other (a lock file beside the database)."""
        super().__init__()
        self.path = path
        self.exclusive = exclusive
        # Writers in this process share one connection and commit together (one WAL fsync for
        # the writes that arrived meanwhile); they queue on a lock there rather than in SQLite's
        # sleep-and-retry busy handler, whose back-off turns contention into long latency tails.
        self._group = GroupCommit(self._connect, _store_error, self._committed)
        # In exclusive mode, reads of a secret's row and version and of records are kept until
        # the next commit: every commit (they are all this process's) moves the generation.
        self._generation = 0
        self._reads: dict[tuple[Any, ...], tuple[Any, Any]] = {}
        # The writer thread's reads in an open batch, kept until the next write or commit.
        self._batch_reads: dict[tuple[Any, ...], tuple[Any, Any]] = {}
        # Moves at every write that may change records: a record (a mount's settings, read by
        # every KV write) is kept across the writes of secrets in a batch.
        self._record_changes = 0
        self._owner_fd: int | None = None
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            # Create the file 0600 before SQLite opens it.
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        self._owner_fd = _take_file(path, exclusive)
        self.migrate()

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"

    @property
    def group_commit(self) -> GroupCommit:
        """The one write connection's batches (the server's writer thread defers into them)."""
        return self._group

    def _connect(self) -> Any:
        try:
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open the database: {type(exc).__name__}") from None
        conn.execute("PRAGMA journal_mode=WAL")
        # FULL: the WAL is fsynced at every commit, so an acknowledged write survives kill -9
        # and power loss.
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def _write(self) -> AbstractContextManager[Any]:
        return self._group.write(self.integrity_errors)  # no generator of its own: hot path

    @contextmanager
    def _write_records(self) -> Iterator[Any]:
        with self._write() as conn:
            try:
                yield conn
            finally:  # after its statements ran or failed, still under the statement lock
                self._record_changes += 1

    def _refused(self) -> None:
        # What refused a compare-and-set may be a write still waiting in the open batch, which
        # this thread's reads cannot see yet: let it commit, so the caller's next read does.
        self._group.settle()

    def _committed(self) -> None:
        self._generation += 1  # every cached read is older than this commit

    @contextmanager
    def _snapshot(self) -> Iterator[Any]:
        """A connection of its own in a read transaction: in WAL mode it sees one moment of the
        database while writers go on."""
        conn = self._connect()
        try:
            conn.execute("BEGIN")
            yield conn
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"database snapshot failed: {type(exc).__name__}") from None
        finally:
            conn.close()

    def read_version(
        self, namespace: str, path: str, version: int | None
    ) -> tuple[SecretRecord | None, VersionRecord | None]:
        load = super().read_version
        key = ("version", namespace, path, version)
        return self._kept(key, lambda: load(namespace, path, version))

    def get_secret(self, namespace: str, path: str) -> SecretRecord | None:
        load = super().get_secret
        return self._kept(("secret", namespace, path), lambda: load(namespace, path))

    def get_record(self, kind: str, name: str) -> bytes | None:
        load = super().get_record
        return self._kept(("record", kind, name), lambda: load(kind, name))

    def _kept(self, key: tuple[Any, ...], load: Callable[[], _Read]) -> _Read:
        """``load()``, or what it gave since the last commit (exclusive mode only). The writer
        thread reads an open batch, not yet committed: what it read is kept apart, until the
        next write or commit (a write reads its secret's row for the rights check and again
        to write it), and a record until the next write of records or commit (every KV write
        reads its mount's settings)."""
        # Each mark is taken before the query: a change meanwhile outdates what it finds.
        if self._group.sees_uncommitted():
            mark = self._group.read_mark()
            if mark is not None and key[0] == "record":  # records outlive writes of secrets
                return _kept_in(self._batch_reads, self._record_mark(), key, load)
            return _kept_in(self._batch_reads, mark, key, load)
        if not self.exclusive:
            return load()
        return _kept_in(self._reads, self._generation, key, load)

    def _record_mark(self) -> tuple[int, int]:
        """Moves when a record may have changed: a write of records, or a commit (a lost batch
        takes its writes of records back). A read takes the mark before its query, so a write
        of records meanwhile outdates what it found."""
        return self._record_changes, self._generation

    def close(self) -> None:
        self._group.close()
        super().close()
        if self._owner_fd is not None:
            os.close(self._owner_fd)  # the lock goes with it
            self._owner_fd = None

    def _query(self, statement: str, params: Any = ()) -> list[Any]:
        # Reads run outside an explicit transaction: one statement is a consistent snapshot.
        try:
            if self._group.sees_uncommitted():
                return self._group.read_uncommitted(statement, params)
            return list(self._conn().execute(statement, params).fetchall())
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"database read failed: {type(exc).__name__}") from None
