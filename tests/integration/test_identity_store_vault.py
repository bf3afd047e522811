"""Vault's identity store through hvac, against strongroom and a real OpenBao side by side: an
entity's and its groups' policies open a path to a userpass login's token and close it again,
a disabled entity's token is refused, a merge carries a login over; each refusal answers the
same status and words as OpenBao; a caller without rights learns nothing; a disabled auth
method takes its aliases; no policy name or metadata value reaches the audit log in clear."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import hvac
import hvac.exceptions
import pytest

from tests.canary import find_canaries, read_tree
from tests.helpers import OpenBaoServer, StrongroomServer

ROOT = "identity-store-root"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    running = StrongroomServer(tmp_path_factory.mktemp("identity-store") / "data", ROOT).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def clients(server: StrongroomServer, openbao: OpenBaoServer) -> dict[str, hvac.Client]:
    pair = {
        "strongroom": hvac.Client(url=server.addr, token=ROOT),
        "openbao": hvac.Client(url=openbao.addr, token=openbao.root_token),
    }
    for root in pair.values():
        for mount in ("userpass", "userpass-b"):
            if f"{mount}/" not in root.sys.list_auth_methods()["data"]:
                root.sys.enable_auth_method("userpass", path=mount)
        root.sys.create_or_update_acl_policy(
            "team-read", 'path "secret/data/team/*" { capabilities = ["read"] }'
        )
        root.secrets.kv.v2.create_or_update_secret("team/db", {"password": "s3cret"})
    return pair


def _outcome(action: Callable[[], Any]) -> str:
    try:
        action()
    except hvac.exceptions.VaultError as exc:
        return f"{type(exc).__name__}: {exc.errors}"
    return "ok"


def _accessor(root: hvac.Client, mount: str = "userpass") -> str:
    return str(root.sys.list_auth_methods()["data"][f"{mount}/"]["accessor"])


def _login(root: hvac.Client, user: str, mount: str = "userpass") -> hvac.Client:
    root.auth.userpass.create_or_update_user(user, PASSWORD, mount_point=mount)
    client = hvac.Client(url=root.url)
    client.auth.userpass.login(user, PASSWORD, mount_point=mount)
    return client


def _reads(client: hvac.Client) -> str:
    return _outcome(lambda: client.secrets.kv.v2.read_secret_version("team/db"))


def _journey(root: hvac.Client) -> list[str]:
    identity = root.secrets.identity
    entity = identity.create_or_update_entity(name="alice")["data"]["id"]
    identity.create_or_update_entity_alias(
        name="alice", canonical_id=entity, mount_accessor=_accessor(root)
    )
    alice = _login(root, "alice")
    seen = [_reads(alice)]
    team = identity.create_or_update_group(name="team", member_entity_ids=[entity])["data"]["id"]
    org = identity.create_or_update_group(
        name="org", policies=["team-read"], member_group_ids=[team]
    )["data"]["id"]
    seen.append(_reads(alice))  # through the group above alice's group
    looked_up = alice.lookup_token()["data"]
    seen.append(f"{looked_up['entity_id'] == entity} {looked_up['identity_policies']}")
    read = identity.read_entity(entity)["data"]
    seen.append(f"{read['direct_group_ids'] == [team]} {read['inherited_group_ids'] == [org]}")
    identity.update_entity(entity, disabled=True)
    seen.append(_reads(alice).split(":")[0])
    identity.update_entity(entity, disabled=False)
    seen.append(_reads(alice))
    identity.update_group(team, name="team", member_entity_ids=[])
    seen.append(_reads(alice).split(":")[0])
    # A merge carries bob's login over to alice's entity, and her groups with it.
    identity.update_group(team, name="team", member_entity_ids=[entity])
    bob_entity = identity.create_or_update_entity(name="bob")["data"]["id"]
    identity.create_or_update_entity_alias(
        name="bob", canonical_id=bob_entity, mount_accessor=_accessor(root, "userpass-b")
    )
    bob = _login(root, "bob", "userpass-b")
    seen.append(_reads(bob).split(":")[0])
    identity.merge_entities(from_entity_ids=[bob_entity], to_entity_id=entity)
    seen.append(_reads(bob))
    aliases = identity.read_entity(entity)["data"]["aliases"]
    seen.append(str(sorted((a["name"], a["mount_type"], a["mount_path"]) for a in aliases)))
    for group in (org, team):
        identity.delete_group(group)
    identity.delete_entity(entity)
    return seen


def test_entity_and_group_policies_open_and_close_a_logins_paths_as_on_openbao(
    clients: dict[str, hvac.Client],
) -> None:
    seen = {side: _journey(root) for side, root in clients.items()}
    assert seen["strongroom"] == seen["openbao"]
    steps = [s.split(":")[0] for s in seen["strongroom"]]
    assert steps[:3] == ["Forbidden", "ok", "True ['team-read']"]  # the group above opened it
    assert steps[4:9] == ["Forbidden", "ok", "Forbidden", "Forbidden", "ok"]


def _refusals(root: hvac.Client) -> list[str]:
    identity = root.secrets.identity
    first = identity.create_or_update_entity(name="first")["data"]["id"]
    identity.create_or_update_entity(name="second")
    identity.create_or_update_entity_alias(
        name="carol", canonical_id=first, mount_accessor=_accessor(root)
    )
    child = identity.create_or_update_group(name="child")["data"]["id"]
    parent = identity.create_or_update_group(name="parent", member_group_ids=[child])["data"]["id"]
    external = identity.create_or_update_group(name="ext", group_type="external")["data"]["id"]
    adapter = root.adapter
    calls: list[Callable[[], Any]] = [
        lambda: adapter.post(f"/v1/identity/entity/id/{first}", json={"name": "second"}),
        lambda: adapter.post("/v1/identity/entity", json={"name": "x", "policies": ["root"]}),
        lambda: adapter.post("/v1/identity/entity", json={"id": "nope", "name": "y"}),
        lambda: adapter.post(
            "/v1/identity/entity-alias", json={"name": "z", "mount_accessor": "auth_nope_1"}
        ),
        lambda: adapter.post(
            "/v1/identity/entity-alias",
            json={"name": "dave", "mount_accessor": _accessor(root), "canonical_id": first},
        ),
        lambda: adapter.post("/v1/identity/entity-alias", json={"name": "z"}),
        lambda: adapter.post(f"/v1/identity/group/id/{child}", json={"type": "external"}),
        lambda: adapter.post("/v1/identity/group", json={"name": "c", "type": "cosmic"}),
        lambda: adapter.post(f"/v1/identity/group/id/{child}", json={"member_group_ids": [parent]}),
        lambda: adapter.post(
            f"/v1/identity/group/id/{external}", json={"member_entity_ids": [first]}
        ),
        lambda: adapter.post(
            f"/v1/identity/group/id/{external}", json={"member_group_ids": [child]}
        ),
        lambda: adapter.post(
            "/v1/identity/group-alias",
            json={"name": "g", "mount_accessor": _accessor(root), "canonical_id": child},
        ),
        lambda: adapter.post("/v1/identity/group-alias", json={"mount_accessor": "x"}),
        lambda: adapter.post("/v1/identity/lookup/entity", json={}),
        lambda: adapter.post("/v1/identity/lookup/entity", json={"id": first, "name": "first"}),
        lambda: adapter.post("/v1/identity/lookup/group", json={"alias_name": "x"}),
        lambda: adapter.post("/v1/identity/entity/merge", json={"from_entity_ids": [first]}),
        lambda: adapter.post(
            "/v1/identity/entity/merge", json={"to_entity_id": first, "from_entity_ids": [first]}
        ),
        lambda: adapter.post(
            "/v1/identity/entity/merge", json={"to_entity_id": first, "from_entity_ids": ["nope"]}
        ),
    ]
    seen = [_outcome(call) for call in calls]
    # what exists is found the same way, and what does not the same way
    seen.append(_outcome(lambda: identity.read_entity("00000000-0000-0000-0000-000000000000")))
    missing = adapter.post("/v1/identity/lookup/entity", json={"name": "nobody"})
    seen.append(str(missing.status_code))
    seen.append(_outcome(lambda: identity.delete_entity("00000000-0000-0000-0000-000000000000")))
    for group in (parent, child, external):
        identity.delete_group(group)
    for name in ("first", "second"):
        identity.delete_entity_by_name(name)
    return seen


def test_refusals_answer_as_openbao_does(clients: dict[str, hvac.Client]) -> None:
    seen = {side: _refusals(root) for side, root in clients.items()}
    for ours, theirs in zip(seen["strongroom"], seen["openbao"], strict=True):
        kind = theirs.split(":")[0]
        assert ours.split(":")[0] == kind, (ours, theirs)
        if kind == "InvalidRequest":  # a 400: the words match too, ids aside
            words = _UUID.sub("ID", theirs.split(": ", 1)[1].strip("[]'\""))
            assert words in _UUID.sub("ID", ours), (ours, theirs)


def _without_rights(root: hvac.Client) -> None:
    identity = root.secrets.identity
    real = identity.create_or_update_entity(name="hidden")["data"]["id"]
    nobody = _login(root, "nobody").secrets.identity
    answers = {
        _outcome(lambda: nobody.read_entity(entity_id))  # noqa: B023
        + _outcome(lambda: nobody.delete_entity(entity_id))  # noqa: B023
        for entity_id in (real, "00000000-0000-0000-0000-000000000000")
    }
    assert len(answers) == 1 and "Forbidden" in answers.pop()
    assert "Forbidden" in _outcome(nobody.list_entities)
    assert real in identity.list_entities()["data"]["keys"]  # the refused delete deleted nothing
    identity.delete_entity(real)


def test_a_caller_without_rights_learns_nothing(clients: dict[str, hvac.Client]) -> None:
    for root in clients.values():
        _without_rights(root)


def test_an_alias_never_outlives_its_auth_method(clients: dict[str, hvac.Client]) -> None:
    """A method enabled again at the same path is a new mount: the old aliases name nobody on
    it. OpenBao keeps them (its new mount has a new, random accessor); strongroom's accessor
    is derived from the path, so it deletes them with the method."""
    for side, root in clients.items():
        root.sys.enable_auth_method("approle", path="approle-gone")
        identity = root.secrets.identity
        made = identity.create_or_update_entity_alias(
            name="role-id", canonical_id=None, mount_accessor=_accessor(root, "approle-gone")
        )["data"]
        root.sys.disable_auth_method("approle-gone")
        root.sys.enable_auth_method("approle", path="approle-gone")
        found = root.adapter.post(
            "/v1/identity/lookup/entity",
            json={"alias_name": "role-id", "alias_mount_accessor": _accessor(root, "approle-gone")},
        )
        assert found.status_code == 204, side
        gone = _outcome(lambda: identity.read_entity_alias(made["id"]))  # noqa: B023
        assert gone.startswith("InvalidPath") or side == "openbao", gone
        root.sys.disable_auth_method("approle-gone")
        identity.delete_entity(made["canonical_id"])


def test_no_identity_value_reaches_disk_or_the_audit_log_in_clear(
    server: StrongroomServer, clients: dict[str, hvac.Client]
) -> None:
    """The identity store is a sealed record; its audit entries carry HMACs of every value."""
    root = clients["strongroom"]
    canary = "canary-4f1d9e"
    made = root.secrets.identity.create_or_update_entity(
        name=f"{canary}-name", policies=[f"{canary}-policy"], metadata={"team": f"{canary}-meta"}
    )["data"]["id"]
    root.secrets.identity.read_entity(made)
    assert b"identity/entity/id/" in (server.data_dir / "audit.log").read_bytes()  # scanned
    assert not find_canaries(read_tree(server.data_dir), [canary])
    root.secrets.identity.delete_entity(made)
