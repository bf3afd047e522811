"""Vault's identity store as data: entities, their aliases (one per login mount), groups and
group aliases. They are kept as one document, so a change that touches several (a merge, an
entity's deletion that leaves its groups) is one compare-and-set, and every look-up and the
policies a token's entity brings are answered from memory."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

from strongroom.errors import BadRequest, LimitExceeded

__all__ = [
    "MAX_IDENTITY_OBJECTS",
    "Entity",
    "EntityAlias",
    "Group",
    "GroupAlias",
    "IdentityData",
    "checked_metadata",
]

MAX_IDENTITY_OBJECTS = 10_000  # entities, groups and aliases together: one document holds them
_META_PAIRS, _META_KEY, _META_VALUE = 64, 128, 512  # Vault's bounds on identity metadata
_META_KEY_CHARS = re.compile(r"[a-zA-Z0-9=/+_-]+")


@dataclass
class EntityAlias:
    id: str
    canonical_id: str
    mount_accessor: str
    name: str
    created: float
    updated: float
    custom_metadata: dict[str, str] = field(default_factory=dict)
    merged_from_canonical_ids: list[str] = field(default_factory=list)


@dataclass
class Entity:
    id: str
    name: str
    created: float
    updated: float
    metadata: dict[str, str] = field(default_factory=dict)
    policies: list[str] = field(default_factory=list)
    disabled: bool = False
    merged_entity_ids: list[str] = field(default_factory=list)


@dataclass
class Group:
    id: str
    name: str
    type: str
    created: float
    updated: float
    policies: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    member_entity_ids: list[str] = field(default_factory=list)
    parent_group_ids: list[str] = field(default_factory=list)
    modify_index: int = 1


@dataclass
class GroupAlias:
    id: str
    canonical_id: str
    mount_accessor: str
    name: str
    created: float
    updated: float


@dataclass
class IdentityData:
    """The whole store. A decoded copy is either a read-only snapshot (look-ups, the policies
    of a token's entity) or the working copy of one change, edited in place."""

    entities: dict[str, Entity] = field(default_factory=dict)
    aliases: dict[str, EntityAlias] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    group_aliases: dict[str, GroupAlias] = field(default_factory=dict)

    # -- encoding
    def encode(self) -> bytes:
        return json.dumps(
            {
                "entities": [asdict(e) for e in self.entities.values()],
                "aliases": [asdict(a) for a in self.aliases.values()],
                "groups": [asdict(g) for g in self.groups.values()],
                "group_aliases": [asdict(a) for a in self.group_aliases.values()],
            },
            separators=(",", ":"),
        ).encode()

    @classmethod
    def decode(cls, raw: bytes) -> IdentityData:
        doc = json.loads(raw)
        return cls(
            {e["id"]: Entity(**e) for e in doc["entities"]},
            {a["id"]: EntityAlias(**a) for a in doc["aliases"]},
            {g["id"]: Group(**g) for g in doc["groups"]},
            {a["id"]: GroupAlias(**a) for a in doc["group_aliases"]},
        )

    def check_size(self) -> None:
        count = len(self.entities) + len(self.aliases) + len(self.groups)
        if count + len(self.group_aliases) > MAX_IDENTITY_OBJECTS:
            raise LimitExceeded(
                f"the identity store holds at most {MAX_IDENTITY_OBJECTS} entities, groups and "
                "aliases together; delete some first"
            )

    # -- look-ups (linear: the store is bounded, and these serve administrators)
    def entity_named(self, name: str) -> Entity | None:
        return next((e for e in self.entities.values() if e.name == name), None)

    def group_named(self, name: str) -> Group | None:
        return next((g for g in self.groups.values() if g.name == name), None)

    def aliases_of(self, entity_id: str) -> list[EntityAlias]:
        return [a for a in self.aliases.values() if a.canonical_id == entity_id]

    def alias_at(self, accessor: str, name: str) -> EntityAlias | None:
        found = (a for a in self.aliases.values() if (a.mount_accessor, a.name) == (accessor, name))
        return next(found, None)

    def group_alias_at(self, accessor: str, name: str) -> GroupAlias | None:
        found = (
            a for a in self.group_aliases.values() if (a.mount_accessor, a.name) == (accessor, name)
        )
        return next(found, None)

    def group_alias_of(self, group_id: str) -> GroupAlias | None:
        return next((a for a in self.group_aliases.values() if a.canonical_id == group_id), None)

    def member_groups(self, group_id: str) -> list[str]:
        return [g.id for g in self.groups.values() if group_id in g.parent_group_ids]

    def groups_of(self, entity_id: str) -> tuple[list[str], list[str]]:
        """The groups that name the entity as a member, and the groups above those (through
        ``member_group_ids``), each once."""
        direct = [g.id for g in self.groups.values() if entity_id in g.member_entity_ids]
        return direct, self.with_parents(direct)[len(direct) :]

    def with_parents(self, group_ids: list[str]) -> list[str]:
        """``group_ids`` that exist, then every group above them, each once."""
        found = [g for g in dict.fromkeys(group_ids) if g in self.groups]
        seen = set(found)
        frontier = list(found)
        while frontier:
            for parent in self.groups[frontier.pop()].parent_group_ids:
                if parent not in seen and parent in self.groups:
                    seen.add(parent)
                    found.append(parent)
                    frontier.append(parent)
        return found

    def is_above(self, ancestor: str, group_id: str) -> bool:
        """Whether ``ancestor`` is ``group_id`` or one of the groups above it."""
        seen: set[str] = set()
        frontier = [group_id]
        while frontier:
            current = frontier.pop()
            if current == ancestor:
                return True
            if current not in seen and current in self.groups:
                seen.add(current)
                frontier.extend(self.groups[current].parent_group_ids)
        return False

    # -- what a token's entity brings (read on the request path: indexed once per snapshot)
    @cached_property
    def _alias_index(self) -> dict[tuple[str, str], EntityAlias]:
        return {(a.mount_accessor, a.name): a for a in self.aliases.values()}

    @cached_property
    def _group_alias_index(self) -> dict[tuple[str, str], GroupAlias]:
        return {(a.mount_accessor, a.name): a for a in self.group_aliases.values()}

    def login_group_alias(self, accessor: str, name: str) -> GroupAlias | None:
        """``group_alias_at`` for a snapshot: indexed (a login may name a thousand groups)."""
        return self._group_alias_index.get((accessor, name))

    @cached_property
    def _merged_into(self) -> dict[str, str]:
        return {old: e.id for e in self.entities.values() for old in e.merged_entity_ids}

    def login_alias(self, accessor: str, name: str) -> EntityAlias | None:
        """``alias_at`` for a snapshot, which is never edited: indexed."""
        return self._alias_index.get((accessor, name))

    def entity(self, entity_id: str) -> Entity | None:
        """An entity by its id, or by the id of an entity merged into it."""
        found = self.entities.get(entity_id)
        if found is None and entity_id in self._merged_into:
            found = self.entities.get(self._merged_into[entity_id])
        return found

    def policies_of(self, entity_id: str, external: tuple[str, ...] = ()) -> tuple[str, ...] | None:
        """The policies a token adds: its entity's and those of the entity's groups, and of the
        ``external`` groups its login's group names matched, with every group above them. None
        for a disabled entity (its tokens are refused, as in Vault)."""
        entity = self.entity(entity_id) if entity_id else None
        if entity is not None and entity.disabled:
            return None
        direct = self.groups_of(entity.id)[0] if entity is not None else []
        policies = list(entity.policies) if entity is not None else []
        for group_id in self.with_parents([*direct, *external]):
            policies += self.groups[group_id].policies
        return tuple(dict.fromkeys(policies))


def checked_metadata(value: Any, name: str = "metadata") -> dict[str, str]:
    """Vault's identity metadata: an object of strings (or ``key=value`` texts, in a list or
    separated by commas), 64 pairs, keys
    of ``a-z A-Z 0-9 = / + _ -`` up to 128 characters not starting ``vault-``, values up to
    512."""
    if value is None:
        return {}
    if isinstance(value, str):  # the CLI's metadata=k=v,k2=v2
        value = [part for part in value.split(",") if part]
    if isinstance(value, list) and all(isinstance(v, str) and "=" in v for v in value):
        value = dict(v.split("=", 1) for v in value)
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise BadRequest(f"failed to parse {name}: it is an object of strings")
    if len(value) > _META_PAIRS:
        raise LimitExceeded(f"{name} cannot contain more than {_META_PAIRS} key/value pairs")
    for key, text in value.items():
        if not _META_KEY_CHARS.fullmatch(key) or len(key) > _META_KEY:
            raise BadRequest(
                f"{name} key {key[:_META_KEY]!r} is 1-{_META_KEY} of a-z A-Z 0-9 = / + _ -"
            )
        if key.startswith("vault-"):
            raise BadRequest(f'{name} key prefix "vault-" is reserved for internal use')
        if len(text) > _META_VALUE:
            raise LimitExceeded(f"{name} value of {key!r} is longer than {_META_VALUE} characters")
    return dict(value)
