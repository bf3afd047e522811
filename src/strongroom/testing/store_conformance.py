"""The Store conformance suite: every backend runs ``run_all(make)`` with a factory that returns
a fresh, empty, migrated store."""

from __future__ import annotations

import threading
from collections.abc import Callable

from strongroom.errors import Conflict
from strongroom.store.protocol import SecretRecord, SecretSettings, Store, VersionRecord

__all__ = [
    "CHECKS",
    "Factory",
    "check_a_version_write_keeps_a_metadata_change_made_meanwhile",
    "check_concurrent_writers",
    "check_counters",
    "check_deletion_and_destroy",
    "check_keep_prunes_oldest",
    "check_key_scans",
    "check_leader",
    "check_metadata_rows",
    "check_protected_versions_are_never_pruned",
    "check_records",
    "check_replace_secret_is_compare_and_set",
    "check_scans",
    "check_versions_and_cas",
    "run_all",
]

Factory = Callable[[], Store]


def _write(
    store: Store, path: str, version: int, *, ns: str = "ns", keep: int = 10, ref: str = "ns:ns#1"
) -> None:
    secret = SecretRecord(ns, path, version, 1.0, float(version))
    record = VersionRecord(ns, path, version, f"env-{path}-{version}".encode(), ref, float(version))
    stored = store.write_version(secret, record, expected_current=version - 1, keep=keep)
    read = store.get_secret(ns, path)
    assert read is not None and read.stored == stored  # what a read finds, byte for byte


def check_records(store: Store) -> None:
    assert store.get_record("k", "a") is None
    store.put_record("k", "a", b"1")
    store.put_record("k", "a", b"2")
    assert store.get_record("k", "a") == b"2"
    assert store.replace_record("k", "a", b"1", b"3") is False
    assert store.replace_record("k", "a", b"2", b"3") is True
    assert store.replace_record("k", "b", None, b"x") is True
    assert store.replace_record("k", "b", None, b"y") is False
    assert store.list_records("k") == ["a", "b"]
    assert "k" in store.list_kinds()
    assert store.delete_record("k", "a") is True
    assert store.delete_record("k", "a") is False
    assert store.get_record("k", "a") is None


def check_counters(store: Store) -> None:
    assert store.add_counter("c", "x", 0) == 0
    assert store.add_counter("c", "x", 5) == 5
    assert store.add_counter("c", "x", 7) == 12


def check_versions_and_cas(store: Store) -> None:
    _write(store, "app/db", 1)
    _write(store, "app/db", 2)
    try:
        _write(store, "app/db", 2)
    except Conflict:
        pass
    else:
        raise AssertionError("a second write of version 2 must conflict")
    secret = store.get_secret("ns", "app/db")
    assert secret is not None and secret.current_version == 2
    got = store.get_version("ns", "app/db", 1)
    assert got is not None and got.envelope == b"env-app/db-1" and got.key_ref == "ns:ns#1"
    assert [v.version for v in store.list_versions("ns", "app/db")] == [1, 2]
    secret, current = store.read_version("ns", "app/db", None)
    assert secret is not None and current is not None and current.version == 2
    secret, first = store.read_version("ns", "app/db", 1)
    assert first is not None and first.envelope == b"env-app/db-1"
    assert store.read_version("ns", "app/db", 9)[1] is None
    assert store.read_version("ns", "missing", None) == (None, None)
    assert store.get_version("ns", "app/db", 3) is None


def check_keep_prunes_oldest(store: Store) -> None:
    for number in range(1, 6):
        _write(store, "p", number, keep=3)
    assert [v.version for v in store.list_versions("ns", "p")] == [3, 4, 5]


def check_protected_versions_are_never_pruned(store: Store) -> None:
    for number in range(1, 7):
        secret = SecretRecord("ns", "q", number, 1.0, float(number))
        record = VersionRecord("ns", "q", number, b"env", "ns:ns#1", float(number))
        store.write_version(secret, record, expected_current=number - 1, keep=2, protected=[1, 3])
    assert [v.version for v in store.list_versions("ns", "q")] == [1, 3, 5, 6]


def check_deletion_and_destroy(store: Store) -> None:
    _write(store, "d", 1)
    _write(store, "d", 2)
    store.set_deletion("ns", "d", [1], 42.0)
    one = store.get_version("ns", "d", 1)
    assert one is not None and one.deletion_time == 42.0
    store.set_deletion("ns", "d", [1], None)
    one = store.get_version("ns", "d", 1)
    assert one is not None and one.deletion_time is None
    store.destroy_versions("ns", "d", [2])
    two = store.get_version("ns", "d", 2)
    assert two is not None and two.destroyed and two.envelope is None
    assert store.delete_secret("ns", "d") is True
    assert store.get_secret("ns", "d") is None and store.list_versions("ns", "d") == []


def check_metadata_rows(store: Store) -> None:
    row = SecretRecord("ns", "m", 0, 1.0, 2.0, {"custom_metadata": {"owner": "team"}})
    assert store.replace_secret(None, row)
    secret = store.get_secret("ns", "m")
    assert secret is not None and secret.settings["custom_metadata"] == {"owner": "team"}
    _write(store, "m", 1)
    secret = store.get_secret("ns", "m")
    assert secret is not None and secret.current_version == 1


