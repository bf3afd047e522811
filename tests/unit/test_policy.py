"""The policy parser and engine, including a differential test against a simple reference."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.errors import BadRequest
from strongroom.policy import CAPABILITIES, Policy, Rule, compile_acl, format_policy, parse_policy

VAULT_POLICY = """
# Vault's own example, unchanged
path "secret/*" {
  capabilities = ["create", "read", "update", "patch", "delete", "list"]
}
path "secret/super-secret" { capabilities = ["deny"] }
/* block comment */
path "secret/+/team" { capabilities = ["read"] }  // trailing comment
path "sys/legacy" { policy = "write" }
"""


def test_vault_hcl_parses_and_matches() -> None:
    acl = compile_acl([parse_policy("vault", VAULT_POLICY)])
    assert acl.allows("read", "secret/app/db")
    assert acl.capabilities("secret/super-secret") == frozenset()
    assert acl.capabilities("secret/x/team") == {"read"}  # the + rule wins over the glob
    assert acl.allows("delete", "sys/legacy") and not acl.allows("sudo", "sys/legacy")
    assert not acl.allows("read", "other/x")


def test_json_form_equals_hcl() -> None:
    hcl = parse_policy("a", 'path "secret/app/*" { capabilities = ["read", "list"] }')
    doc = parse_policy("a", '{"path": {"secret/app/*": {"capabilities": ["read", "list"]}}}')
    assert hcl.rules == doc.rules
    assert parse_policy("a", format_policy(hcl)).rules == hcl.rules


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('path "a/*" { capabilities = ["reed"] }', "rule 'a/*': unknown capability 'reed'"),
        ('path "a/*x" { capabilities = ["read"] }', "'*' is allowed only at the end"),
        ('path "a/../b" { capabilities = ["read"] }', "'.' and '..' segments"),
        ('path "a//b" { capabilities = ["read"] }', "empty segments"),
        ('path "a" { allowed_parameters = {} }', "allowed_parameters is not supported"),
        ('path "a" { capabilities = [] }', "grants nothing"),
        ('path "a" { capabilities = ["read"]', "line 1: expected }"),
        ('pathx "a" {}', "unknown block 'pathx'"),
        ("\n\npath 'a' {}", "line 3: unexpected character"),
    ],
)
def test_parse_errors_name_the_rule(text: str, fragment: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_policy("p", text)
    assert fragment in caught.value.message


def test_deny_on_the_same_path_wins_across_policies() -> None:
    allow = parse_policy("allow", 'path "secret/a" { capabilities = ["read"] }')
    deny = parse_policy("deny", 'path "secret/a" { capabilities = ["deny"] }')
    assert compile_acl([allow, deny]).capabilities("secret/a") == frozenset()
    merged = parse_policy("more", 'path "secret/a" { capabilities = ["list"] }')
    assert compile_acl([allow, merged]).capabilities("secret/a") == {"read", "list"}


# -- differential test: the compiled engine against a deliberately simple reference model


def _segments_match(rule: str, path: str) -> bool:
    """Reference matching, written segment by segment without regular expressions."""
    glob = rule.endswith("*")
    body = rule[:-1] if glob else rule
    rule_parts = body.split("/")
    path_parts = path.split("/")
    if not glob:
        return len(rule_parts) == len(path_parts) and all(
            r == p or (r == "+" and p != "") for r, p in zip(rule_parts, path_parts, strict=True)
        )
    # All but the last rule segment match whole segments; the last one is a string prefix of
    # the rest of the path.
    if len(path_parts) < len(rule_parts):
        return False
    for r, p in zip(rule_parts[:-1], path_parts, strict=False):
        if not (r == p or (r == "+" and p != "")):
            return False
    rest = "/".join(path_parts[len(rule_parts) - 1 :])
    last = rule_parts[-1]
    if last == "+":
        head = rest.split("/")[0]
        return head != ""
    return rest.startswith(last)


def _compare(a: str, b: str) -> int:
    """Vault's documented precedence, one rule after the other; positive when a wins."""

    def first_wildcard(p: str) -> int:
        positions = [len(p) + 1]
        offset = 0
        body = p[:-1] if p.endswith("*") else p
        for segment in body.split("/"):
            if segment == "+":
                positions.append(offset)
            offset += len(segment) + 1
        if p.endswith("*"):
            positions.append(len(p) - 1)
        return min(positions)

    def plus_count(p: str) -> int:
        return sum(1 for s in (p[:-1] if p.endswith("*") else p).split("/") if s == "+")

    for key in (
        first_wildcard,
        lambda p: 0 if p.endswith("*") else 1,
        lambda p: -plus_count(p),
        len,
    ):
        ka, kb = key(a), key(b)
        if ka != kb:
            return 1 if ka > kb else -1
    return (a > b) - (a < b)


