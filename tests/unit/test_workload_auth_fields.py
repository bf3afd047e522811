"""The workload auth methods' fields that hvac's suite found missing (issue 23, 7), at their seams:
a CA certificate kept as written that does not parse is refused before any connection, a role's
``token_type``, and Vault's glob bound claims."""

from __future__ import annotations

import socket

import pytest

from strongroom.auth.egress_json import egress_json
from strongroom.auth.jwt_auth import JwtRole, _bound
from strongroom.auth.request_fields import token_type
from strongroom.egress import EgressPolicy
from strongroom.errors import BadRequest, Unauthenticated

PLACEHOLDER_CA = "-----BEGIN CERTIFICATE-----\\n.....\\n-----END CERTIFICATE-----"


def test_a_ca_that_does_not_parse_fails_before_any_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_lookup(*args: object, **kwargs: object) -> object:
        raise AssertionError("looked the host up: the CA should have been refused first")

    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    with pytest.raises(Unauthenticated, match="CA certificate does not parse"):
        egress_json(
            EgressPolicy(), "https://cluster.example:6443/x", "the cluster", ca_pem=PLACEHOLDER_CA
        )


@pytest.mark.parametrize(
    ("given", "kept"), [({}, "default"), ({"token_type": "service"}, "service")]
)
def test_a_roles_token_type_is_kept_as_given(given: dict[str, str], kept: str) -> None:
    assert token_type(given) == kept


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("batch", "service tokens only"),
        ("default-service", "invalid 'token_type' value \"default-service\""),
        ("", "invalid 'token_type'"),
    ],
)
def test_token_types_strongroom_does_not_issue_are_refused(value: str, words: str) -> None:
    with pytest.raises(BadRequest, match=words):
        token_type({"token_type": value})


def _role(kind: str, bound: object) -> JwtRole:
    return JwtRole(
        token_policies=[], bound_claims={"ref": bound}, bound_claims_type=kind, user_claim="sub"
    )


@pytest.mark.parametrize(
    ("kind", "bound", "ref", "allowed"),
    [
        ("glob", "refs/heads/release-*", "refs/heads/release-1.2", True),
        ("glob", "refs/heads/release-*", "refs/heads/main", False),
        ("glob", ["refs/tags/*", "refs/heads/main"], "refs/heads/main", True),
        ("glob", "refs/heads/v?.0", "refs/heads/v1.0", False),  # only * is special, as in Vault
        ("glob", "refs/heads/v?.0", "refs/heads/v?.0", True),
        ("glob", "*", "", True),
        ("string", "refs/heads/release-*", "refs/heads/release-1.2", False),
        ("string", "refs/heads/release-*", "refs/heads/release-*", True),
    ],
)
def test_bound_claims_match_by_their_type(
    kind: str, bound: object, ref: str, allowed: bool
) -> None:
    assert _bound(_role(kind, bound), {"ref": ref, "sub": "x"}) is allowed


def test_a_glob_never_matches_a_value_that_is_not_text() -> None:
    assert not _bound(_role("glob", "*"), {"ref": 7, "sub": "x"})
