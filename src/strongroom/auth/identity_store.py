"""Vault's identity store (``/v1/identity/entity…``, ``group…``, ``lookup/…``): entities with
their aliases, groups with theirs, and the policies they add to tokens.

A login whose mount and alias name match an entity alias acts as that alias's entity: its token
carries the entity id (auth/tokens.py), and every request of it gets the entity's policies and
those of the groups the entity belongs to, directly or through member groups, as they are at
that moment (Vault's identity policies). A disabled entity's tokens are refused. A login without
an alias gets no stored entity (strongroom does not write at login) and a derived entity id
(auth/entities.py). Every operation checks the caller's policy on Vault's path first."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from strongroom.auth.identity import Identity
from strongroom.auth.identity_entities import (
    AliasRequest,
    EntityRequest,
    delete_entity,
    identity_name,
    merge_entities,
    upsert_alias,
    upsert_entity,
)
from strongroom.auth.identity_groups import (
    GroupRequest,
    delete_group,
    upsert_group,
    upsert_group_alias,
)
from strongroom.auth.identity_model import (
    Entity,
    EntityAlias,
    Group,
    GroupAlias,
    IdentityData,
)
from strongroom.auth.mounts import AuthMount
from strongroom.auth.request_fields import string_list
from strongroom.clock import Clock
from strongroom.errors import BadRequest, NotFound
from strongroom.store.protocol import Store
from strongroom.store.records import Records

__all__ = ["IdentityStore"]

_BASE = "identity"
_RECORD = "store"
_T = TypeVar("_T")


class IdentityStore:
    def __init__(
        self, store: Store, clock: Clock, methods: Callable[[], Sequence[AuthMount]]
    ) -> None:
        self._store = store
        self._clock = clock
        self._methods = methods  # the auth methods mounted now
        self._records = Records(store, "identity-store", IdentityData.decode, IdentityData.encode)
        self._snapshot: IdentityData | None = None
        self._generation = 0
        self._lock = threading.Lock()
        self.on_change: list[Callable[[], None]] = []  # the token cache, which holds policies

    # -- the document, kept in memory between changes
    def snapshot(self) -> IdentityData:
        known = self._snapshot
        if known is not None:
            return known
        generation = self._generation  # a change heard while reading outdates what is read
        found = self._records.get(_RECORD) or IdentityData()
        with self._lock:
            if generation == self._generation:
                self._snapshot = found
        return found

    def forget(self) -> None:
        """Drop the copy in memory (changed here or on another node), and every token's cached
        policies with it."""
        with self._lock:
            self._generation += 1
            self._snapshot = None
        for listener in self.on_change:
            listener()

    def _change(self, edit: Callable[[IdentityData], _T]) -> _T:
        """``edit`` on a fresh working copy, written with compare-and-set; what it returned."""
        results: list[_T] = []

        def edited(current: IdentityData | None) -> IdentityData:
            data = current or IdentityData()
            results[:] = [edit(data)]
            return data

        self._records.change(_RECORD, edited)
        self.forget()
        self._store.publish("identity")
        return results[0]

    def mounts(self) -> dict[str, AuthMount]:
        """The auth methods mounted now, by accessor (what an alias names)."""
        return {m.accessor: m for m in self._methods()}

    def _is_mount(self, accessor: str) -> bool:
        return accessor in self.mounts()

    # -- what logins and requests ask
    def entity_for(self, login_path: str, alias_name: str) -> str:
        """The entity a login at ``auth/<mount>/…`` acts as, or "" when no alias names it."""
        data = self.snapshot()
        method = self._login_mount(login_path) if data.aliases else None  # none: no look-up
        alias = data.login_alias(method.accessor, alias_name) if method is not None else None
        return alias.canonical_id if alias is not None else ""

    def _login_mount(self, login_path: str) -> AuthMount | None:
        mount = login_path.split("/")[1]
        return next((m for m in self._methods() if m.path == mount), None)

    def groups_for(self, login_path: str, names: tuple[str, ...]) -> tuple[str, ...]:
        """The external groups a login's group names are aliases of, at its mount."""
        data = self.snapshot()
        method = self._login_mount(login_path) if data.group_aliases else None
        if method is None:
            return ()
        found = (data.login_group_alias(method.accessor, name) for name in names)
        return tuple(dict.fromkeys(a.canonical_id for a in found if a is not None))

    def policies_of(self, entity_id: str, groups: tuple[str, ...] = ()) -> tuple[str, ...] | None:
        return self.snapshot().policies_of(entity_id, groups)

    def forget_mount(self, method: AuthMount) -> None:
        """A disabled auth method's aliases go with it: its accessor, derived from its type and
        path, would name the next method mounted there."""

        def remove(data: IdentityData) -> None:
            for table in (data.aliases, data.group_aliases):
                for alias_id in [
                    i for i, a in table.items() if a.mount_accessor == method.accessor
                ]:
                    del table[alias_id]

        if any(a.mount_accessor == method.accessor for a in self._all_aliases()):
            self._change(remove)

    def _all_aliases(self) -> list[EntityAlias | GroupAlias]:
        data = self.snapshot()
        return [*data.aliases.values(), *data.group_aliases.values()]

    # -- entities
    def write_entity(
        self, caller: Identity, doc: dict[str, Any], *, by_name: str = ""
    ) -> tuple[Entity, bool]:
        caller.require("update", f"{_BASE}/entity/name/{by_name}" if by_name else f"{_BASE}/entity")
        # A write by name finds its entity by that name only: an ``id`` in the body would act
        # on another entity than the one the rights were checked on (Vault ignores it too).
        entity_id = "" if by_name else doc.get("id") or ""
        if not isinstance(entity_id, str):
            raise BadRequest("id is text")
        if by_name:
            doc = {**doc, "name": identity_name(by_name, "entity")}
        request = EntityRequest.parse(doc)
        now = self._clock.now()
        return self._change(lambda data: upsert_entity(data, entity_id, request, now))

    def update_entity(self, caller: Identity, entity_id: str, doc: dict[str, Any]) -> Entity:
        caller.require("update", f"{_BASE}/entity/id/{entity_id}")
        request = EntityRequest.parse(doc)
        now = self._clock.now()
        return self._change(lambda data: upsert_entity(data, entity_id, request, now))[0]

    def read_entity(self, caller: Identity, *, entity_id: str = "", name: str = "") -> Entity:
        where = f"id/{entity_id}" if entity_id else f"name/{name}"
        caller.require("read", f"{_BASE}/entity/{where}")
        data = self.snapshot()
        found = data.entities.get(entity_id) if entity_id else data.entity_named(name)
        if found is None:
            raise NotFound("no entity by that " + ("id" if entity_id else "name"))
        return found

    def delete_entity(self, caller: Identity, *, entity_id: str = "", name: str = "") -> None:
        where = f"id/{entity_id}" if entity_id else f"name/{name}"
        caller.require("delete", f"{_BASE}/entity/{where}")
        known = self.snapshot()
        found = known.entities.get(entity_id) if entity_id else known.entity_named(name)
        if found is not None:  # Vault: deleting what does not exist succeeds
            self._change(lambda data: delete_entity(data, found.id))

    def delete_entities(self, caller: Identity, doc: dict[str, Any]) -> None:
        caller.require("update", f"{_BASE}/entity/batch-delete")
        ids = string_list(doc, "entity_ids")
        if not ids:
            raise BadRequest("missing entity ids to delete")
        self._change(lambda data: [delete_entity(data, i) for i in ids])

    def list_entities(self, caller: Identity, *, by_name: bool) -> list[Entity]:
        caller.require("list", f"{_BASE}/entity/{'name' if by_name else 'id'}")
        return sorted(self.snapshot().entities.values(), key=lambda e: e.name if by_name else e.id)

    def merge(self, caller: Identity, doc: dict[str, Any]) -> None:
        caller.require("update", f"{_BASE}/entity/merge")
        to_id = doc.get("to_entity_id")
        if not isinstance(to_id, str) or not to_id:
            raise BadRequest("missing entity id to merge to")
        from_ids = string_list(doc, "from_entity_ids")
        if not from_ids:
            raise BadRequest("missing entity ids to merge from")
        keep = string_list(doc, "conflicting_alias_ids_to_keep")
        now = self._clock.now()
        self._change(lambda data: merge_entities(data, to_id, from_ids, keep, now))

    # -- entity aliases
    def write_alias(self, caller: Identity, doc: dict[str, Any], alias_id: str = "") -> EntityAlias:
        alias_id = alias_id or doc.get("id") or ""
        if not isinstance(alias_id, str):
            raise BadRequest("id is text")
        caller.require("update", f"{_BASE}/entity-alias" + (f"/id/{alias_id}" if alias_id else ""))
        request = AliasRequest.parse(doc)
        now = self._clock.now()
        return self._change(lambda data: upsert_alias(data, alias_id, request, self._is_mount, now))

    def read_alias(self, caller: Identity, alias_id: str) -> EntityAlias:
        caller.require("read", f"{_BASE}/entity-alias/id/{alias_id}")
        found = self.snapshot().aliases.get(alias_id)
        if found is None:
            raise NotFound("no entity alias by that id")
        return found

    def delete_alias(self, caller: Identity, alias_id: str) -> None:
        caller.require("delete", f"{_BASE}/entity-alias/id/{alias_id}")
        if alias_id in self.snapshot().aliases:
            self._change(lambda data: data.aliases.pop(alias_id, None))

    def list_aliases(self, caller: Identity) -> list[EntityAlias]:
        caller.require("list", f"{_BASE}/entity-alias/id")
        return sorted(self.snapshot().aliases.values(), key=lambda a: a.id)

    # -- groups
    def write_group(
        self, caller: Identity, doc: dict[str, Any], *, group_id: str = "", by_name: str = ""
    ) -> tuple[Group, bool]:
        group_id = group_id or ("" if by_name else doc.get("id") or "")  # as for an entity
        if not isinstance(group_id, str):
            raise BadRequest("id is text")
        where = f"/id/{group_id}" if group_id else f"/name/{by_name}" if by_name else ""
        caller.require("update", f"{_BASE}/group{where}")
        if by_name:
            doc = {**doc, "name": identity_name(by_name, "group")}
        request = GroupRequest.parse(doc)
        now = self._clock.now()

        def edit(data: IdentityData) -> tuple[Group, bool]:
            group = data.groups.get(group_id) if group_id else None
            if group_id and group is None:
                raise BadRequest("invalid group ID")
            if by_name:
                group = data.group_named(by_name)
            return upsert_group(data, group, request, now)

        return self._change(edit)

    def read_group(self, caller: Identity, *, group_id: str = "", name: str = "") -> Group:
        caller.require(
            "read", f"{_BASE}/group/" + (f"id/{group_id}" if group_id else f"name/{name}")
        )
        data = self.snapshot()
        found = data.groups.get(group_id) if group_id else data.group_named(name)
        if found is None:
            raise NotFound("no group by that " + ("id" if group_id else "name"))
        return found

    def delete_group(self, caller: Identity, *, group_id: str = "", name: str = "") -> None:
        caller.require(
            "delete", f"{_BASE}/group/" + (f"id/{group_id}" if group_id else f"name/{name}")
        )
        known = self.snapshot()
        found = known.groups.get(group_id) if group_id else known.group_named(name)
        if found is not None:
            self._change(lambda data: delete_group(data, found.id))

    def list_groups(self, caller: Identity, *, by_name: bool) -> list[Group]:
        caller.require("list", f"{_BASE}/group/{'name' if by_name else 'id'}")
        return sorted(self.snapshot().groups.values(), key=lambda g: g.name if by_name else g.id)

    # -- group aliases
    def write_group_alias(
        self, caller: Identity, doc: dict[str, Any], alias_id: str = ""
    ) -> GroupAlias:
        alias_id = alias_id or doc.get("id") or ""
        if not isinstance(alias_id, str):
            raise BadRequest("id is text")
        caller.require("update", f"{_BASE}/group-alias" + (f"/id/{alias_id}" if alias_id else ""))
        now = self._clock.now()
        return self._change(
            lambda data: upsert_group_alias(data, alias_id, doc, self._is_mount, now)
        )

    def read_group_alias(self, caller: Identity, alias_id: str) -> GroupAlias:
        caller.require("read", f"{_BASE}/group-alias/id/{alias_id}")
        found = self.snapshot().group_aliases.get(alias_id)
        if found is None:
            raise NotFound("no group alias by that id")
        return found

    def delete_group_alias(self, caller: Identity, alias_id: str) -> None:
        caller.require("delete", f"{_BASE}/group-alias/id/{alias_id}")
        if alias_id in self.snapshot().group_aliases:
            self._change(lambda data: data.group_aliases.pop(alias_id, None))

    def list_group_aliases(self, caller: Identity) -> list[GroupAlias]:
        caller.require("list", f"{_BASE}/group-alias/id")
        return sorted(self.snapshot().group_aliases.values(), key=lambda a: a.id)

    # -- look-ups (Vault's lookup/entity and lookup/group)
    def lookup_entity(self, caller: Identity, doc: dict[str, Any]) -> Entity | None:
        caller.require("update", f"{_BASE}/lookup/entity")
        query = _query(doc, "id", "name", "alias_id")
        data = self.snapshot()
        if "id" in query:
            return data.entities.get(query["id"])
        if "name" in query:
            return data.entity_named(query["name"])
        alias = (
            data.aliases.get(query["alias_id"])
            if "alias_id" in query
            else data.alias_at(query["alias_mount_accessor"], query["alias_name"])
        )
        return data.entities.get(alias.canonical_id) if alias is not None else None

    def lookup_group(self, caller: Identity, doc: dict[str, Any]) -> Group | None:
        caller.require("update", f"{_BASE}/lookup/group")
        query = _query(doc, "id", "name", "alias_id")
        data = self.snapshot()
        if "id" in query:
            return data.groups.get(query["id"])
        if "name" in query:
            return data.group_named(query["name"])
        alias = (
            data.group_aliases.get(query["alias_id"])
            if "alias_id" in query
            else data.group_alias_at(query["alias_mount_accessor"], query["alias_name"])
        )
        return data.groups.get(alias.canonical_id) if alias is not None else None


def _query(doc: dict[str, Any], *single: str) -> dict[str, str]:
    """One criterion, or ``alias_name`` with ``alias_mount_accessor``; Vault's words otherwise."""
    given = {k: v for k in (*single, "alias_name", "alias_mount_accessor") if (v := doc.get(k))}
    if not all(isinstance(v, str) for v in given.values()):
        raise BadRequest("query parameters are text")
    if not given:
        raise BadRequest("query parameter not supplied")
    pair = {"alias_name", "alias_mount_accessor"}
    if len(given) == 2 and set(given) == pair:
        return given
    if len(given) > 1:
        raise BadRequest("query parameter conflict; please supply distinct set of query parameters")
    if set(given) & pair:
        raise BadRequest("both 'alias_name' and 'alias_mount_accessor' needs to be set")
    return given
