"""Vault's write rule (``create`` for a new secret, ``update`` for an existing one) as the
identity applies it: the existence look-up is made only when the answer decides."""

from __future__ import annotations

import pytest

from strongroom.auth import Identity
from strongroom.errors import AccessDenied
from strongroom.policy import compile_acl, parse_policy

PATH = "secret/data/app/db"


def _identity(capabilities: str) -> Identity:
    rules = f'path "secret/data/app/*" {{ capabilities = [{capabilities}] }}'
    return Identity("t", ("t",), compile_acl([parse_policy("t", rules)]))


class _Existence:
    def __init__(self, found: bool) -> None:
        self.found, self.asked = found, 0

    def __call__(self) -> bool:
        self.asked += 1
        return self.found


@pytest.mark.parametrize("found", [True, False])
def test_holding_both_capabilities_needs_no_look_up(found: bool) -> None:
    exists = _Existence(found)
    _identity('"create", "update"').require_create_or_update(PATH, exists)
    Identity.system().require_create_or_update(PATH, exists)
    assert exists.asked == 0


@pytest.mark.parametrize(
    ("capability", "found", "allowed"),
    [
        ("create", False, True),
        ("create", True, False),
        ("update", True, True),
        ("update", False, False),
    ],
)
def test_one_capability_is_checked_against_what_exists(
    capability: str, found: bool, allowed: bool
) -> None:
    exists = _Existence(found)
    identity = _identity(f'"{capability}"')
    if allowed:
        identity.require_create_or_update(PATH, exists)
    else:
        with pytest.raises(AccessDenied):
            identity.require_create_or_update(PATH, exists)
    assert exists.asked == 1


def test_neither_capability_is_refused_without_a_look_up() -> None:
    exists = _Existence(True)
    with pytest.raises(AccessDenied) as refused:
        _identity('"read"').require_create_or_update(PATH, exists)
    assert exists.asked == 0
    assert "create or update" in str(refused.value)
