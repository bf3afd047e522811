"""Records[T]: one typed repository whose change() is compare-and-set, retried on a fresh read."""

from __future__ import annotations

import json
import threading
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from strongroom.errors import Conflict
from strongroom.store.records import MAX_ATTEMPTS, Records
from strongroom.store.sqlite import SqliteStore


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "store.db", exclusive=True)


def test_create_only_once_and_read_back(store: SqliteStore) -> None:
    records = Records.of_json(store, "thing")
    assert records.create("a", {"n": 1}) is True
    assert records.create("a", {"n": 2}) is False
    assert records.get("a") == {"n": 1}
    assert records.get("missing") is None
    assert records.delete("a") is True and records.get("a") is None


def test_an_edit_that_raises_writes_nothing(store: SqliteStore) -> None:
    records = Records.of_json(store, "thing")
    records.create("a", {"n": 1})

    def refuse(current: Any) -> Any:
        current["n"] = 99
        raise ValueError("refused")

    with pytest.raises(ValueError):
        records.change("a", refuse)
    assert records.get("a") == {"n": 1}


def test_a_change_is_made_again_on_what_another_writer_left(store: SqliteStore) -> None:
    records = Records.of_json(store, "thing")
    records.create("a", {"tags": {}})
    calls = []

    def add(current: Any) -> Any:
        calls.append(dict(current["tags"]))
        if len(calls) == 1:  # another writer lands between this read and its write
            store.put_record("thing", "a", json.dumps({"tags": {"theirs": 1}}).encode())
        return {"tags": {**current["tags"], "mine": 1}}

    assert records.change("a", add) == {"tags": {"theirs": 1, "mine": 1}}
    assert calls == [{}, {"theirs": 1}]
    assert records.get("a") == {"tags": {"theirs": 1, "mine": 1}}


def _with(key: str, current: Any) -> Any:
    return {**(current or {}), key: 1}


def test_concurrent_changes_are_all_kept(store: SqliteStore) -> None:
    records = Records.of_json(store, "thing")
    records.create("a", {})

    def tag(index: int) -> None:
        for turn in range(10):
            records.change("a", partial(_with, f"{index}-{turn}"))

    threads = [threading.Thread(target=tag, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(records.get("a") or {}) == 80  # a plain put would have lost some


def test_an_unchanged_value_is_not_written(store: SqliteStore) -> None:
    records = Records.of_json(store, "thing")
    records.create("a", {"n": 1})
    writes = []
    original = store.replace_record

    def counted(kind: str, name: str, old: bytes | None, new: bytes) -> bool:
        writes.append(name)
        return original(kind, name, old, new)

    store.replace_record = counted  # type: ignore[method-assign]
    assert records.change("a", lambda current: current) == {"n": 1}
    assert writes == []


def test_a_record_that_changes_under_every_attempt_is_refused(store: SqliteStore) -> None:
    records = Records.of_json(store, "thing")
    records.create("a", {"n": 0})
    attempts = []

    def always_beaten(current: Any) -> Any:
        attempts.append(1)
        store.put_record("thing", "a", json.dumps({"n": len(attempts)}).encode())
        return {"n": -1}

    with pytest.raises(Conflict):
        records.change("a", always_beaten)
    assert len(attempts) == MAX_ATTEMPTS
    attempts.clear()
    with pytest.raises(TimeoutError, match="busy"):
        records.change("a", always_beaten, attempts=3, gave_up=lambda: TimeoutError("busy"))
    assert len(attempts) == 3


def test_items_in_name_order_by_prefix(store: SqliteStore) -> None:
    records: Records[str] = Records(store, "thing", bytes.decode, str.encode)
    for name in ("r2/b", "r1/b", "r1/a"):
        records.create(name, name.upper())
    assert list(records.items("r1/")) == [("r1/a", "R1/A"), ("r1/b", "R1/B")]
    assert sorted(records.names()) == ["r1/a", "r1/b", "r2/b"]
