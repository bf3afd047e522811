"""Group commit (store/group_commit.py): concurrent writes share a commit, a refused write undoes
only itself, and a commit that fails fails every write in its batch, none acknowledged."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from strongroom.errors import Conflict, StoreUnavailable
from strongroom.store.group_commit import GroupCommit
from strongroom.store.protocol import SecretRecord, VersionRecord
from strongroom.store.sqlite import SqliteStore


class _Connection:
    """A real SQLite connection whose COMMIT can be made to fail (a disk gone away)."""

    def __init__(self, path: Path) -> None:
        self.real = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.fail_commit = False

    def execute(self, statement: str, params: Any = ()) -> Any:
        if statement == "COMMIT" and self.fail_commit:
            raise sqlite3.OperationalError("disk I/O error")
        return self.real.execute(statement, params)

    @property
    def in_transaction(self) -> bool:
        return bool(self.real.in_transaction)

    def close(self) -> None:
        self.real.close()


def _group(tmp_path: Path) -> tuple[GroupCommit, _Connection, list[int]]:
    conn = _Connection(tmp_path / "db.sqlite")
    conn.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
    commits: list[int] = []
    group = GroupCommit(
        lambda: conn, lambda exc: StoreUnavailable("write failed"), lambda: commits.append(1)
    )
    return group, conn, commits


def _rows(path: Path) -> set[str]:
    with sqlite3.connect(path) as reader:
        return {row[0] for row in reader.execute("SELECT k FROM t")}


def _insert(group: GroupCommit, key: str, outcome: dict[str, object]) -> None:
    try:
        with group.write((sqlite3.IntegrityError,)) as conn:
            conn.execute("INSERT INTO t (k) VALUES (?)", (key,))
        outcome[key] = "ok"
    except Exception as exc:
        outcome[key] = exc


def _wait_until(condition: Any) -> None:
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.005)


def _held_batch(group: GroupCommit, keys: list[str], outcome: dict[str, object]) -> list[Any]:
    """Writers whose statements are all in the open batch, waiting for its commit (the test
    holds the committer's lock)."""
    threads = [threading.Thread(target=_insert, args=(group, k, outcome)) for k in keys]
    for thread in threads:
        thread.start()
    # Each writer has run its statements once the batch holds it; then it waits to commit.
    _wait_until(lambda: group._open is not None and not group._arriving)
    time.sleep(0.05)
    return threads


def test_writes_that_arrive_together_share_one_commit(tmp_path: Path) -> None:
    group, _, commits = _group(tmp_path)
    outcome: dict[str, object] = {}
    with group._committing:
        threads = _held_batch(group, ["a", "b", "c"], outcome)
        assert outcome == {}  # nobody is acknowledged before the commit
        assert _rows(tmp_path / "db.sqlite") == set()  # and nothing is visible to readers
    for thread in threads:
        thread.join()
    assert outcome == {"a": "ok", "b": "ok", "c": "ok"}
    assert len(commits) == 1
    assert _rows(tmp_path / "db.sqlite") == {"a", "b", "c"}


def test_a_refused_write_undoes_only_itself(tmp_path: Path) -> None:
    group, _, commits = _group(tmp_path)
    outcome: dict[str, object] = {}
    with group._committing:
        threads = _held_batch(group, ["a"], outcome)
        refused: dict[str, object] = {}
        _insert(group, "a", refused)  # the same key in the same batch: refused at once
        assert isinstance(refused["a"], sqlite3.IntegrityError)
    for thread in threads:
        thread.join()
    assert outcome == {"a": "ok"}
    assert len(commits) == 1
    assert _rows(tmp_path / "db.sqlite") == {"a"}


def test_a_failed_commit_fails_every_write_in_its_batch_and_the_next_one_succeeds(
    tmp_path: Path,
) -> None:
    group, conn, _ = _group(tmp_path)
    outcome: dict[str, object] = {}
    with group._committing:
        threads = _held_batch(group, ["a", "b", "c"], outcome)
        conn.fail_commit = True
    for thread in threads:
        thread.join()
    assert all(isinstance(outcome[k], StoreUnavailable) for k in "abc"), outcome
    assert _rows(tmp_path / "db.sqlite") == set()
    conn.fail_commit = False  # the disk is back
    _insert(group, "d", outcome)
    assert outcome["d"] == "ok"
    assert _rows(tmp_path / "db.sqlite") == {"d"}


def test_a_write_inside_a_write_joins_it(tmp_path: Path) -> None:
    group, _, commits = _group(tmp_path)
    with group.write((sqlite3.IntegrityError,)) as outer:
        outer.execute("INSERT INTO t (k) VALUES ('a')")
        with group.write((sqlite3.IntegrityError,)) as inner:
            inner.execute("INSERT INTO t (k) VALUES ('b')")
    assert len(commits) == 1
    assert _rows(tmp_path / "db.sqlite") == {"a", "b"}


def test_sixteen_writers_on_the_store_lose_nothing_and_share_commits(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "store.db", exclusive=True)
    before = store._generation
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        path = f"w{worker}"
        try:
            for number in range(1, 41):
                store.write_version(
                    SecretRecord("ns", path, number, 1.0, 1.0, {}),
                    VersionRecord("ns", path, number, b"sealed", "k1", 1.0, None),
                    expected_current=number - 1,
                    keep=100,
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for worker in range(16):
        assert len(store.list_versions("ns", f"w{worker}")) == 40
        secret = store.get_secret("ns", f"w{worker}")
        assert secret is not None and secret.current_version == 40
    assert store._generation - before < 16 * 40  # some writes shared a commit
    # A stale compare-and-set is still refused inside a batch.
    with pytest.raises(Conflict):
        store.write_version(
            SecretRecord("ns", "w0", 40, 1.0, 1.0, {}),
            VersionRecord("ns", "w0", 40, b"sealed", "k1", 1.0, None),
            expected_current=39,
            keep=100,
        )
    store.close()


def test_a_refused_compare_and_set_reads_the_change_that_refused_it(tmp_path: Path) -> None:
    """A record's CAS loop under contention: a refusal returns only once the batch holding the
    winning change committed, so the next read sees it: a refused caller never reads again the
    value it was refused on. (How many times one caller loses in a row is the scheduler's
    doing: a test that counted refusals failed now and then on a busy machine.)"""
    store = SqliteStore(tmp_path / "store.db", exclusive=True)
    store.put_record("counter", "n", b"0")
    errors: list[BaseException] = []

    def increment() -> None:
        try:
            for _ in range(30):
                old = store.get_record("counter", "n")
                assert old is not None
                while not store.replace_record("counter", "n", old, str(int(old) + 1).encode()):
                    again = store.get_record("counter", "n")
                    assert again is not None
                    assert int(again) > int(old), "a refused write read the stale value again"
                    old = again
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=increment) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.get_record("counter", "n") == b"240"
    store.close()


def test_settle_waits_for_a_commit_another_thread_has_under_way(tmp_path: Path) -> None:
    """The writer thread's writes joined a batch that another writer's commit has taken (the
    batch no longer open, its COMMIT still running): settling waits for that commit, so the
    writes are answered committed, never 'never committed'."""
    group, conn, _ = _group(tmp_path)
    in_commit, release = threading.Event(), threading.Event()
    real_execute = conn.execute

    def slow_commit(statement: str, params: Any = ()) -> Any:
        if statement == "COMMIT" and not release.is_set():
            in_commit.set()
            release.wait(5)
        return real_execute(statement, params)

    with group.deferring() as deferred:
        with group.write((sqlite3.IntegrityError,)) as c:
            c.execute("INSERT INTO t (k) VALUES ('deferred')")
        conn.execute = slow_commit  # type: ignore[method-assign]
        other = threading.Thread(target=_insert, args=(group, "other", {}))
        other.start()
        assert in_commit.wait(5)  # the other writer took the batch and is committing it
        threading.Timer(0.2, release.set).start()
        group.settle(deferred)
        assert deferred.error() is None
    other.join(5)
    assert _rows(tmp_path / "db.sqlite") == {"deferred", "other"}


def test_the_read_caches_are_outdated_before_a_writer_learns_its_commit_is_done(
    tmp_path: Path,
) -> None:
    """A writer whose compare-and-set was refused waits for the winning batch, then reads
    again: the store's caches must already be outdated when it wakes (``committed`` runs first),
    or it would be given the value cached before the commit."""
    conn = _Connection(tmp_path / "db.sqlite")
    conn.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
    deferred_seen: list[Any] = []
    done_when_told: list[bool] = []
    group = GroupCommit(
        lambda: conn,
        lambda exc: StoreUnavailable("write failed"),
        lambda: done_when_told.extend(b.done for d in deferred_seen for b in d.batches),
    )
    with group.deferring() as deferred:
        deferred_seen.append(deferred)
        with group.write((sqlite3.IntegrityError,)) as write:
            write.execute("INSERT INTO t (k) VALUES ('a')")
        mark = group.read_mark()
        group.settle(deferred)
    assert done_when_told == [False]  # the cache moved while the batch was not yet done
    assert deferred.error() is None
    assert group.read_mark() != mark
    assert _rows(tmp_path / "db.sqlite") == {"a"}
