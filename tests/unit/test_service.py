"""KV v2 semantics, keyrings and rewrap, through the service with real SQLite and the local KMS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from strongroom.auth import Identity
from strongroom.clock import ManualClock
from strongroom.config import ServerSettings
from strongroom.errors import (
    AccessDenied,
    BadRequest,
    CheckAndSetMismatch,
    DecryptionError,
    LimitExceeded,
    NotFound,
    SecretDeleted,
)
from strongroom.policy import compile_acl, parse_policy
from strongroom.server.node import Node
from strongroom.server.runtime import Runtime

ROOT = Identity.system("root")


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    node = Node(ServerSettings(tmp_path, dev=True, root_token="t"), ManualClock())
    yield node.require_runtime()
    node.close()


def test_versions_read_latest_and_by_number(rt: Runtime) -> None:
    kv = rt.secrets
    assert kv.put(ROOT, "secret", "app/db", {"pw": "one"}).version == 1
    assert kv.put(ROOT, "secret", "app/db", {"pw": "two"}).version == 2
    assert kv.get(ROOT, "secret", "app/db").data == {"pw": "two"}
    assert kv.get(ROOT, "secret", "app/db", version=1).data == {"pw": "one"}
    with pytest.raises(NotFound):
        kv.get(ROOT, "secret", "app/db", version=7)


def test_check_and_set(rt: Runtime) -> None:
    kv = rt.secrets
    kv.put(ROOT, "secret", "c", {"a": 1}, cas=0)
    with pytest.raises(CheckAndSetMismatch, match="did not match the current version"):
        kv.put(ROOT, "secret", "c", {"a": 2}, cas=0)
    kv.put(ROOT, "secret", "c", {"a": 2}, cas=1)
    kv.write_metadata(ROOT, "secret", "c", cas_required=True)
    with pytest.raises(BadRequest, match="check-and-set parameter required"):
        kv.put(ROOT, "secret", "c", {"a": 3})
    assert kv.get(ROOT, "secret", "c").data == {"a": 2}


def test_patch_merges_and_null_removes(rt: Runtime) -> None:
    kv = rt.secrets
    kv.put(ROOT, "secret", "p", {"a": "1", "b": {"x": 1, "y": 2}})
    kv.patch(ROOT, "secret", "p", {"b": {"y": None, "z": 3}, "c": "new"})
    assert kv.get(ROOT, "secret", "p").data == {"a": "1", "b": {"x": 1, "z": 3}, "c": "new"}
    with pytest.raises(NotFound):
        kv.patch(ROOT, "secret", "missing", {"a": 1})


def test_soft_delete_undelete_destroy_and_recreate(rt: Runtime) -> None:
    kv = rt.secrets
    kv.put(ROOT, "secret", "d", {"v": 1})
    kv.put(ROOT, "secret", "d", {"v": 2})
    kv.delete(ROOT, "secret", "d")
    with pytest.raises(SecretDeleted) as caught:
        kv.get(ROOT, "secret", "d")
    assert caught.value.details["metadata"]["version"] == 2
    assert kv.put(ROOT, "secret", "d", {"v": 3}).version == 3  # soft delete never blocks writes
    kv.undelete(ROOT, "secret", "d", [2])
    assert kv.get(ROOT, "secret", "d", version=2).data == {"v": 2}
    kv.destroy(ROOT, "secret", "d", [1])
    with pytest.raises(SecretDeleted):
        kv.get(ROOT, "secret", "d", version=1)
    assert [v.state for v in kv.history(ROOT, "secret", "d")] == ["destroyed", "live", "live"]
    kv.delete_all(ROOT, "secret", "d")
    with pytest.raises(NotFound):
        kv.metadata(ROOT, "secret", "d")
    assert kv.put(ROOT, "secret", "d", {"v": "again"}).version == 1


def test_rollback_writes_old_data_as_new_version(rt: Runtime) -> None:
    kv = rt.secrets
    kv.put(ROOT, "secret", "r", {"v": 1})
    kv.put(ROOT, "secret", "r", {"v": 2})
    assert kv.rollback(ROOT, "secret", "r", 1).version == 3
    assert kv.get(ROOT, "secret", "r").data == {"v": 1}


def test_max_versions_keeps_the_newest(rt: Runtime) -> None:
    kv = rt.secrets
    kv.write_metadata(ROOT, "secret", "m", max_versions=2, custom_metadata={"owner": "team-a"})
    for i in range(5):
        kv.put(ROOT, "secret", "m", {"i": i})
    meta = kv.metadata(ROOT, "secret", "m")
    assert [v.version for v in meta.versions] == [4, 5] and meta.oldest_version == 4
    assert meta.custom_metadata == {"owner": "team-a"}


def test_list_one_level_recursive_and_search(rt: Runtime) -> None:
    kv = rt.secrets
    for path in ["app/db", "app/api", "app/deep/x", "app/deep/y", "other", "apple"]:
        kv.put(ROOT, "secret", path, {"k": "v"})
    kv.write_metadata(ROOT, "secret", "app/api", custom_metadata={"owner": "payments"})
    assert rt.services.listing.list_keys(ROOT, "secret") == ["app/", "apple", "other"]
    assert rt.services.listing.list_keys(ROOT, "secret", "app") == ["api", "db", "deep/"]
    page, cursor = rt.services.listing.list_recursive(ROOT, "secret", "app", limit=2)
    assert page == ["app/api", "app/db"] and cursor and "app/db" not in cursor  # opaque
    rest, cursor = rt.services.listing.list_recursive(ROOT, "secret", "app", after=cursor, limit=10)
    assert rest == ["app/deep/x", "app/deep/y"] and cursor == ""
    assert rt.services.listing.search(ROOT, "secret", name="DEEP") == (
        ["app/deep/x", "app/deep/y"],
        "",
    )
    assert rt.services.listing.search(ROOT, "secret", name="app/*/x") == (["app/deep/x"], "")
    assert rt.services.listing.search(ROOT, "secret", metadata={"owner": "payments"}) == (
        ["app/api"],
        "",
    )
    assert rt.services.listing.search(ROOT, "secret", prefix="app", name="pl") == ([], "")
    first, cursor = rt.services.listing.search(ROOT, "secret", name="app", limit=1)
    assert first == ["app/api"] and cursor
    second, cursor = rt.services.listing.search(ROOT, "secret", name="app", limit=2, after=cursor)
    assert second == ["app/db", "app/deep/x"] and cursor


@pytest.mark.parametrize(
    "path", ["", "/a", "a/", "a//b", "a/./b", "a/../b", "..", "a\x00b", "a%2Fb", "a\\b", "a\u202eb"]
)
def test_non_canonical_paths_are_refused(rt: Runtime, path: str) -> None:
    with pytest.raises(BadRequest):
        rt.secrets.put(ROOT, "secret", path, {"a": "b"})


def test_limits_are_enforced(rt: Runtime) -> None:
    kv, limits = rt.secrets, rt.settings.limits
    with pytest.raises(LimitExceeded):
        kv.put(ROOT, "secret", "big", {"v": "x" * (limits.max_value_bytes + 1)})
    with pytest.raises(LimitExceeded):
        kv.put(ROOT, "secret", "keys", {str(i): i for i in range(limits.max_keys_per_secret + 1)})
    with pytest.raises(BadRequest):
        kv.put(ROOT, "secret", "x" * (limits.max_path_bytes + 1), {"a": 1})
    with pytest.raises(BadRequest):
        # a caller outside the type checker (a custom rotator) still gets the 400
        kv.put(ROOT, "secret", "list", ["not", "an", "object"])  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        kv.metadata(ROOT, "secret", "big")


def test_policies_deny_by_default(rt: Runtime) -> None:
    policy = parse_policy("reader", 'path "secret/*" { capabilities = ["read"] }')
    reader = Identity("reader", ("reader",), compile_acl([policy]))
    rt.secrets.put(ROOT, "secret", "a", {"k": "v"})
    assert reader.allows("read", "secret/a") and not reader.allows("read", "prod/a")
    assert rt.secrets.get(reader, "secret", "a").data == {"k": "v"}
    with pytest.raises(AccessDenied):
        rt.secrets.put(reader, "secret", "a", {"k": "w"})
    with pytest.raises(AccessDenied):
        rt.namespaces.delete(reader, "secret")


def test_rotate_rewrap_and_status(rt: Runtime) -> None:
    for i in range(25):
        rt.secrets.put(ROOT, "secret", f"s{i}", {"i": i})
    rt.namespaces.rotate(ROOT, "secret")
    status = rt.namespaces.status(ROOT, "secret")
    assert [(t.term, t.active, t.versions_in_use) for t in status] == [(1, False, 25), (2, True, 0)]
    progress = rt.namespaces.rewrap(ROOT, "secret", batch_size=10)
    assert (progress.rewrapped, progress.remaining, progress.done) == (10, 15, False)
    # A new service object (a restart) resumes from the stored cursor.
    node = Node(rt.settings, ManualClock())
    again = node.require_runtime()
    while not (progress := again.namespaces.rewrap(ROOT, "secret", batch_size=10)).done:
        pass
    assert progress.remaining == 0
    assert [t.versions_in_use for t in again.namespaces.status(ROOT, "secret")] == [0, 25]
    assert all(again.secrets.get(ROOT, "secret", f"s{i}").data == {"i": i} for i in range(25))
    node.close()


def test_automatic_rotation_after_the_encryption_budget(tmp_path: Path) -> None:
    settings = ServerSettings(tmp_path, dev=True, root_token="t", rotate_after_encryptions=1500)
    node = Node(settings, ManualClock())
    runtime = node.require_runtime()
    for _ in range(2100):
        runtime.keyrings.term_for_encryption("secret")
    assert runtime.keyrings.get("secret").active.number == 2
    node.close()


def test_every_term_gets_the_same_small_budget_and_status_counts_encryptions(
    tmp_path: Path,
) -> None:
    """Issue 9, finding 22: with N=3 the second term took 10 writes, and status said 2048."""
    settings = ServerSettings(tmp_path, dev=True, root_token="t", rotate_after_encryptions=3)
    node = Node(settings, ManualClock())
    runtime = node.require_runtime()
    terms = [runtime.keyrings.term_for_encryption("secret").number for _ in range(10)]
    assert terms == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4]
    status = runtime.namespaces.status(ROOT, "secret")
    assert [t.encryptions for t in status] == [3, 3, 3, 1]
    node.close()


def test_deleting_a_namespace_shreds_its_keyring(rt: Runtime) -> None:
    rt.namespaces.create(ROOT, "staging")
    rt.secrets.put(ROOT, "staging", "a", {"k": "v"})
    assert rt.secrets.get(ROOT, "staging", "a").data == {"k": "v"}  # its DEK is now cached
    record = rt.store.get_version("staging", "a", 1)
    assert record is not None and record.envelope is not None
    secret = rt.store.get_secret("staging", "a")
    rt.namespaces.delete(ROOT, "staging")
    with pytest.raises(NotFound):
        rt.secrets.get(ROOT, "staging", "a")
    with pytest.raises(DecryptionError):
        rt.keyrings.resolve(record.key_ref)
    # Re-creating the name makes a new keyring: the old envelope, put back in its old place by
    # someone with database access, stays unreadable (no cached DEK survives the shredding).
    rt.namespaces.create(ROOT, "staging")
    assert secret is not None
    rt.store.write_version(secret, record, expected_current=0, keep=10)
    with pytest.raises(DecryptionError):
        rt.secrets.get(ROOT, "staging", "a")


def test_an_envelope_moved_to_another_path_or_version_does_not_open(rt: Runtime) -> None:
    rt.secrets.put(ROOT, "secret", "a", {"k": "A"})
    rt.secrets.put(ROOT, "secret", "b", {"k": "B"})
    rt.secrets.put(ROOT, "secret", "b", {"k": "B2"})
    a = rt.store.get_version("secret", "a", 1)
    b1 = rt.store.get_version("secret", "b", 1)
    b2 = rt.store.get_version("secret", "b", 2)
    assert a and b1 and b2 and a.envelope
    assert rt.store.replace_envelope(b1, a.envelope, a.key_ref)
    with pytest.raises(DecryptionError):
        rt.secrets.get(ROOT, "secret", "b", version=1)
    assert rt.store.replace_envelope(b2, b1.envelope or b"", b1.key_ref)
    with pytest.raises(DecryptionError):
        rt.secrets.get(ROOT, "secret", "b", version=2)


def test_a_policy_change_applies_at_once_to_cached_tokens(rt: Runtime) -> None:
    rt.policies.write("app", 'path "secret/data/shared" { capabilities = ["read"] }')
    rt.secrets.put(ROOT, "secret", "shared", {"v": 1})
    token, _ = rt.tokens.create(("app",), display_name="app")
    assert rt.secrets.get(rt.tokens.authenticate(token), "secret", "shared").data == {"v": 1}
    rt.policies.write("app", 'path "secret/data/other" { capabilities = ["read"] }')
    with pytest.raises(AccessDenied):  # the token was cached with the old ACL
        rt.secrets.get(rt.tokens.authenticate(token), "secret", "shared")
