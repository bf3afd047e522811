"""Policy documents: Vault's HCL syntax (the subset policies use) or the JSON form.

Accepted, as in Vault::

    # comment, // comment, /* block comment */
    path "secret/app/*" { capabilities = ["read", "list"] }
    path "secret/legacy" { policy = "write" }          # legacy shorthand
    {"path": {"secret/app/*": {"capabilities": ["read"]}}}  # JSON

Vault's parameter constraints (``allowed_parameters`` …) and control groups are refused with a
clear error rather than ignored: ignoring a restriction would grant more than the author meant.
Every error names the policy and, where there is one, the rule and the line."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from strongroom.errors import BadRequest
from strongroom.policy.model import CAPABILITIES, Policy, Rule

__all__ = [
    "MAX_POLICY_BYTES",
    "MAX_RULES",
    "RESERVED_POLICIES",
    "assignable_policies",
    "format_policy",
    "parse_policy",
    "validate_policy_name",
]

MAX_POLICY_BYTES = 64 * 1024
MAX_RULES = 1000
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,127}$")
# Names the server gives a meaning to, with what it is: a policy of that name, or a token, role,
# user or key given it, would change what the server's own tokens are. ``root`` is built in;
# ``default`` may be edited, as on Vault.
RESERVED_POLICIES = {
    "response-wrapping": "carried by response-wrapping tokens, which may only unwrap",
}
_LEGACY = {
    "deny": ("deny",),
    "read": ("read", "list"),
    "write": ("create", "read", "update", "patch", "delete", "list"),
    "sudo": ("create", "read", "update", "patch", "delete", "list", "sudo"),
}
_UNSUPPORTED = {
    "allowed_parameters",
    "denied_parameters",
    "required_parameters",
    "min_wrapping_ttl",
    "max_wrapping_ttl",
    "control_group",
    "mfa_methods",
    "subscribe_event_types",
}
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<comment>\#[^\n]*|//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<ident>[A-Za-z_][A-Za-z0-9_-]*)
  | (?P<punct>[{}\[\]=,])
    """,
    re.VERBOSE | re.DOTALL,
)


def validate_policy_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise BadRequest(
            "invalid policy name: use 1-128 characters from a-z, 0-9, '_', '-' and '.', "
            "starting with a letter or digit"
        )
    return name


def assignable_policies(names: Iterable[str]) -> tuple[str, ...]:
    """Policy names a token, role, user or access key may be given: valid, and not reserved."""
    given = tuple(names)
    for name in given:
        validate_policy_name(name)
        if name in RESERVED_POLICIES:
            raise BadRequest(
                f"the {name} policy is reserved by the server ({RESERVED_POLICIES[name]}) "
                "and cannot be given to a token, role, user or access key"
            )
    return given


class _Tokens:
    def __init__(self, text: str, policy: str) -> None:
        self.items: list[tuple[str, str, int]] = []
        self.policy = policy
        pos, line = 0, 1
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None:
                raise self.error(f"unexpected character {text[pos]!r}", line)
            kind = match.lastgroup or ""
            if kind in ("string", "ident", "punct"):
                self.items.append((kind, match.group(), line))
            line += match.group().count("\n")
            pos = match.end()
        self.index = 0

    def error(self, message: str, line: int | None = None) -> BadRequest:
        if line is None:
            line = self.items[min(self.index, len(self.items) - 1)][2] if self.items else 1
        return BadRequest(f"policy {self.policy!r}, line {line}: {message}")

    def peek(self) -> tuple[str, str, int] | None:
        return self.items[self.index] if self.index < len(self.items) else None

    def take(self, kind: str, value: str | None = None) -> str:
        item = self.peek()
        if item is None or item[0] != kind or (value is not None and item[1] != value):
            found = "end of document" if item is None else repr(item[1])
            raise self.error(f"expected {value or kind}, found {found}")
        self.index += 1
        return item[1]

    def string(self) -> str:
        raw = self.take("string")
        try:
            value: str = json.loads(raw)
        except ValueError:
            raise self.error(f"invalid string {raw}") from None
        return value


def _value(tokens: _Tokens) -> Any:
    item = tokens.peek()
    if item is None:
        raise tokens.error("expected a value, found end of document")
    if item[0] == "string":
        return tokens.string()
    if item[1] == "[":
        tokens.take("punct", "[")
        values: list[Any] = []
        while (nxt := tokens.peek()) is not None and nxt[1] != "]":
            values.append(_value(tokens))
            if (sep := tokens.peek()) is not None and sep[1] == ",":
                tokens.take("punct", ",")
        tokens.take("punct", "]")
        return values
    if item[1] == "{":
        return _block(tokens)
    if item[0] == "ident" and item[1] in ("true", "false"):
        tokens.take("ident")
        return item[1] == "true"
    raise tokens.error(f"unexpected {item[1]!r}")


def _block(tokens: _Tokens) -> dict[str, Any]:
    tokens.take("punct", "{")
    body: dict[str, Any] = {}
    while (item := tokens.peek()) is not None and item[1] != "}":
        key = tokens.string() if item[0] == "string" else tokens.take("ident")
        if key in body:
            # Keeping the last of two would let a later line silently drop a "deny".
            raise tokens.error(f"{key!r} is given twice in one block; merge them")
        if (nxt := tokens.peek()) is not None and nxt[1] == "=":
            tokens.take("punct", "=")
        body[key] = _value(tokens)
        if (sep := tokens.peek()) is not None and sep[1] == ",":
            tokens.take("punct", ",")
    tokens.take("punct", "}")
    return body


