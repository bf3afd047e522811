"""Two nodes on one PostgreSQL database: a change on one reaches the other's caches through
LISTEN/NOTIFY well before the caches would expire (1 s)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from strongroom.auth import Identity
from strongroom.config import ServerSettings
from strongroom.errors import AccessDenied, DecryptionError, NotFound, Unauthenticated
from strongroom.server.node import Node
from strongroom.server.runtime import Runtime

pytestmark = pytest.mark.postgres
ROOT = Identity.system("root")


@pytest.fixture
def nodes(postgres_url: str, tmp_path: Path) -> Iterator[tuple[Runtime, Runtime]]:
    settings = ServerSettings(tmp_path, dev=True, root_token="multi-root", store_url=postgres_url)
    first = Node(settings)
    second = Node(settings)  # the same database and key file: a second server node
    try:
        yield first.require_runtime(), second.require_runtime()
    finally:
        first.close()
        second.close()


def _within(seconds: float, check: Callable[[], bool]) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if check():
            return time.monotonic() - started
        time.sleep(0.01)
    raise AssertionError(f"not seen within {seconds} s")


def _rejected(runtime: Runtime, token: str) -> bool:
    try:
        runtime.tokens.authenticate(token)
    except Unauthenticated:
        return True
    return False


def test_a_revoked_token_stops_working_on_the_other_node(nodes: tuple[Runtime, Runtime]) -> None:
    a, b = nodes
    token, info = a.tokens.create(("default",), display_name="app")
    b.tokens.authenticate(token)  # now in b's 1 s cache
    a.tokens.revoke(info.accessor)
    assert _within(0.5, lambda: _rejected(b, token)) < 0.5


def test_a_policy_change_reaches_the_other_node(nodes: tuple[Runtime, Runtime]) -> None:
    a, b = nodes
    a.policies.write("app", 'path "secret/data/shared" { capabilities = ["read"] }')
    a.secrets.put(ROOT, "secret", "shared", {"v": 1})
    token, _ = a.tokens.create(("app",), display_name="app")
    identity = b.tokens.authenticate(token)
    assert b.secrets.get(identity, "secret", "shared").data == {"v": 1}
    a.policies.write("app", 'path "secret/data/other" { capabilities = ["read"] }')

    def denied() -> bool:
        try:
            b.secrets.get(b.tokens.authenticate(token), "secret", "shared")
        except AccessDenied:
            return True
        return False

    assert _within(0.5, denied) < 0.5


def test_an_entitys_policies_change_on_the_other_node_at_once(
    nodes: tuple[Runtime, Runtime],
) -> None:
    """Identity policies are read from each node's copy of the identity store, which a change
    on any node drops everywhere (and the token caches with it)."""
    a, b = nodes
    a.policies.write("team", 'path "secret/data/team" { capabilities = ["read"] }')
    a.secrets.put(ROOT, "secret", "team", {"v": 1})
    entity, _ = a.services.identity.write_entity(ROOT, {"name": "alice", "policies": ["team"]})
    a.services.identity.write_alias(
        ROOT, {"name": "alice", "mount_accessor": "auth_userpass", "canonical_id": entity.id}
    )
    token, _ = b.tokens.create(("default",), path="auth/userpass/login", alias="alice")
    assert b.secrets.get(b.tokens.authenticate(token), "secret", "team").data == {"v": 1}
    a.services.identity.update_entity(ROOT, entity.id, {"policies": []})

    def denied() -> bool:
        try:
            b.secrets.get(b.tokens.authenticate(token), "secret", "team")
        except AccessDenied:
            return True
        return False

    assert _within(0.5, denied) < 0.5
    a.services.identity.update_entity(ROOT, entity.id, {"disabled": True})
    assert _within(0.5, lambda: _rejected(b, token)) < 0.5


def test_keyring_rotation_and_deletion_reach_the_other_node(
    nodes: tuple[Runtime, Runtime],
) -> None:
    a, b = nodes
    a.namespaces.create(ROOT, "team")
    b.secrets.put(ROOT, "team", "k", {"v": 1})  # b has the keyring cached now
    a.namespaces.rotate(ROOT, "team")
    _within(0.5, lambda: "team" not in b.keyrings._keyrings)
    assert b.secrets.put(ROOT, "team", "k", {"v": 2}).version == 2
    versions = b.store.list_versions("team", "k")
    assert versions[-1].key_ref == "ns:team#2", "b encrypts with the new term at once"
    a.namespaces.delete(ROOT, "team")

    def gone() -> bool:
        try:
            b.secrets.get(ROOT, "team", "k")
        except (NotFound, DecryptionError):
            return True
        return False

    assert _within(0.5, gone) < 0.5


def test_two_nodes_migrating_an_old_store_at_once(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 9, finding 1: existing stores migrate on start, and on PostgreSQL two nodes may
    start together: every step is a compare-and-set, so both come up and nothing is lost."""
    import threading

    from tests.legacy import check_migrated, write_old_format_store

    settings = ServerSettings(
        tmp_path,
        dev=True,
        root_token="multi-root",
        store_url=postgres_url,
        audit_file=tmp_path / "audit.log",
    )
    old = write_old_format_store(settings, "multi-root", monkeypatch)
    started: list[Node] = []
    failed: list[BaseException] = []

    def start(name: str) -> None:
        try:
            started.append(Node(replace(settings, node_name=name)))
        except BaseException as exc:  # the test reports it below
            failed.append(exc)

    threads = [threading.Thread(target=start, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert not failed and len(started) == 2, failed
        for node in started:
            # One audit file on one machine for both nodes here: their chains interleave in it.
            check_migrated(settings, "multi-root", old, node, audit=False)
    finally:
        for node in started:
            node.close()


def test_each_node_writes_its_own_audit_chain(postgres_url: str, tmp_path: Path) -> None:
    """Two nodes writing one chain would break it (and, for a store sink, overwrite each
    other's entries): the second is refused unless each node has its own --node-name."""
    from strongroom.errors import Conflict

    settings = ServerSettings(tmp_path, dev=True, root_token="multi-root", store_url=postgres_url)
    first = Node(settings)
    try:
        first.require_runtime().audit.enable("db", "store")
        with pytest.raises(Conflict, match="--node-name"):
            Node(settings)
    finally:
        first.close()
    named = [Node(replace(settings, node_name=name)) for name in ("a", "b")]
    try:
        for round_ in range(3):
            for node in named:
                node.require_runtime().audit.log({"type": "test", "n": round_}, sensitive=())
        for node in named:
            sink = node.require_runtime().audit.sink("db")
            result = sink.verify()
            # A request's pair, the sink's first entry, and the entry naming the log's format.
            assert result.ok and result.entries == 4, (sink.chain, result)
    finally:
        for node in named:
            node.close()
