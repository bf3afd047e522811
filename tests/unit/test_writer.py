"""The writer thread (server/writer.py): handlers queued together share one commit and are
answered only after it; a handler's error is its own; a failed commit fails every handler in
its batch; a write reads the writes queued before it in its batch."""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from strongroom.config import ServerSettings
from strongroom.errors import BadRequest, Conflict, Sealed, StoreUnavailable
from strongroom.server.node import Node
from strongroom.server.routes import Call
from strongroom.server.writer import Writer, batchable
from strongroom.store.protocol import SecretRecord, VersionRecord
from strongroom.store.sqlite import SqliteStore
from tests.unit.test_group_commit import _group, _rows


def _inserting(group: Any, key: str, seen: list[str] | None = None) -> Callable[[], str]:
    def insert() -> str:
        with group.write((sqlite3.IntegrityError,)) as conn:
            conn.execute("INSERT INTO t (k) VALUES (?)", (key,))
        if seen is not None:
            seen.append(key)
        return key

    return insert


async def _queued_behind_a_gate(
    writer: Writer, gate: threading.Event, handlers: list[Callable[[], Any]]
) -> list[Any]:
    """Runs ``handlers`` queued while the writer is held in a first handler, so all of them
    land in one batch; returns each one's result or error."""
    started = threading.Event()

    def first() -> str:
        started.set()
        gate.wait(5)
        return "first"

    calls = [asyncio.ensure_future(writer(first))]
    while not started.is_set():
        await asyncio.sleep(0.001)
    calls += [asyncio.ensure_future(writer(handler)) for handler in handlers]
    await asyncio.sleep(0.02)  # every call is queued
    gate.set()
    return list(await asyncio.gather(*calls, return_exceptions=True))


def test_handlers_queued_together_share_one_commit(tmp_path: Path) -> None:
    group, _, commits = _group(tmp_path)
    writer = Writer(group)
    ran: list[str] = []
    handlers = [_inserting(group, f"k{i}", ran) for i in range(10)]
    try:
        results = asyncio.run(_queued_behind_a_gate(writer, threading.Event(), handlers))
    finally:
        writer.close()
    assert results == ["first"] + [f"k{i}" for i in range(10)]
    assert len(commits) == 1  # one commit, one fsync, for all ten
    assert _rows(tmp_path / "db.sqlite") == {f"k{i}" for i in range(10)}


def test_no_answer_before_its_commit(tmp_path: Path) -> None:
    group, conn, _ = _group(tmp_path)
    writer = Writer(group)

    async def main() -> None:
        call = asyncio.ensure_future(writer(_inserting(group, "a")))
        # A real commit is an fsync: what the caller is told must already be on disk.
        assert await call == "a"
        assert _rows(tmp_path / "db.sqlite") == {"a"}
        assert not conn.in_transaction

    try:
        asyncio.run(main())
    finally:
        writer.close()


def test_a_handlers_error_is_its_own(tmp_path: Path) -> None:
    group, _, commits = _group(tmp_path)
    writer = Writer(group)

    def refused() -> None:
        raise BadRequest("not this one")

    handlers = [_inserting(group, "a"), refused, _inserting(group, "a"), _inserting(group, "b")]
    try:
        results = asyncio.run(_queued_behind_a_gate(writer, threading.Event(), handlers))
    finally:
        writer.close()
    assert results[1] == "a" and results[4] == "b"
    assert isinstance(results[2], BadRequest)
    assert isinstance(results[3], sqlite3.IntegrityError)  # its own write undid only itself
    assert len(commits) == 1
    assert _rows(tmp_path / "db.sqlite") == {"a", "b"}


def test_a_failed_commit_fails_every_handler_in_its_batch(tmp_path: Path) -> None:
    group, conn, _ = _group(tmp_path)
    writer = Writer(group)
    conn.fail_commit = True
    handlers = [_inserting(group, key) for key in ("a", "b", "c")]
    try:
        results = asyncio.run(_queued_behind_a_gate(writer, threading.Event(), handlers))
        assert results[0] == "first"  # it wrote nothing: nothing of it was lost
        assert all(isinstance(result, StoreUnavailable) for result in results[1:])
        assert _rows(tmp_path / "db.sqlite") == set()
        conn.fail_commit = False
        assert asyncio.run(writer(_inserting(group, "d"))) == "d"  # the next batch commits
    finally:
        writer.close()
    assert _rows(tmp_path / "db.sqlite") == {"d"}


def _secret(version: int) -> tuple[SecretRecord, VersionRecord]:
    row = SecretRecord("ns", "db/password", version, 1.0, float(version), {})
    return row, VersionRecord("ns", "db/password", version, b"sealed", "ns/k1", float(version))