def _parse_hcl(text: str, name: str) -> list[tuple[str, dict[str, Any]]]:
    tokens = _Tokens(text, name)
    rules: list[tuple[str, dict[str, Any]]] = []
    while tokens.peek() is not None:
        keyword = tokens.take("ident")
        if keyword != "path":
            raise tokens.error(f"unknown block {keyword!r}; a policy is a list of path blocks")
        path = tokens.string()
        if (nxt := tokens.peek()) is not None and nxt[1] == "=":
            tokens.take("punct", "=")
        rules.append((path, _block(tokens)))
    return rules


def _parse_json(doc: Any, name: str) -> list[tuple[str, dict[str, Any]]]:
    if not isinstance(doc, dict) or set(doc) - {"path"}:
        raise BadRequest(f'policy {name!r}: a JSON policy is {{"path": {{"<path>": {{...}}}}}}')
    paths = doc.get("path", {})
    blocks = paths if isinstance(paths, list) else [paths]
    rules: list[tuple[str, dict[str, Any]]] = []
    for block in blocks:
        if not isinstance(block, dict):
            raise BadRequest(f'policy {name!r}: "path" must map paths to rule objects')
        for path, body in block.items():
            if not isinstance(body, dict):
                raise BadRequest(f"policy {name!r}, rule {path!r}: the rule must be an object")
            rules.append((path, body))
    return rules


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        # json.loads would keep the last of two: a "deny" could silently vanish.
        raise ValueError(f"the key {repeated[0]!r} is given twice in one object")
    return dict(pairs)


def _check_rule_path(path: str, where: str) -> None:
    if path.startswith("/"):
        raise BadRequest(f"{where}: paths have no leading '/'")
    body = path[:-1] if path.endswith("*") else path
    if "*" in body:
        raise BadRequest(f"{where}: '*' is allowed only at the end of a path")
    segments = body.split("/")
    for i, segment in enumerate(segments):
        if segment in (".", ".."):
            raise BadRequest(f"{where}: '.' and '..' segments never match a canonical path")
        if segment == "" and i != len(segments) - 1:
            raise BadRequest(f"{where}: empty segments ('//') never match a canonical path")
    if any(unicodedata.category(c) in _INVISIBLE for c in path) or "%" in path or "\\" in path:
        raise BadRequest(
            f"{where}: control and invisible (format) characters, '%' and '\\' are not allowed"
        )
    if unicodedata.normalize("NFC", path) != path:
        raise BadRequest(f"{where}: a rule path must be in Unicode NFC form")
    if len(path.encode()) > 1024:
        raise BadRequest(f"{where}: a rule path is at most 1024 bytes")


def _rule(path: str, body: dict[str, Any], name: str) -> Rule:
    where = f"policy {name!r}, rule {path!r}"
    _check_rule_path(path, where)
    unsupported = sorted(set(body) & _UNSUPPORTED)
    if unsupported:
        raise BadRequest(f"{where}: {', '.join(unsupported)} is not supported by strongroom")
    unknown = sorted(set(body) - {"capabilities", "policy"})
    if unknown:
        raise BadRequest(f"{where}: unknown attribute {unknown[0]!r}; use capabilities")
    caps: set[str] = set()
    if "policy" in body:
        legacy = body["policy"]
        if legacy not in _LEGACY:
            raise BadRequest(f"{where}: policy must be one of {', '.join(_LEGACY)}")
        caps.update(_LEGACY[legacy])
    if "capabilities" in body:
        listed = body["capabilities"]
        if not isinstance(listed, list) or not all(isinstance(c, str) for c in listed):
            raise BadRequest(f"{where}: capabilities must be a list of strings")
        for cap in listed:
            if cap not in CAPABILITIES:
                raise BadRequest(
                    f"{where}: unknown capability {cap!r}; use {', '.join(CAPABILITIES)}"
                )
        caps.update(listed)
    if not caps:
        raise BadRequest(f"{where}: the rule grants nothing; give it capabilities")
    return Rule(path, frozenset(caps))


def parse_policy(name: str, text: str) -> Policy:
    """Parse an HCL or JSON policy; BadRequest names the rule (and line) that is wrong."""
    validate_policy_name(name)
    if len(text.encode()) > MAX_POLICY_BYTES:
        raise BadRequest(f"policy {name!r} is larger than {MAX_POLICY_BYTES} bytes")
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            raw = _parse_json(json.loads(text, object_pairs_hook=_unique_keys), name)
        except RecursionError:
            raise BadRequest(f"policy {name!r}: JSON is nested too deeply") from None
        except ValueError as exc:
            raise BadRequest(f"policy {name!r}: invalid JSON ({exc})") from None
    else:
        raw = _parse_hcl(text, name)
    if len(raw) > MAX_RULES:
        raise BadRequest(f"policy {name!r} has more than {MAX_RULES} rules")
    merged: dict[str, frozenset[str]] = {}
    for path, body in raw:
        rule = _rule(path, body, name)
        merged[path] = merged.get(path, frozenset()) | rule.capabilities
    rules = tuple(Rule(path, caps) for path, caps in merged.items())
    return Policy(name, rules, text)


def format_policy(policy: Policy) -> str:
    """Canonical HCL: one block per path, sorted, capabilities in Vault's order."""
    blocks = []
    for rule in sorted(policy.rules, key=lambda r: r.path):
        caps = ", ".join(f'"{c}"' for c in CAPABILITIES if c in rule.capabilities)
        blocks.append(f"path {json.dumps(rule.path)} {{\n  capabilities = [{caps}]\n}}\n")
    return "\n".join(blocks)
