"""The identity store (auth/identity_store.py and its edits) on a real dev runtime: entity and
group policies reach a login's token at once and leave it at once, nested groups lend theirs, a
disabled entity's tokens are refused, a merged entity's tokens act as the one it joined, a
disabled auth method takes its aliases, the refusals change nothing, and every operation checks
the caller's rights before it looks anything up."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from strongroom.auth import Identity
from strongroom.auth.identity_model import MAX_IDENTITY_OBJECTS, IdentityData
from strongroom.auth.identity_store import IdentityStore
from strongroom.errors import AccessDenied, BadRequest, LimitExceeded, NotFound, Unauthenticated
from strongroom.server.runtime import Runtime

ROOT = Identity.system("root")
USERPASS = "auth_userpass"


@pytest.fixture
def runtime(dev_runtime: Runtime) -> Runtime:
    return dev_runtime


def _store(runtime: Runtime) -> IdentityStore:
    return runtime.services.identity


def _login(runtime: Runtime, name: str) -> str:
    token, _ = runtime.tokens.create(("default",), path="auth/userpass/login", alias=name)
    return token


def _entity(runtime: Runtime, name: str, alias: str = "", **fields: Any) -> str:
    entity, _ = _store(runtime).write_entity(ROOT, {"name": name, **fields})
    if alias:
        _store(runtime).write_alias(
            ROOT, {"name": alias, "mount_accessor": USERPASS, "canonical_id": entity.id}
        )
    return entity.id


def _policies(runtime: Runtime, token: str) -> tuple[str, ...]:
    return runtime.tokens.authenticate(token).policies


def test_entity_and_group_policies_reach_a_logins_token_and_leave_it_at_once(
    runtime: Runtime,
) -> None:
    alice = _entity(runtime, "alice", alias="alice", policies=["Reader", "reader"])
    token = _login(runtime, "alice")
    assert _policies(runtime, token) == ("default", "reader")  # lower case, each once
    team, _ = _store(runtime).write_group(
        ROOT, {"name": "team", "policies": ["team"], "member_entity_ids": [alice]}
    )
    org, _ = _store(runtime).write_group(
        ROOT, {"name": "org", "policies": ["org"], "member_group_ids": [team.id]}
    )
    assert _policies(runtime, token) == ("default", "reader", "team", "org")
    _store(runtime).write_group(ROOT, {"member_entity_ids": []}, group_id=team.id)
    assert _policies(runtime, token) == ("default", "reader")  # no 1 s cache in between
    # A login without an alias has no stored entity, and gets nothing more.
    assert _policies(runtime, _login(runtime, "bob")) == ("default",)
    assert org.id in _store(runtime).snapshot().groups


def test_a_disabled_entity_is_refused_and_a_deleted_one_adds_nothing(runtime: Runtime) -> None:
    alice = _entity(runtime, "alice", alias="alice", policies=["reader"])
    token = _login(runtime, "alice")
    _store(runtime).update_entity(ROOT, alice, {"disabled": True})
    with pytest.raises(Unauthenticated, match="entity is disabled"):
        runtime.tokens.authenticate(token)
    _store(runtime).update_entity(ROOT, alice, {"disabled": False})
    assert "reader" in _policies(runtime, token)
    _store(runtime).delete_entity(ROOT, entity_id=alice)
    assert _policies(runtime, token) == ("default",)
    assert not _store(runtime).snapshot().aliases  # its alias went with it


def test_a_merged_entitys_tokens_act_as_the_entity_it_joined(runtime: Runtime) -> None:
    keep = _entity(runtime, "keep", policies=["kept"])
    gone = _entity(runtime, "gone", alias="alice", policies=["dropped"])
    token = _login(runtime, "alice")
    group, _ = _store(runtime).write_group(
        ROOT, {"name": "g", "policies": ["grouped"], "member_entity_ids": [gone]}
    )
    _store(runtime).merge(ROOT, {"to_entity_id": keep, "from_entity_ids": gone})
    data = _store(runtime).snapshot()
    assert gone not in data.entities and data.entities[keep].merged_entity_ids == [gone]
    assert data.groups[group.id].member_entity_ids == [keep]
    assert _policies(runtime, token) == ("default", "kept", "grouped")
    assert _store(runtime).entity_for("auth/userpass/login", "alice") == keep


def test_merging_two_aliases_on_one_mount_needs_the_one_to_keep(runtime: Runtime) -> None:
    keep = _entity(runtime, "keep", alias="alice")
    gone = _entity(runtime, "gone", alias="alice-2")
    before = _store(runtime).snapshot()
    with pytest.raises(BadRequest, match="neither were present in conflicting_alias_ids"):
        _store(runtime).merge(ROOT, {"to_entity_id": keep, "from_entity_ids": [gone]})
    assert _store(runtime).snapshot().encode() == before.encode()  # nothing changed
    (kept,) = [a for a in before.aliases.values() if a.name == "alice-2"]
    _store(runtime).merge(
        ROOT,
        {"to_entity_id": keep, "from_entity_ids": [gone], "conflicting_alias_ids_to_keep": kept.id},
    )
    (alias,) = _store(runtime).snapshot().aliases.values()
    assert (alias.name, alias.canonical_id, alias.merged_from_canonical_ids) == (
        "alice-2",
        keep,
        [gone],
    )


def test_refusals_in_vaults_words_change_nothing(runtime: Runtime) -> None:
    store = _store(runtime)
    first = _entity(runtime, "first", alias="alice")
    _entity(runtime, "second")
    child, _ = store.write_group(ROOT, {"name": "child"})
    parent, _ = store.write_group(ROOT, {"name": "parent", "member_group_ids": [child.id]})
    before = store.snapshot().encode()
    refused: list[tuple[Callable[[], object], str]] = [
        (lambda: store.update_entity(ROOT, first, {"name": "second"}), "name is already in use"),
        (lambda: store.write_entity(ROOT, {"policies": ["root"]}), "policies cannot contain root"),
        (lambda: store.write_entity(ROOT, {"id": "nope"}), "entity not found from id"),
        (
            lambda: store.write_alias(ROOT, {"name": "x", "mount_accessor": "auth_nope"}),
            'invalid mount accessor "auth_nope"',
        ),
        (
            lambda: store.write_alias(
                ROOT, {"name": "other", "mount_accessor": USERPASS, "canonical_id": first}
            ),
            "Alias already exists for requested entity and mount accessor",
        ),
        (
            lambda: store.write_group(ROOT, {"type": "external"}, group_id=child.id),
            "group type cannot be changed",
        ),
        (lambda: store.write_group(ROOT, {"type": "cosmic"}), 'invalid group type "cosmic"'),
        (
            lambda: store.write_group(ROOT, {"member_group_ids": [parent.id]}, group_id=child.id),
            "cyclic relationship detected",
        ),
        (
            lambda: store.write_group(ROOT, {"member_entity_ids": ["nope"]}, group_id=child.id),
            'invalid entity ID "nope"',
        ),
        (
            lambda: store.write_group(ROOT, {"type": "external", "member_entity_ids": [first]}),
            "member entities can't be set manually for external groups",
        ),
        (
            lambda: store.write_entity(ROOT, {"metadata": {"vault-x": "1"}}),
            'prefix "vault-" is reserved',
        ),
        (lambda: store.write_entity(ROOT, {"name": "a/b"}), "without '/'"),
        (lambda: store.lookup_entity(ROOT, {}), "query parameter not supplied"),
        (
            lambda: store.lookup_entity(ROOT, {"id": first, "name": "first"}),
            "query parameter conflict",
        ),
        (
            lambda: store.lookup_group(ROOT, {"alias_name": "x"}),
            "both 'alias_name' and 'alias_mount_accessor' needs to be set",
        ),
    ]
    for action, words in refused:
        with pytest.raises(BadRequest, match=words):
            action()
    assert store.snapshot().encode() == before


def test_rights_are_checked_before_anything_is_looked_up(runtime: Runtime) -> None:
    """A caller without rights gets one answer whether the entity exists or not."""
    store = _store(runtime)
    real = _entity(runtime, "real", alias="alice")
    nobody = Identity("nobody", ("default",), runtime.policies.acl(("default",)))
    answers = set()
    actions: list[Callable[[str], object]] = [
        lambda i: store.read_entity(nobody, entity_id=i),
        lambda i: store.delete_entity(nobody, entity_id=i),
        lambda i: store.update_entity(nobody, i, {"policies": ["x"]}),
        lambda i: store.lookup_entity(nobody, {"id": i}),
    ]
    for entity_id in (real, "00000000-0000-0000-0000-000000000000"):
        for action in actions:
            with pytest.raises(AccessDenied) as refused:
                action(entity_id)
            answers.add(str(refused.value).replace(entity_id, "ID"))
    assert len(answers) == 4  # one per operation, the same for both ids
    with pytest.raises(AccessDenied):
        store.list_entities(nobody, by_name=False)
    with pytest.raises(NotFound):
        store.read_entity(ROOT, entity_id="00000000-0000-0000-0000-000000000000")


def test_a_disabled_auth_method_takes_its_aliases(runtime: Runtime) -> None:
    methods = runtime.services.auth_methods
    methods.enable(ROOT, "approle-ci", "approle")
    (mount,) = [m for m in methods.mounted() if m.path == "approle-ci"]
    store = _store(runtime)
    entity = _entity(runtime, "ci", alias="alice")
    store.write_alias(ROOT, {"name": "r", "mount_accessor": mount.accessor, "canonical_id": entity})
    external, _ = store.write_group(ROOT, {"name": "ext", "type": "external"})
    store.write_group_alias(
        ROOT, {"name": "devs", "mount_accessor": mount.accessor, "canonical_id": external.id}
    )
    methods.disable(ROOT, "approle-ci")
    data = store.snapshot()
    assert [a.mount_accessor for a in data.aliases.values()] == [USERPASS]
    assert not data.group_aliases and external.id in data.groups


def test_the_store_is_bounded(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("strongroom.auth.identity_model.MAX_IDENTITY_OBJECTS", 3)
    for name in ("a", "b", "c"):
        _entity(runtime, name)
    with pytest.raises(LimitExceeded, match="at most 3 entities"):
        _entity(runtime, "d")
    assert len(_store(runtime).snapshot().entities) == 3
    assert MAX_IDENTITY_OBJECTS == 10_000


def test_a_change_heard_while_reading_is_not_lost(runtime: Runtime) -> None:
    """Another node's change, heard while this node was reading the old document, outdates
    what was read: the next request reads again."""
    store = _store(runtime)
    _entity(runtime, "first")
    store.forget()
    records = store._records
    real_get = records.get

    def slow_get(name: str) -> IdentityData | None:
        found = real_get(name)
        store.forget()  # the notification arrives while this read is under way
        return found

    records.get = slow_get  # type: ignore[method-assign]
    store.snapshot()
    records.get = real_get  # type: ignore[method-assign]
    assert store._snapshot is None


def test_a_logins_group_names_bring_external_groups_policies(runtime: Runtime) -> None:
    store = _store(runtime)
    external, _ = store.write_group(ROOT, {"name": "devs", "type": "external", "policies": ["dev"]})
    store.write_group(ROOT, {"name": "all", "policies": ["all"], "member_group_ids": [external.id]})
    store.write_group_alias(
        ROOT, {"name": "developers", "mount_accessor": USERPASS, "canonical_id": external.id}
    )
    token, info = runtime.tokens.create(
        ("default",), path="auth/userpass/login", group_aliases=("developers", "unknown")
    )
    assert info.groups == (external.id,) and not info.entity
    assert _policies(runtime, token) == ("default", "dev", "all")
    # Matched at login, as the entity is: an alias made later names nobody's existing token.
    later, _ = store.write_group(ROOT, {"name": "ops", "type": "external", "policies": ["ops"]})
    store.write_group_alias(
        ROOT, {"name": "unknown", "mount_accessor": USERPASS, "canonical_id": later.id}
    )
    assert _policies(runtime, token) == ("default", "dev", "all")
    store.delete_group(ROOT, group_id=external.id)
    assert _policies(runtime, token) == ("default",)


def test_a_write_by_name_acts_on_that_name_only(runtime: Runtime) -> None:
    """Rights on ``identity/entity/name/mine`` (or a group's name) never reach another entity
    through an ``id`` in the body."""
    store = _store(runtime)
    other = _entity(runtime, "other", policies=["other"])
    group, _ = store.write_group(ROOT, {"name": "other-group", "policies": ["other"]})
    runtime.policies.write(
        "mine",
        'path "identity/entity/name/mine" { capabilities = ["update"] }\n'
        'path "identity/group/name/mine" { capabilities = ["update"] }',
    )
    caller = Identity("caller", ("mine",), runtime.policies.acl(("mine",)))
    store.write_entity(caller, {"id": other, "policies": ["root-ish"]}, by_name="mine")
    store.write_group(caller, {"id": group.id, "policies": ["root-ish"]}, by_name="mine")
    data = store.snapshot()
    assert data.entities[other].name == "other" and data.entities[other].policies == ["other"]
    assert data.groups[group.id].policies == ["other"]
    assert data.entity_named("mine") is not None and data.group_named("mine") is not None