def check_replace_secret_is_compare_and_set(store: Store) -> None:
    old = SecretRecord("ns", "cas", 0, 1.0, 1.0, {"labels": {"current": 1}})
    assert store.replace_secret(None, old), "None: create only if there is no row"
    assert not store.replace_secret(None, old), "a row that exists is not created again"
    new = SecretRecord("ns", "cas", 0, 1.0, 2.0, {"labels": {"current": 2, "previous": 1}})
    assert store.replace_secret(old, new)
    assert not store.replace_secret(old, new), "a stale row must not win"
    stored = store.get_secret("ns", "cas")
    assert stored is not None and stored.settings == new.settings


def check_a_version_write_keeps_a_metadata_change_made_meanwhile(store: Store) -> None:
    """A version write names the settings it read: when a metadata change landed in between,
    it loses (Conflict) instead of writing the settings it read over the change."""
    read: SecretSettings = {"custom_metadata": {"owner": "a"}}
    for current in (0, 1):  # a metadata-only row, then one with a version
        path = f"meta-{current}"
        assert store.replace_secret(None, SecretRecord("ns", path, 0, 1.0, 1.0, read))
        if current:
            _write(store, path, 1)
            row = store.get_secret("ns", path)
            assert row is not None
            read = row.settings.copy()
        changed: SecretSettings = {"custom_metadata": {"owner": "b"}}
        row = store.get_secret("ns", path)
        assert row is not None
        assert store.replace_secret(row, SecretRecord("ns", path, current, 1.0, 2.0, changed))
        secret = SecretRecord("ns", path, current + 1, 1.0, 3.0, read)
        record = VersionRecord("ns", path, current + 1, b"env", "ns:ns#1", 3.0)
        try:
            store.write_version(
                secret, record, expected_current=current, keep=10, expected_settings=read
            )
        except Conflict:
            pass
        else:
            raise AssertionError("a version write undid a metadata change")
        stored = store.get_secret("ns", path)
        assert stored is not None and stored.current_version == current
        assert stored.settings == changed
        store.write_version(
            secret, record, expected_current=current, keep=10, expected_settings=changed
        )
        assert store.get_version("ns", path, current + 1) is not None


def check_leader(store: Store) -> None:
    assert store.try_leader("conformance")
    assert store.try_leader("conformance"), "the leader stays the leader"


def check_scans(store: Store) -> None:
    for path in ["a", "a/b", "a/c/d", "ab", "b", "é/x", "a/\u00ff"]:
        _write(store, path, 1)
    _write(store, "a/b", 1, ns="other")
    assert store.scan_paths("ns", "a/", "", 100) == ["a/b", "a/c/d", "a/\u00ff"]
    assert store.scan_paths("ns", "", "", 100) == sorted(
        ["a", "a/b", "a/c/d", "ab", "b", "é/x", "a/\u00ff"]
    )
    assert store.scan_paths("ns", "a/", "a/b", 1) == ["a/c/d"]
    assert [s.path for s in store.scan_secrets("ns", "a/c/d", 2)] == ["a/\u00ff", "ab"]


def check_key_scans(store: Store) -> None:
    _write(store, "x", 1, ref="ns:ns#1")
    _write(store, "x", 2, ref="ns:ns#2")
    _write(store, "y", 1, ref="ns:ns#1")
    assert store.count_by_key_ref("ns") == {"ns:ns#1": 2, "ns:ns#2": 1}
    old = store.scan_versions_not_under("ns", "ns:ns#2", ("", 0), 10)
    assert [(v.path, v.version) for v in old] == [("x", 1), ("y", 1)]
    assert [
        (v.path, v.version) for v in store.scan_versions_not_under("ns", "ns:ns#2", ("x", 1), 10)
    ] == [("y", 1)]
    assert store.replace_envelope(old[0], b"new", "ns:ns#2") is True
    assert store.replace_envelope(old[0], b"newer", "ns:ns#2") is False  # it changed
    assert store.count_by_key_ref("ns") == {"ns:ns#1": 1, "ns:ns#2": 2}
    store.delete_namespace_data("ns")
    assert store.count_by_key_ref("ns") == {} and store.get_secret("ns", "x") is None


def check_concurrent_writers(store: Store) -> None:
    """Many threads race to write the same next version: exactly one wins each round."""
    wins: list[int] = []
    lock = threading.Lock()

    def writer(ident: int) -> None:
        for _ in range(20):
            secret = store.get_secret("ns", "race")
            current = secret.current_version if secret else 0
            try:
                _write(store, "race", current + 1, keep=1000)
            except Conflict:
                continue
            with lock:
                wins.append(current + 1)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == list(range(1, len(wins) + 1)), "every version is won exactly once"
    assert [v.version for v in store.list_versions("ns", "race")] == sorted(wins)


CHECKS: list[Callable[[Store], None]] = [
    check_records,
    check_counters,
    check_versions_and_cas,
    check_keep_prunes_oldest,
    check_protected_versions_are_never_pruned,
    check_deletion_and_destroy,
    check_metadata_rows,
    check_replace_secret_is_compare_and_set,
    check_a_version_write_keeps_a_metadata_change_made_meanwhile,
    check_leader,
    check_scans,
    check_key_scans,
    check_concurrent_writers,
]


def run_all(make: Factory) -> None:
    for check in CHECKS:
        store = make()
        try:
            check(store)
        finally:
            store.close()
