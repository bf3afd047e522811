"""Changes to groups and group aliases, as Vault makes them (see auth/identity_entities.py).
An internal group names its member entities and member groups; an external group's members
come from an auth method's group names through its alias."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strongroom.auth.identity_entities import identity_name, identity_policies
from strongroom.auth.identity_model import Group, GroupAlias, IdentityData, checked_metadata
from strongroom.auth.request_fields import string_list
from strongroom.errors import BadRequest

__all__ = ["GROUP_TYPES", "GroupRequest", "delete_group", "upsert_group", "upsert_group_alias"]

GROUP_TYPES = ("internal", "external")


@dataclass(frozen=True)
class GroupRequest:
    name: str | None
    type: str | None
    metadata: dict[str, str] | None
    policies: list[str] | None
    member_entity_ids: list[str] | None
    member_group_ids: list[str] | None

    @classmethod
    def parse(cls, doc: dict[str, Any]) -> GroupRequest:
        kind = doc.get("type")
        if kind is not None and kind not in GROUP_TYPES:
            raise BadRequest(f'invalid group type "{kind}"')
        members = {
            k: string_list(doc, k) if doc.get(k) is not None else None
            for k in ("member_entity_ids", "member_group_ids")
        }
        return cls(
            identity_name(doc["name"], "group") if doc.get("name") else None,
            kind or None,
            checked_metadata(doc["metadata"]) if doc.get("metadata") is not None else None,
            identity_policies(doc),
            **members,
        )


def upsert_group(
    data: IdentityData, group: Group | None, request: GroupRequest, now: float
) -> tuple[Group, bool]:
    """Create ``group`` (None) or change it; whether it is new."""
    created = group is None
    if group is None:
        new_id = str(uuid.uuid4())
        group = Group(new_id, f"group_{new_id[:8]}", request.type or "internal", now, now)
        data.groups[new_id] = group
        data.check_size()
    elif request.type is not None and request.type != group.type:
        raise BadRequest("group type cannot be changed")
    if request.name is not None:
        named = data.group_named(request.name)
        if named is not None and named.id != group.id:
            raise BadRequest("group name is already in use")
        group.name = request.name
    if request.policies is not None:
        group.policies = request.policies
    if request.metadata is not None:
        group.metadata = request.metadata
    if request.member_entity_ids is not None:
        if group.type == "external":
            raise BadRequest("member entities can't be set manually for external groups")
        for entity_id in request.member_entity_ids:
            if entity_id not in data.entities:
                raise BadRequest(f'invalid entity ID "{entity_id}"')
        group.member_entity_ids = list(dict.fromkeys(request.member_entity_ids))
    if request.member_group_ids is not None:
        if group.type == "external":
            raise BadRequest("member groups can't be set for external groups")
        _set_member_groups(data, group, request.member_group_ids)
    group.updated = now
    if not created:
        group.modify_index += 1
    return group, created


def _set_member_groups(data: IdentityData, group: Group, wanted: list[str]) -> None:
    """A member group lists this group among its parents; no group may end up above itself."""
    for member_id in wanted:
        if member_id not in data.groups:
            raise BadRequest(f'invalid member group ID "{member_id}"')
        if member_id == group.id:
            raise BadRequest(f'member group ID "{member_id}" is same as the ID of the group')
        if data.is_above(member_id, group.id):
            raise BadRequest(f'cyclic relationship detected for member group ID "{member_id}"')
    for other in data.groups.values():
        if group.id in other.parent_group_ids and other.id not in wanted:
            other.parent_group_ids.remove(group.id)
    for member_id in dict.fromkeys(wanted):
        parents = data.groups[member_id].parent_group_ids
        if group.id not in parents:
            parents.append(group.id)


def delete_group(data: IdentityData, group_id: str) -> bool:
    """The group, its alias, and its place above member groups; False when there was none."""
    if data.groups.pop(group_id, None) is None:
        return False
    alias = data.group_alias_of(group_id)
    if alias is not None:
        del data.group_aliases[alias.id]
    for other in data.groups.values():
        if group_id in other.parent_group_ids:
            other.parent_group_ids.remove(group_id)
    return True


def upsert_group_alias(
    data: IdentityData,
    alias_id: str,
    doc: dict[str, Any],
    is_mount: Callable[[str], bool],
    now: float,
) -> GroupAlias:
    """Create or change a group alias. One made without ``canonical_id`` gets a new external
    group of its own, as in Vault."""
    alias = None
    if alias_id:
        alias = data.group_aliases.get(alias_id)
        if alias is None:
            raise BadRequest("invalid group alias ID")
    name, accessor, target_id = (
        doc.get(k) or "" for k in ("name", "mount_accessor", "canonical_id")
    )
    if not isinstance(name, str) or not name:
        raise BadRequest("missing alias name")
    identity_name(name, "alias")
    if not isinstance(accessor, str) or not accessor:
        raise BadRequest("missing mount_accessor")
    if not isinstance(target_id, str):
        raise BadRequest("canonical_id is text")
    if target_id:
        target = data.groups.get(target_id)
        if target is None:
            raise BadRequest("invalid group ID given in 'canonical_id'")
        if target.type != "external":
            raise BadRequest("alias can't be set on an internal group")
    if not is_mount(accessor):
        raise BadRequest(f'invalid mount accessor "{accessor}"')
    same = data.group_alias_at(accessor, name)
    if same is not None and (alias is None or same.id != alias.id):
        raise BadRequest("combination of mount and group alias name is already in use")
    target_id = target_id or (alias.canonical_id if alias else "")
    if not target_id:
        group, _ = upsert_group(
            data, None, GroupRequest(None, "external", None, None, None, None), now
        )
        target_id = group.id
    held = data.group_alias_of(target_id)
    if held is not None and (alias is None or held.id != alias.id):
        del data.group_aliases[held.id]  # a group has one alias: the new one replaces it
    if alias is None:
        alias = GroupAlias(str(uuid.uuid4()), target_id, accessor, name, now, now)
        data.group_aliases[alias.id] = alias
        data.check_size()
    alias.name, alias.mount_accessor, alias.canonical_id, alias.updated = (
        name,
        accessor,
        target_id,
        now,
    )
    return alias
