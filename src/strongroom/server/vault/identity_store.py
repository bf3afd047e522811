"""Vault's identity store under ``/v1/identity`` (auth/identity_store.py): entities, entity
aliases, groups, group aliases and their look-ups, in Vault's shapes (times formatted here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strongroom.auth.identity_model import Entity, EntityAlias, Group, GroupAlias, IdentityData
from strongroom.auth.mounts import AuthMount
from strongroom.server.routes import Answer, Call, Route
from strongroom.server.vault.wire import envelope, list_answer, writes
from strongroom.types import format_time

__all__ = [
    "IDENTITY_STORE_ROUTES",
    "delete_alias",
    "delete_entities",
    "delete_entity",
    "delete_group",
    "delete_group_alias",
    "list_aliases",
    "list_group_aliases",
    "lookup_entity",
    "lookup_group",
    "merge_entities",
    "read_alias",
    "read_entity",
    "read_group",
    "read_group_alias",
    "update_entity",
    "write_alias",
    "write_entity",
    "write_group",
    "write_group_alias",
]

_I = "/v1/identity"


_Mounts = Mapping[str, AuthMount]  # accessor -> method, read once per request


def _mount(mounts: _Mounts, accessor: str) -> dict[str, str]:
    method = mounts.get(accessor)
    if method is None:
        return {}
    return {"mount_type": method.kind, "mount_path": f"auth/{method.path}/"}


def _alias(mounts: _Mounts, alias: EntityAlias) -> dict[str, Any]:
    return {
        "id": alias.id,
        "canonical_id": alias.canonical_id,
        "mount_accessor": alias.mount_accessor,
        "name": alias.name,
        "metadata": None,
        "custom_metadata": alias.custom_metadata,
        "merged_from_canonical_ids": alias.merged_from_canonical_ids or None,
        "creation_time": format_time(alias.created),
        "last_update_time": format_time(alias.updated),
        "local": False,
        "namespace_id": "root",
        **_mount(mounts, alias.mount_accessor),
    }


def _entity(call: Call, entity: Entity) -> dict[str, Any]:
    data: IdentityData = call.services.identity.snapshot()
    mounts = call.services.identity.mounts()
    direct, inherited = data.groups_of(entity.id)
    return {
        "id": entity.id,
        "name": entity.name,
        "metadata": entity.metadata or None,
        "policies": entity.policies,
        "disabled": entity.disabled,
        "merged_entity_ids": entity.merged_entity_ids or None,
        "namespace_id": "root",
        "creation_time": format_time(entity.created),
        "last_update_time": format_time(entity.updated),
        "aliases": [_alias(mounts, a) for a in data.aliases_of(entity.id)],
        "direct_group_ids": direct,
        "inherited_group_ids": inherited,
        "group_ids": [*direct, *inherited],
    }


def _group_alias(mounts: _Mounts, alias: GroupAlias | None) -> dict[str, Any]:
    if alias is None:
        return {}
    return {
        "id": alias.id,
        "canonical_id": alias.canonical_id,
        "mount_accessor": alias.mount_accessor,
        "name": alias.name,
        "metadata": None,
        "merged_from_canonical_ids": None,
        "creation_time": format_time(alias.created),
        "last_update_time": format_time(alias.updated),
        **_mount(mounts, alias.mount_accessor),
    }


def _group(call: Call, group: Group) -> dict[str, Any]:
    data: IdentityData = call.services.identity.snapshot()
    return {
        "id": group.id,
        "name": group.name,
        "type": group.type,
        "policies": group.policies,
        "metadata": group.metadata or None,
        "member_entity_ids": group.member_entity_ids or None,
        "member_group_ids": data.member_groups(group.id) or None,
        "parent_group_ids": group.parent_group_ids or None,
        "creation_time": format_time(group.created),
        "last_update_time": format_time(group.updated),
        "modify_index": group.modify_index,
        "namespace_id": "root",
        "alias": _group_alias(call.services.identity.mounts(), data.group_alias_of(group.id)),
    }


def _listed(call: Call, keys: list[str], info: dict[str, Any]) -> Answer:
    if not keys:
        return list_answer(call, [])
    return envelope(call, {"keys": keys, "key_info": info})


# -- entities
def write_entity(call: Call) -> Answer:
    name = call.params.get("name", "")
    entity, created = call.services.identity.write_entity(call.identity, call.json(), by_name=name)
    if not created:
        return Answer.empty()
    return envelope(call, {"id": entity.id, "name": entity.name, "aliases": None})


def update_entity(call: Call) -> Answer:
    call.services.identity.update_entity(call.identity, call.params["id"], call.json())
    return Answer.empty()


def read_entity(call: Call) -> Answer:
    found = call.services.identity.read_entity(
        call.identity, entity_id=call.params.get("id", ""), name=call.params.get("name", "")
    )
    return envelope(call, _entity(call, found))


def delete_entity(call: Call) -> Answer:
    call.services.identity.delete_entity(
        call.identity, entity_id=call.params.get("id", ""), name=call.params.get("name", "")
    )
    return Answer.empty()


def delete_entities(call: Call) -> Answer:
    call.services.identity.delete_entities(call.identity, call.json())
    return Answer.empty()


def merge_entities(call: Call) -> Answer:
    call.services.identity.merge(call.identity, call.json())
    return Answer.empty()


def _list_entities(by_name: bool) -> Any:
    def handler(call: Call) -> Answer:
        found = call.services.identity.list_entities(call.identity, by_name=by_name)
        data: IdentityData = call.services.identity.snapshot()
        mounts = call.services.identity.mounts()
        info = {}
        for entity in found:
            entry: dict[str, Any] = {"name": entity.name}
            aliases = data.aliases_of(entity.id)
            if aliases:
                entry["aliases"] = [
                    {
                        "id": a.id,
                        "name": a.name,
                        "mount_accessor": a.mount_accessor,
                        **_mount(mounts, a.mount_accessor),
                    }
                    for a in aliases
                ]
            info[entity.id] = entry
        return _listed(call, [e.name if by_name else e.id for e in found], info)

    handler.__name__ = "list_entities_by_name" if by_name else "list_entities"
    return handler


# -- entity aliases
def write_alias(call: Call) -> Answer:
    alias = call.services.identity.write_alias(
        call.identity, call.json(), call.params.get("id", "")
    )
    return envelope(call, {"id": alias.id, "canonical_id": alias.canonical_id})


def read_alias(call: Call) -> Answer:
    found = call.services.identity.read_alias(call.identity, call.params["id"])
    return envelope(call, _alias(call.services.identity.mounts(), found))


def delete_alias(call: Call) -> Answer:
    call.services.identity.delete_alias(call.identity, call.params["id"])
    return Answer.empty()


def list_aliases(call: Call) -> Answer:
    found = call.services.identity.list_aliases(call.identity)
    mounts = call.services.identity.mounts()
    info = {a.id: {k: v for k, v in _alias(mounts, a).items() if k != "id"} for a in found}
    return _listed(call, [a.id for a in found], info)


# -- groups
def write_group(call: Call) -> Answer:
    group, created = call.services.identity.write_group(
        call.identity,
        call.json(),
        group_id=call.params.get("id", ""),
        by_name=call.params.get("name", ""),
    )
    if not created:
        return Answer.empty()
    return envelope(call, {"id": group.id, "name": group.name})


def read_group(call: Call) -> Answer:
    found = call.services.identity.read_group(
        call.identity, group_id=call.params.get("id", ""), name=call.params.get("name", "")
    )
    return envelope(call, _group(call, found))


def delete_group(call: Call) -> Answer:
    call.services.identity.delete_group(
        call.identity, group_id=call.params.get("id", ""), name=call.params.get("name", "")
    )
    return Answer.empty()


def _list_groups(by_name: bool) -> Any:
    def handler(call: Call) -> Answer:
        found = call.services.identity.list_groups(call.identity, by_name=by_name)
        info = {
            g.id: {
                "name": g.name,
                "num_member_entities": len(g.member_entity_ids),
                "num_parent_groups": len(g.parent_group_ids),
            }
            for g in found
        }
        return _listed(call, [g.name if by_name else g.id for g in found], info)

    handler.__name__ = "list_groups_by_name" if by_name else "list_groups"
    return handler


# -- group aliases
def write_group_alias(call: Call) -> Answer:
    alias = call.services.identity.write_group_alias(
        call.identity, call.json(), call.params.get("id", "")
    )
    return envelope(call, {"id": alias.id, "canonical_id": alias.canonical_id})


def read_group_alias(call: Call) -> Answer:
    found = call.services.identity.read_group_alias(call.identity, call.params["id"])
    return envelope(call, _group_alias(call.services.identity.mounts(), found))


def delete_group_alias(call: Call) -> Answer:
    call.services.identity.delete_group_alias(call.identity, call.params["id"])
    return Answer.empty()


def list_group_aliases(call: Call) -> Answer:
    found = call.services.identity.list_group_aliases(call.identity)
    mounts = call.services.identity.mounts()
    info = {a.id: {k: v for k, v in _group_alias(mounts, a).items() if k != "id"} for a in found}
    return _listed(call, [a.id for a in found], info)


# -- look-ups: the entity or group found, or 204
def lookup_entity(call: Call) -> Answer:
    found = call.services.identity.lookup_entity(call.identity, call.json())
    return envelope(call, _entity(call, found)) if found is not None else Answer.empty()


def lookup_group(call: Call) -> Answer:
    found = call.services.identity.lookup_group(call.identity, call.json())
    return envelope(call, _group(call, found)) if found is not None else Answer.empty()


def _crud(path: str, op: str, write: Any, read: Any, delete: Any) -> tuple[Route, ...]:
    return (
        *writes(path, write, f"identityWrite{op}"),
        Route("GET", path, read, f"identityRead{op}"),
        Route("DELETE", path, delete, f"identityDelete{op}"),
    )


IDENTITY_STORE_ROUTES = (
    *writes(f"{_I}/entity", write_entity, "identityWriteEntity"),
    *writes(f"{_I}/entity/merge", merge_entities, "identityMergeEntities"),
    *writes(f"{_I}/entity/batch-delete", delete_entities, "identityBatchDeleteEntities"),
    Route("LIST", f"{_I}/entity/id", _list_entities(False), "identityListEntities"),
    *_crud(f"{_I}/entity/id/{{id}}", "EntityById", update_entity, read_entity, delete_entity),
    Route("LIST", f"{_I}/entity/name", _list_entities(True), "identityListEntitiesByName"),
    *_crud(f"{_I}/entity/name/{{name}}", "EntityByName", write_entity, read_entity, delete_entity),
    *writes(f"{_I}/entity-alias", write_alias, "identityWriteEntityAlias"),
    Route("LIST", f"{_I}/entity-alias/id", list_aliases, "identityListEntityAliases"),
    *_crud(f"{_I}/entity-alias/id/{{id}}", "EntityAlias", write_alias, read_alias, delete_alias),
    *writes(f"{_I}/group", write_group, "identityWriteGroup"),
    Route("LIST", f"{_I}/group/id", _list_groups(False), "identityListGroups"),
    *_crud(f"{_I}/group/id/{{id}}", "GroupById", write_group, read_group, delete_group),
    Route("LIST", f"{_I}/group/name", _list_groups(True), "identityListGroupsByName"),
    *_crud(f"{_I}/group/name/{{name}}", "GroupByName", write_group, read_group, delete_group),
    *writes(f"{_I}/group-alias", write_group_alias, "identityWriteGroupAlias"),
    Route("LIST", f"{_I}/group-alias/id", list_group_aliases, "identityListGroupAliases"),
    *_crud(
        f"{_I}/group-alias/id/{{id}}",
        "GroupAlias",
        write_group_alias,
        read_group_alias,
        delete_group_alias,
    ),
    *writes(f"{_I}/lookup/entity", lookup_entity, "identityLookupEntity"),
    *writes(f"{_I}/lookup/group", lookup_group, "identityLookupGroup"),
)
