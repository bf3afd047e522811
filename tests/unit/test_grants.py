"""No service offers an unchecked read (issue 23, 2): the secret service's reads and writes for
the compatibility backends and the rotation engine take a Grant (policy/grants.py), made only
by the check that allowed the request, naming one secret and what may be done to it."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

import strongroom
from strongroom.auth import Identity
from strongroom.clock import ManualClock
from strongroom.config import ServerSettings
from strongroom.errors import AccessDenied, NoSuchSecret
from strongroom.policy import compile_acl, parse_policy
from strongroom.policy.authorize import ResourcePolicyMode
from strongroom.policy.aws_documents import Decision
from strongroom.policy.grants import Grant, grant_if, grant_listed, granted, system_grant
from strongroom.server.node import Node
from strongroom.service.secret_rows import SecretRows
from strongroom.service.secrets import SecretService

SRC = Path(strongroom.__file__).parent
# The server's own jobs: a rotation (its caller was checked when it was configured), and
# RotateSecret reading the version the rotation engine just wrote.
SYSTEM_GRANT_CALLERS = {
    "rotation/engine.py",
    "rotation/configuration.py",
    "rotation/notify.py",
    "compat/aws/secretsmanager/rotation.py",
}


def _calls(name: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if called == name:
                    rel = str(path.relative_to(SRC))
                    found[rel] = found.get(rel, 0) + 1
    return found


def test_a_grant_is_made_only_by_the_checks() -> None:
    assert set(_calls("Grant")) == {"policy/grants.py"}
    with pytest.raises(TypeError):
        Grant("ns", "p", frozenset({"read"}), "forged")


def test_system_grants_serve_the_server_s_own_jobs_only() -> None:
    assert set(_calls("system_grant")) <= SYSTEM_GRANT_CALLERS, _calls("system_grant")


def test_no_service_offers_an_unchecked_read_or_write() -> None:
    unchecked = [
        f"{path.relative_to(SRC)}: {node.name}"
        for path in (SRC / "service").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef)
        and not node.name.startswith("_")
        and ("unchecked" in node.name or node.name == "read_with_secret")
    ]
    assert unchecked == []


@pytest.fixture
def service(tmp_path: Path) -> Iterator[SecretService]:
    node = Node(ServerSettings(tmp_path, dev=True, root_token="t"), ManualClock())
    yield node.require_runtime().secrets
    node.close()


def _identity(rules: str) -> Identity:
    return Identity("t", ("t",), compile_acl([parse_policy("t", rules)]))


def test_granted_checks_the_caller_and_names_one_secret() -> None:
    reader = _identity('path "kv/data/app/*" { capabilities = ["read"] }')
    grant = granted(reader, "read", "kv/data/app/db", "kv", "app/db")
    assert (grant.namespace, grant.path) == ("kv", "app/db") and grant.capabilities == {"read"}
    with pytest.raises(AccessDenied):
        granted(reader, "read", "kv/data/other", "kv", "other")
    with pytest.raises(AccessDenied):
        grant.require("update")


def test_grant_if_follows_the_one_rule() -> None:
    made = grant_if(
        False,
        Decision.ALLOW,
        ResourcePolicyMode.ADDITIVE,
        capability="read",
        namespace="aws-r",
        path="s",
        action="secretsmanager:GetSecretValue",
    )
    assert made is not None and made.capabilities == {"read"}
    refused = grant_if(
        True,
        Decision.DENY,
        ResourcePolicyMode.ADDITIVE,
        capability="read",
        namespace="aws-r",
        path="s",
        action="secretsmanager:GetSecretValue",
    )
    assert refused is None


def test_the_secret_service_acts_within_the_grant(service: SecretService) -> None:
    everything = system_grant("secret", "app/db", "test")
    service.write_granted(everything, {"k": "v1"})
    read_only = grant_if(
        True,
        Decision.NONE,
        ResourcePolicyMode.ADDITIVE,
        capability="read",
        namespace="secret",
        path="app/db",
        action="test",
    )
    assert read_only is not None
    assert service.read_granted(read_only).data == {"k": "v1"}
    for refused in (
        lambda: service.write_granted(read_only, {"k": "v2"}),
        lambda: service.delete_granted(read_only),
        lambda: service.promote(read_only, 1),
        lambda: service.read_granted(read_only, serving="update"),
    ):
        with pytest.raises(AccessDenied):
            refused()
    assert service.read_granted(everything).data == {"k": "v1"}  # nothing changed
    service.delete_granted(everything)
    with pytest.raises(NoSuchSecret):
        service.delete_granted(everything)


def test_secret_rows_are_read_with_a_grant_and_only_names_are_listed_without_one() -> None:
    ungranted = {
        name
        for name, function in inspect.getmembers(SecretRows, inspect.isfunction)
        if not name.startswith("_") and "grant" not in inspect.signature(function).parameters
    }
    assert ungranted == {"names", "scan_paths"}
    for name in ungranted:  # names, which each caller filters by the caller's own rights
        assert inspect.signature(getattr(SecretRows, name)).return_annotation == "list[str]"


def test_a_row_is_removed_only_with_delete(service: SecretService) -> None:
    everything = system_grant("secret", "app/db", "test")
    service.write_granted(everything, {"k": "v1"})
    rows = SecretRows(service._store)
    reader = granted(
        _identity('path "secret/data/app/*" { capabilities = ["read"] }'),
        "read",
        "secret/data/app/db",
        "secret",
        "app/db",
    )
    assert rows.get(reader) is not None and [v.version for v in rows.versions(reader)] == [1]
    with pytest.raises(AccessDenied):
        rows.delete(reader)
    assert rows.exists(reader)
    assert rows.delete(everything) and not rows.exists(reader)


def test_a_listing_grants_only_what_the_caller_may_see() -> None:
    lister = _identity('path "kv/metadata/app/*" { capabilities = ["list"] }')
    seen = grant_listed(lister, "kv", "app/db")
    assert seen is not None and seen.capabilities == {"list"} and seen.path == "app/db"
    assert grant_listed(lister, "kv", "other/db") is None
    with pytest.raises(AccessDenied):
        seen.require("read")
