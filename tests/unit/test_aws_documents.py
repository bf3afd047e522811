"""AWS policy documents (policy/aws_documents.py): what they decide, what they refuse."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from strongroom.policy.aws_documents import (
    Decision,
    PolicyDocument,
    PolicyDocumentError,
    PolicyRequest,
    wildcard_match,
)

ACCOUNT = "111122223333"
ME = f"arn:aws:iam::{ACCOUNT}:user/me"
KEYS = ("aws:PrincipalArn", "kms:EncryptionContext:", "kms:EncryptionContextKeys")


def _parse(*statements: dict[str, Any]) -> PolicyDocument:
    text = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
    return PolicyDocument.parse(text, service="kms", max_chars=32_768, condition_keys=KEYS)


def _ask(
    document: PolicyDocument,
    action: str = "kms:Decrypt",
    principal: str = ME,
    context: dict[str, tuple[str, ...]] | None = None,
) -> Decision:
    request = PolicyRequest(
        principal, ACCOUNT, action, f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/k", context or {}
    )
    return document.decide(request)


def _allow(principal: Any, action: Any = "kms:*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*", **extra}


def test_a_deny_wins_then_a_named_allow_then_the_account() -> None:
    account = _allow({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
    named = _allow({"AWS": ME}, "kms:Decrypt")
    deny = {**_allow({"AWS": ACCOUNT}, "kms:Decrypt"), "Effect": "Deny"}
    assert _ask(_parse(account)) is Decision.ACCOUNT
    assert _ask(_parse(account, named)) is Decision.ALLOW
    assert _ask(_parse(account, named, deny)) is Decision.DENY  # the account's Deny binds me
    assert _ask(_parse(named), "kms:Encrypt") is Decision.NONE
    assert _ask(_parse(_allow("*", "kms:De*"))) is Decision.ALLOW
    assert _ask(_parse(_allow({"AWS": "arn:aws:iam::999999999999:root"}))) is Decision.NONE
    assert _ask(_parse(_allow({"Service": "logs.amazonaws.com"}))) is Decision.NONE
    not_decrypt = {"Effect": "Allow", "Principal": {"AWS": ME}, "NotAction": "kms:Decrypt"}
    assert _ask(_parse({**not_decrypt, "Resource": "*"})) is Decision.NONE
    assert _ask(_parse({**not_decrypt, "Resource": "*"}), "kms:Encrypt") is Decision.ALLOW


def test_conditions() -> None:
    def allowed_when(condition: dict[str, Any], **context: tuple[str, ...]) -> bool:
        document = _parse(_allow({"AWS": ME}, Condition=condition))
        return _ask(document, context=context) is Decision.ALLOW

    tenant = "kms:encryptioncontext:tenant"
    equals = {"StringEquals": {"kms:EncryptionContext:tenant": "a"}}
    assert allowed_when(equals, **{tenant: ("a",)})
    assert not allowed_when(equals, **{tenant: ("b",)})
    assert not allowed_when(equals)  # a missing key fails a positive operator
    assert allowed_when({"StringEqualsIfExists": {"kms:EncryptionContext:tenant": "a"}})
    assert allowed_when({"StringNotEquals": {"kms:EncryptionContext:tenant": "a"}})
    assert allowed_when(
        {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/m?"}},
        **{"aws:principalarn": (ME,)},
    )
    assert allowed_when({"Null": {"kms:EncryptionContext:tenant": "true"}})
    keys = ("tenant", "region")
    any_of = {"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": ["tenant"]}}
    all_of = {"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["tenant"]}}
    assert allowed_when(any_of, **{"kms:encryptioncontextkeys": keys})
    assert not allowed_when(all_of, **{"kms:encryptioncontextkeys": keys})
    assert allowed_when(all_of, **{"kms:encryptioncontextkeys": ("tenant",)})


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Maybe", "Principal": "*", "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Principal": "*", "Resource": "*"},
        {"Effect": "Allow", "Principal": "*", "Action": "*", "NotAction": "*", "Resource": "*"},
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": "*", "Action": "*"},
        {"Effect": "Allow", "NotPrincipal": "*", "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"Federated": "x"}, "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": "me"}, "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Principal": "*", "Action": 3, "Resource": "*"},
        _allow("*", Condition={"DateGreaterThan": {"aws:CurrentTime": "2020-01-01"}}),
        _allow("*", Condition={"StringEquals": {"aws:SourceIp": "10.0.0.1"}}),
        _allow("*", Condition={"ForSomeValues:StringEquals": {"aws:PrincipalArn": "x"}}),
        _allow("*", Condition={"Null": {"aws:PrincipalArn": "maybe"}}),
        _allow("*", Condition={"StringEquals": {"aws:PrincipalArn": []}}),
        _allow("*", Extra=1),
    ],
)
def test_outside_the_subset_is_refused(statement: dict[str, Any]) -> None:
    with pytest.raises(PolicyDocumentError):
        _parse(statement)


@pytest.mark.parametrize(
    "text",
    ["", "{", "[]", '{"Statement": []}', '{"Version": "2020", "Statement": {}}', "[" * 100_000],
)
def test_malformed_documents_are_refused(text: str) -> None:
    with pytest.raises(PolicyDocumentError):
        PolicyDocument.parse(text, service="kms", max_chars=200_000, condition_keys=KEYS)


def test_broad_access() -> None:
    assert _parse(_allow("*")).broad()
    assert _parse(_allow({"AWS": "*"})).broad()
    assert not _parse(_allow({"AWS": ME})).broad()
    narrowed = _allow("*", Condition={"StringEquals": {"aws:PrincipalArn": ME}})
    assert not _parse(narrowed).broad()
    assert not _parse({**_allow("*"), "Effect": "Deny"}).broad()


def test_wildcards_take_linear_time() -> None:
    assert wildcard_match("a*b?d", "aXXbcd") and not wildcard_match("a*b?d", "aXXbd")
    assert wildcard_match("*", "") and wildcard_match("", "") and not wildcard_match("", "x")
    started = time.perf_counter()
    assert not wildcard_match("*a" * 1_000 + "b", "a" * 20_000)
    assert not wildcard_match("*" + "a" * 2_000 + "b*", "a" * 100_000)
    assert not wildcard_match("*" + "a?" * 100 + "b*", "a" * 8_192)
    assert time.perf_counter() - started < 5  # a backtracking regex takes for ever on these
