"""Changes to entities and their aliases, as Vault makes them: each an edit of one working copy of
the identity store (auth/identity_model.py), which raises before anything is written when the
request is refused, with Vault's words."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strongroom.auth.identity_model import Entity, EntityAlias, IdentityData, checked_metadata
from strongroom.auth.request_fields import string_list
from strongroom.errors import BadRequest
from strongroom.policy.parse import validate_policy_name

__all__ = [
    "MAX_NAME",
    "AliasRequest",
    "EntityRequest",
    "delete_entity",
    "identity_name",
    "identity_policies",
    "merge_entities",
    "upsert_alias",
    "upsert_entity",
]

MAX_NAME = 128


def identity_name(value: Any, what: str) -> str:
    """An entity's, group's or alias's name: text of 1-128 characters, no '/' or control
    character (it is a path segment in ``…/name/<name>``)."""
    if not isinstance(value, str) or not value:
        raise BadRequest(f"missing {what} name")
    if len(value) > MAX_NAME or "/" in value or not value.isprintable():
        raise BadRequest(f"{what} name is 1-{MAX_NAME} printable characters without '/'")
    return value


def identity_policies(doc: dict[str, Any]) -> list[str] | None:
    """``policies`` as Vault keeps them: lower case, each once, never ``root``; None when the
    request leaves them as they are."""
    if "policies" not in doc:
        return None
    policies = list(dict.fromkeys(p.lower() for p in string_list(doc, "policies")))
    if "root" in policies:
        raise BadRequest("policies cannot contain root")
    for name in policies:
        validate_policy_name(name)
    return policies


@dataclass(frozen=True)
class EntityRequest:
    name: str | None
    metadata: dict[str, str] | None
    policies: list[str] | None
    disabled: bool | None

    @classmethod
    def parse(cls, doc: dict[str, Any]) -> EntityRequest:
        disabled = doc.get("disabled")
        if disabled is not None and not isinstance(disabled, bool):
            raise BadRequest("disabled is true or false")
        return cls(
            identity_name(doc["name"], "entity") if doc.get("name") else None,
            checked_metadata(doc["metadata"]) if doc.get("metadata") is not None else None,
            identity_policies(doc),
            disabled,
        )


def upsert_entity(
    data: IdentityData, entity_id: str, request: EntityRequest, now: float
) -> tuple[Entity, bool]:
    """Create or change an entity (by its id, or else by the name asked for); whether it is
    new."""
    entity = None
    if entity_id:
        entity = data.entities.get(entity_id)
        if entity is None:
            raise BadRequest("entity not found from id")
    if request.name is not None:
        named = data.entity_named(request.name)
        if named is not None and entity is None:
            entity = named
        elif named is not None and entity is not None and named.id != entity.id:
            raise BadRequest("entity name is already in use")
    created = entity is None
    if entity is None:
        new_id = str(uuid.uuid4())
        entity = Entity(new_id, request.name or f"entity_{new_id[:8]}", now, now)
        data.entities[new_id] = entity
        data.check_size()
    entity.updated = now
    if request.name is not None:
        entity.name = request.name
    if request.metadata is not None:
        entity.metadata = request.metadata
    if request.policies is not None:
        entity.policies = request.policies
    if request.disabled is not None:
        entity.disabled = request.disabled
    return entity, created


def delete_entity(data: IdentityData, entity_id: str) -> bool:
    """The entity, its aliases and its memberships; False when there was none."""
    if data.entities.pop(entity_id, None) is None:
        return False
    for alias in data.aliases_of(entity_id):
        del data.aliases[alias.id]
    for group in data.groups.values():
        if entity_id in group.member_entity_ids:
            group.member_entity_ids.remove(entity_id)
    return True


def merge_entities(
    data: IdentityData, to_id: str, from_ids: list[str], keep: list[str], now: float
) -> None:
    """Vault's merge: the aliases and group memberships of ``from_ids`` move to ``to_id``, which
    remembers their ids (tokens of a merged entity act as the one it joined); the others go.
    Two aliases on one mount cannot both stay: ``keep`` names the one that does."""
    to = data.entities.get(to_id)
    if to is None:
        raise BadRequest("entity id to merge to is invalid")
    if keep and len(from_ids) > 1:
        raise BadRequest(
            "aliases conflicts cannot be resolved with multiple from entity ids - merge one "
            "entity at a time"
        )
    if to_id in from_ids:
        raise BadRequest("to_entity_id should not be present in from_entity_ids")
    sources = [data.entities.get(i) for i in dict.fromkeys(from_ids)]
    if any(source is None for source in sources):
        raise BadRequest("entity id to merge from is invalid")
    targets = {a.mount_accessor: a for a in data.aliases_of(to_id)}
    moving = [a for source in sources if source for a in data.aliases_of(source.id)]
    for accessor, count in Counter(a.mount_accessor for a in moving).items():
        if count > 1:
            raise BadRequest(
                f"mount accessor {accessor} found in multiple fromEntities, merge should be done "
                "with one fromEntity at a time"
            )
    for alias in moving:
        clash = targets.get(alias.mount_accessor)
        if clash is None:
            pass
        elif alias.id in keep:
            del data.aliases[clash.id]
        elif clash.id in keep:
            del data.aliases[alias.id]
            continue
        else:
            raise BadRequest(
                "conflicting mount accessors in following alias IDs and neither were present in "
                f"conflicting_alias_ids_to_keep: {alias.id}, {clash.id}"
            )
        alias.merged_from_canonical_ids.append(alias.canonical_id)
        alias.canonical_id, alias.updated = to_id, now
    for source in sources:
        assert source is not None  # checked above
        to.merged_entity_ids += [*source.merged_entity_ids, source.id]
        del data.entities[source.id]
        for group in data.groups.values():
            if source.id in group.member_entity_ids:
                group.member_entity_ids.remove(source.id)
                if to_id not in group.member_entity_ids:
                    group.member_entity_ids.append(to_id)
    to.updated = now


@dataclass(frozen=True)
class AliasRequest:
    name: str
    mount_accessor: str
    canonical_id: str
    custom_metadata: dict[str, str] | None

    @classmethod
    def parse(cls, doc: dict[str, Any]) -> AliasRequest:
        fields = {k: doc.get(k) or "" for k in ("name", "mount_accessor", "canonical_id")}
        if not all(isinstance(v, str) for v in fields.values()):
            raise BadRequest("name, mount_accessor and canonical_id are text")
        if fields["name"]:
            identity_name(fields["name"], "alias")
        custom = doc.get("custom_metadata")
        return cls(**fields, custom_metadata=None if custom is None else checked_metadata(custom))


def upsert_alias(
    data: IdentityData,
    alias_id: str,
    request: AliasRequest,
    is_mount: Callable[[str], bool],
    now: float,
) -> EntityAlias:
    """Create or change an entity alias (by its id, or else by mount and name). An alias made
    without ``canonical_id`` gets a new entity of its own, as in Vault."""
    alias = None
    if alias_id:
        alias = data.aliases.get(alias_id)
        if alias is None:
            raise BadRequest("invalid alias ID provided")
    name = request.name or (alias.name if alias else "")
    accessor = request.mount_accessor or (alias.mount_accessor if alias else "")
    if not name or not accessor:
        raise BadRequest("'id' or 'mount_accessor' and 'name' must be provided")
    if not is_mount(accessor):
        raise BadRequest(f'invalid mount accessor "{accessor}"')
    same = data.alias_at(accessor, name)
    if alias is None:
        alias = same
    elif same is not None and same.id != alias.id:
        raise BadRequest("alias with combination of mount accessor and name already exists")
    target_id = request.canonical_id or (alias.canonical_id if alias else "")
    if target_id and target_id not in data.entities:
        raise BadRequest("invalid canonical ID")
    if not target_id:
        target_id = str(uuid.uuid4())
        data.entities[target_id] = Entity(target_id, f"entity_{target_id[:8]}", now, now)
    for other in data.aliases_of(target_id):
        if other.mount_accessor == accessor and (alias is None or other.id != alias.id):
            raise BadRequest("Alias already exists for requested entity and mount accessor")
    if alias is None:
        alias = EntityAlias(str(uuid.uuid4()), target_id, accessor, name, now, now)
        data.aliases[alias.id] = alias
        data.check_size()
    alias.name, alias.mount_accessor, alias.canonical_id = name, accessor, target_id
    if request.custom_metadata is not None:
        alias.custom_metadata = request.custom_metadata
    alias.updated = now
    return alias