def reference_capabilities(policies: list[Policy], path: str) -> frozenset[str]:
    rules: dict[str, set[str]] = {}
    for policy in policies:
        for rule in policy.rules:
            rules.setdefault(rule.path, set()).update(rule.capabilities)
    matching = [r for r in rules if _segments_match(r, path)]
    if not matching:
        return frozenset()
    best = max(matching, key=functools.cmp_to_key(_compare))
    caps = rules[best]
    return frozenset() if "deny" in caps else frozenset(caps)


_SEGMENT = st.sampled_from(["secret", "app", "db", "a", "ab", "+", "x.y", "é", "team", "sys"])
_PATH_SEGMENT = st.sampled_from(
    ["secret", "app", "db", "a", "ab", "abc", "x.y", "é", "team", "sys"]
)


@st.composite
def rule_paths(draw: st.DrawFn) -> str:
    segments = draw(st.lists(_SEGMENT, min_size=1, max_size=4))
    path = "/".join(segments)
    ending = draw(st.sampled_from(["", "*", "/", "/*", "a*"]))
    return path + ending


@st.composite
def policies(draw: st.DrawFn) -> list[Policy]:
    result = []
    for n in range(draw(st.integers(1, 3))):
        rules = []
        for path in draw(st.lists(rule_paths(), min_size=1, max_size=6, unique=True)):
            caps = draw(st.frozensets(st.sampled_from(CAPABILITIES), min_size=1, max_size=3))
            rules.append(Rule(path, caps))
        result.append(Policy(f"p{n}", tuple(rules)))
    return result


@st.composite
def request_paths(draw: st.DrawFn) -> str:
    segments = draw(st.lists(_PATH_SEGMENT, min_size=1, max_size=5))
    return "/".join(segments) + draw(st.sampled_from(["", "/"]))


@settings(max_examples=1500, deadline=None)
@given(policies(), st.lists(request_paths(), min_size=1, max_size=8))
def test_engine_equals_the_reference_model(generated: list[Policy], paths: list[str]) -> None:
    acl = compile_acl(generated)
    for path in paths:
        assert acl.capabilities(path) == reference_capabilities(generated, path), path


@pytest.mark.parametrize(
    "text",
    [
        '{"path": {"secret/a": {"capabilities": ["deny"]},'
        ' "secret/a": {"capabilities": ["read"]}}}',
        '{"path": {"secret/a": {"capabilities": ["deny"], "capabilities": ["read"]}}}',
        'path "secret/a" { capabilities = ["deny"] capabilities = ["read"] }',
        'path "secret/a\u200b" { capabilities = ["read"] }',
        'path "secret/\u202eb" { capabilities = ["read"] }',
        'path "secret/e\u0301" { capabilities = ["read"] }',
    ],
)
def test_duplicates_and_invisible_characters_are_refused(text: str) -> None:
    """Issue 9, finding 19: a repeated key kept only the last (a deny could vanish)."""
    with pytest.raises(BadRequest):
        parse_policy("p", text)


def test_vault_parameter_constraints_say_not_supported() -> None:
    text = 'path "secret/a" { capabilities = ["update"] allowed_parameters = {"*" = []} }'
    with pytest.raises(BadRequest, match="not supported"):
        parse_policy("p", text)


@pytest.mark.parametrize("path", ["secret/a/../b", "secret//a", "secret/./a", "secret/a\u200b"])
def test_capabilities_self_refuses_non_canonical_paths(path: str) -> None:
    from strongroom.auth import Identity
    from strongroom.service.admin import SystemService

    with pytest.raises(BadRequest):
        SystemService.capabilities(Identity.system(), [path])
    assert SystemService.capabilities(Identity.system(), ["secret/a/"]) == {"secret/a/": ["root"]}
