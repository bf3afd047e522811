"""A role write changes the fields its request names and keeps the others, as Vault's role writes
do (AppRole, token, JWT and Kubernetes roles, userpass users).

The request's fields are parsed, and refused, before the stored role is read; they are then
applied to what is stored with compare-and-set (``store/records.py``). So two writes naming
different fields of one role both land, and a write never puts back what it read."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from strongroom.auth.identity import Identity
from strongroom.auth.request_fields import role_policies
from strongroom.store.records import Records

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["Parsers", "changed_role", "requested_fields"]

Parsers = Mapping[str, Callable[[dict[str, Any]], object]]
_Role = TypeVar("_Role", bound="DataclassInstance")


def requested_fields(
    doc: dict[str, Any], parsers: Parsers, caller: Identity, holder: str = "a role"
) -> dict[str, Any]:
    """The fields ``doc`` names, each parsed (a bad one is refused here, before any read).
    ``token_policies`` is named by Vault's older ``policies`` too, and only a root caller may
    give ``root``."""
    fields = {name: parse(doc) for name, parse in parsers.items() if name in doc}
    if "token_policies" in doc or "policies" in doc:
        fields["token_policies"] = role_policies(doc, caller, holder)
    return fields


def changed_role(
    roles: Records[_Role],
    name: str,
    fields: dict[str, Any],
    new: Callable[[], _Role],
    check: Callable[[_Role], None] = lambda role: None,
) -> _Role:
    """The role ``name`` with ``fields`` changed (``new()`` with them, when there is none),
    stored once ``check`` accepts the whole role."""

    def edit(current: _Role | None) -> _Role:
        role = replace(current if current is not None else new(), **fields)
        check(role)
        return role

    return roles.change(name, edit)
