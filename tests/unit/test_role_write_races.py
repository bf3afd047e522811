"""Two writes that change different fields of one role at once both land, for every kind of role
(AppRole, token, JWT and Kubernetes roles, userpass users): each write applies its fields to
what is stored with compare-and-set and, beaten by the other, applies them again to what that
one left. An AppRole role's own role_id decides a login, whatever its index says; an auth path
is enabled only where none is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from strongroom.auth import Identity
from strongroom.errors import BadRequest, Unauthenticated
from strongroom.server.runtime import Runtime

ROOT = Identity.system("root")

Write = Callable[[Runtime, dict[str, Any]], None]
Read = Callable[[Runtime], dict[str, Any]]


def _approle(rt: Runtime, doc: dict[str, Any]) -> None:
    rt.approle.write_role(ROOT, "web", doc)


def _token_role(rt: Runtime, doc: dict[str, Any]) -> None:
    rt.token_service.write_role(ROOT, "ci", doc)


def _userpass(rt: Runtime, doc: dict[str, Any]) -> None:
    rt.userpass.write_user(ROOT, "alice", doc)


def _jwt(rt: Runtime, doc: dict[str, Any]) -> None:
    rt.services.jwt.write_role(ROOT, "ci", doc)


def _kubernetes(rt: Runtime, doc: dict[str, Any]) -> None:
    rt.services.kubernetes.write_role(ROOT, "app", doc)


# kind: (write, its record kind, the creating write, two updates of other fields, read)
CASES: dict[str, tuple[Write, str, dict[str, Any], dict[str, Any], dict[str, Any], Read]] = {
    "approle": (
        _approle,
        "approle-role",
        {"token_policies": ["web"]},
        {"token_ttl": "1h"},
        {"secret_id_num_uses": 3},
        lambda rt: rt.approle.read_role(ROOT, "web"),
    ),
    "token role": (
        _token_role,
        "token-role",
        {"allowed_policies": ["ci"]},
        {"orphan": True},
        {"token_period": "1h"},
        lambda rt: rt.token_service.read_role(ROOT, "ci").to_json(),
    ),
    "userpass": (
        _userpass,
        "userpass-user",
        {"password": "a long password"},
        {"token_policies": ["team"]},
        {"token_ttl": "1h"},
        lambda rt: rt.userpass.read_user(ROOT, "alice"),
    ),
    "jwt": (
        _jwt,
        "auth-jwt-role",
        {"bound_audiences": ["ci"]},
        {"token_policies": ["deploy"]},
        {"groups_claim": "groups"},
        lambda rt: rt.services.jwt.read_role(ROOT, "ci"),
    ),
    "kubernetes": (
        _kubernetes,
        "auth-kubernetes-role",
        {"bound_service_account_names": ["app"], "bound_service_account_namespaces": ["prod"]},
        {"audience": "vault"},
        {"token_policies": ["app"]},
        lambda rt: rt.services.kubernetes.read_role(ROOT, "app"),
    ),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_two_writes_of_different_fields_at_once_both_land(
    dev_runtime: Runtime, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    write, record_kind, created, first, second, read = CASES[kind]
    for method in ("jwt", "kubernetes"):
        dev_runtime.services.auth_methods.enable(ROOT, method, method)
    store: Any = dev_runtime.store
    write(dev_runtime, created)
    real_replace = store.replace_record
    raced: list[str] = []

    def replace_record(kind_: str, name: str, old: bytes | None, new: bytes) -> bool:
        if kind_ == record_kind and not raced:  # the other write lands just before this one
            raced.append(name)
            monkeypatch.setattr(store, "replace_record", real_replace)
            write(dev_runtime, second)
            monkeypatch.setattr(store, "replace_record", replace_record)
        return bool(real_replace(kind_, name, old, new))

    monkeypatch.setattr(store, "replace_record", replace_record)
    write(dev_runtime, first)
    monkeypatch.setattr(store, "replace_record", real_replace)
    shown = read(dev_runtime)
    assert raced
    (first_field,) = first
    (second_field,) = second
    assert shown[first_field] not in (None, 0, False, [], "")
    assert shown[second_field] not in (None, 0, False, [], "")
    for field in set(created) - {"password"}:
        assert shown[field] == created[field]


def test_an_index_entry_left_by_a_role_id_change_logs_nobody_in(
    dev_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """set_role_id writes the new index entry, the role, then deletes the old entry: a crash
    before the deletion left the old role_id logging in."""
    approle = dev_runtime.approle
    approle.write_role(ROOT, "web", {"token_policies": ["web"]})
    approle.set_role_id(ROOT, "web", "first-role-id")
    secret_id = approle.generate_secret_id(ROOT, "web", {})["secret_id"]
    store: Any = dev_runtime.store

    def crash(kind: str, name: str) -> bool:
        raise OSError("the node died here")

    monkeypatch.setattr(store, "delete_record", crash)
    with pytest.raises(OSError):
        approle.set_role_id(ROOT, "web", "second-role-id")
    monkeypatch.undo()
    assert store.get_record("approle-role-id", "first-role-id") == b"web"  # left behind
    with pytest.raises(Unauthenticated):
        approle.login("first-role-id", secret_id, "127.0.0.1")
    _, info = approle.login("second-role-id", secret_id, "127.0.0.1")
    assert "web" in info.policies


def test_an_auth_path_another_node_enabled_meanwhile_is_refused_not_replaced(
    dev_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Enabling checked the path and then put the record: two nodes enabling one path at once
    both succeeded, and the later type replaced the earlier's under its roles."""
    store: Any = dev_runtime.store
    real_replace = store.replace_record

    def replace_record(kind: str, name: str, old: bytes | None, new: bytes) -> bool:
        if kind == "auth-mount" and name == "ci":
            monkeypatch.setattr(store, "replace_record", real_replace)
            store.put_record(kind, name, b'{"type": "approle", "description": ""}')
        return bool(real_replace(kind, name, old, new))

    monkeypatch.setattr(store, "replace_record", replace_record)
    with pytest.raises(BadRequest, match="already in use"):
        dev_runtime.services.auth_methods.enable(ROOT, "ci", "userpass")
    assert store.get_record("auth-mount", "ci") == b'{"type": "approle", "description": ""}'