def _next_version(store: SqliteStore) -> Callable[[], int]:
    """A write as the secret service makes it: read the current version, write the next,
    read again when a concurrent write took it."""

    def write() -> int:
        for _ in range(5):
            found = store.get_secret("ns", "db/password")
            current = found.current_version if found else 0
            secret, version = _secret(current + 1)
            try:
                store.write_version(secret, version, expected_current=current, keep=100)
            except Conflict:
                continue
            return current + 1
        raise AssertionError("the write never saw the one before it")

    return write


def test_writes_of_one_secret_in_one_batch_each_read_the_one_before(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "store.db", exclusive=True)
    writer = Writer(store.group_commit)
    handlers = [_next_version(store) for _ in range(6)]
    commits = store._generation  # every commit moves it
    try:
        results = asyncio.run(_queued_behind_a_gate(writer, threading.Event(), handlers))
        assert results == ["first", 1, 2, 3, 4, 5, 6]
        assert [v.version for v in store.list_versions("ns", "db/password")] == [1, 2, 3, 4, 5, 6]
        # Each read the batch as it stood (the writes before it, uncommitted): no write was
        # refused, so none forced a commit of its own.
        assert store._generation - commits == 1
    finally:
        writer.close()
        store.close()


def test_close_finishes_what_was_queued_and_refuses_what_comes_after(tmp_path: Path) -> None:
    group, _, _ = _group(tmp_path)
    writer = Writer(group)
    gate = threading.Event()

    async def main() -> list[Any]:
        running = asyncio.ensure_future(
            _queued_behind_a_gate(writer, gate, [_inserting(group, "a")])
        )
        await asyncio.sleep(0.05)
        closing = asyncio.get_running_loop().run_in_executor(None, writer.close)
        await asyncio.sleep(0.05)
        gate.set()
        await closing
        return await running

    assert asyncio.run(main()) == ["first", "a"]
    assert _rows(tmp_path / "db.sqlite") == {"a"}
    with pytest.raises(Sealed):
        asyncio.run(writer(_inserting(group, "b")))


def test_a_caller_that_went_away_leaves_the_others_answered(tmp_path: Path) -> None:
    group, _, _ = _group(tmp_path)
    writer = Writer(group)
    gate = threading.Event()

    async def main() -> list[Any]:
        started = threading.Event()

        def first() -> str:
            started.set()
            gate.wait(5)
            return "first"

        held = asyncio.ensure_future(writer(first))
        while not started.is_set():
            await asyncio.sleep(0.001)
        gone = asyncio.ensure_future(writer(_inserting(group, "gone")))
        kept = asyncio.ensure_future(writer(_inserting(group, "kept")))
        await asyncio.sleep(0.02)
        gone.cancel()  # the client disconnected: its write still runs and commits
        gate.set()
        return [await held, await kept]

    try:
        assert asyncio.run(main()) == ["first", "kept"]
    finally:
        writer.close()
    assert _rows(tmp_path / "db.sqlite") == {"gone", "kept"}


def test_a_namespace_whose_keyring_is_not_in_memory_is_written_from_a_worker_thread(
    tmp_path: Path,
) -> None:
    """Loading a keyring may call the key provider across the network: never on the writer
    thread, where an outage would hold up every other write."""
    node = Node(ServerSettings(tmp_path, dev=True, root_token="t"))
    try:
        services = node.services
        assert services is not None
        runtime = node.require_runtime()

        def call(params: dict[str, str]) -> Call:
            return cast(Call, SimpleNamespace(params=params, services_or_none=services))

        runtime.keyrings.get("secret")
        assert batchable(call({"namespace": "secret", "path": "db"}))
        assert batchable(call({"mount": "secret", "path": "db"}))  # the Vault surface's name
        runtime.keyrings.forget("secret")
        assert not batchable(call({"namespace": "secret", "path": "db"}))
        assert not batchable(call({"path": "db"}))
        sealed = cast(Call, SimpleNamespace(params={"mount": "secret"}, services_or_none=None))
        assert not batchable(sealed)
    finally:
        node.close()


def test_a_call_queued_as_the_writer_stops_is_told_not_left_waiting(tmp_path: Path) -> None:
    group, _, _ = _group(tmp_path)
    writer = Writer(group)

    async def main() -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        writer._jobs.put((contextvars.copy_context(), lambda: "late", (), future))
        await loop.run_in_executor(None, writer.close)  # never started: nothing ran it
        return await asyncio.wait_for(future, 5)

    with pytest.raises(Sealed):
        asyncio.run(main())
