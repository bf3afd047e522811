"""AWS policy documents (a secret's resource policy, a KMS key's key policy): parsed, checked and
evaluated as AWS's policy language has them, for the subset below. What is outside it is refused
when the document is put, never stored and ignored: an ignored ``Deny`` would grant silently.

A document answers one question per request (``decide``): a matching ``Deny`` wins; else an
``Allow`` naming the caller (or ``*``) grants by itself; else an ``Allow`` naming the caller's
account defers to strongroom's own policies, as AWS defers to IAM; else nothing is said.

The subset:

- top level: ``Version`` (``2012-10-17`` or ``2008-10-17``), ``Id``, ``Statement`` (an object or
  a list);
- a statement: ``Sid``, ``Effect``, ``Principal`` (``"*"``, or ``{"AWS": …}`` naming ``*``, an
  account id, ``arn:aws:iam::ACCOUNT:root``, users and roles; ``{"Service": …}`` is kept and
  matches no caller here), ``Action``/``NotAction``, ``Resource``/``NotResource``, ``Condition``;
- wildcards ``*`` and ``?`` in actions (case-insensitive) and resources;
- condition operators ``String(Not)Equals``, ``String(Not)EqualsIgnoreCase``,
  ``String(Not)Like``, ``Arn(Not)Equals``, ``Arn(Not)Like``, ``Bool``, each with ``IfExists``,
  the ``ForAnyValue:``/``ForAllValues:`` qualifiers, and ``Null``; over the keys each service
  names (``condition_keys``).

Wildcards are matched piece by piece with the C string search, never by a backtracking regular
expression, and every string of a document is at most MAX_STRING characters, so a document
cannot make the server do unbounded work."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from strongroom.errors import BadRequest

__all__ = [
    "MAX_STRING",
    "Decision",
    "DocumentCache",
    "PolicyDocument",
    "PolicyDocumentError",
    "PolicyRequest",
    "account_arn",
    "wildcard_match",
]

MAX_STRING = 2048  # characters in any one action, resource, principal or condition value
_VERSIONS = ("2012-10-17", "2008-10-17")
_STATEMENT_KEYS = {
    "Sid",
    "Effect",
    "Principal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
}
_ACCOUNT = re.compile(r"^[0-9]{12}$")
_IAM_PRINCIPAL = re.compile(
    r"^arn:aws:(iam::[0-9]{12}:(root|(user|role)/[\w+=,.@/-]{1,512})"
    r"|sts::[0-9]{12}:assumed-role/[\w+=,.@/-]{1,512})$"
)
_OPERATORS = {
    "StringEquals": ("string", False),
    "StringNotEquals": ("string", True),
    "StringEqualsIgnoreCase": ("fold", False),
    "StringNotEqualsIgnoreCase": ("fold", True),
    "StringLike": ("like", False),
    "StringNotLike": ("like", True),
    "ArnEquals": ("like", False),
    "ArnNotEquals": ("like", True),
    "ArnLike": ("like", False),
    "ArnNotLike": ("like", True),
    "Bool": ("fold", False),
}


class PolicyDocumentError(BadRequest):
    """A document outside the language or the subset: MalformedPolicyDocumentException."""


class Decision(IntEnum):
    NONE = 0  # no statement applies
    ACCOUNT = 1  # allowed for the caller's account: strongroom's own policies decide
    ALLOW = 2  # allowed for the caller by name (or "*")
    DENY = 3


@dataclass(frozen=True)
class PolicyRequest:
    principal: str  # the caller's ARN
    account: str
    action: str  # "secretsmanager:GetSecretValue"
    resource: str  # the resource's ARN
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # lower-case keys


def account_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:root"


def wildcard_match(pattern: str, text: str) -> bool:
    """``*`` (any run) and ``?`` (one character). The pieces between stars are found leftmost,
    in order (which is exact for these patterns), by the C string search: no backtracking."""
    first, *rest = pattern.split("*")
    if not rest:
        return len(first) == len(text) and _fits(first, text, 0)
    last = rest.pop()
    end = len(text) - len(last)
    if len(first) > end or not (_fits(first, text, 0) and _fits(last, text, end)):
        return False
    position = len(first)
    for piece in rest:
        if piece:
            found = _find(piece, text, position, end)
            if found < 0:
                return False
            position = found + len(piece)
    return True


def _fits(piece: str, text: str, at: int) -> bool:
    window = text[at : at + len(piece)]
    return len(window) == len(piece) and all(
        p in ("?", t) for p, t in zip(piece, window, strict=True)
    )


def _find(piece: str, text: str, start: int, end: int) -> int:
    if "?" not in piece:
        return text.find(piece, start, end)
    found = _piece_pattern(piece).search(text, start, end)
    return found.start() if found else -1


@functools.lru_cache(maxsize=1024)
def _piece_pattern(piece: str) -> re.Pattern[str]:
    # literal characters and "." only: no quantifier, so the search cannot backtrack
    return re.compile("".join("." if c == "?" else re.escape(c) for c in piece), re.DOTALL)


@dataclass(frozen=True)
class _Condition:
    kind: str  # string | fold | like | null
    negated: bool
    if_exists: bool
    for_all: bool
    key: str  # lower case
    values: tuple[str, ...]

    def holds(self, context: Mapping[str, tuple[str, ...]]) -> bool:
        found = context.get(self.key)
        if self.kind == "null":
            return (found is None) == (self.values[0].lower() == "true")
        if found is None:
            return self.if_exists or self.negated
        matched = [any(self._compare(c, v) for c in self.values) for v in found]
        if self.negated:
            return not any(matched)
        return all(matched) if self.for_all else any(matched)

    def _compare(self, wanted: str, value: str) -> bool:
        if self.kind == "string":
            return wanted == value
        if self.kind == "fold":
            return wanted.casefold() == value.casefold()
        return wildcard_match(wanted, value)


@dataclass(frozen=True)
class _Statement:
    deny: bool
    principals: tuple[str, ...]
    actions: tuple[str, ...]  # lower case
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    conditions: tuple[_Condition, ...]

    def principal_match(self, request: PolicyRequest) -> Decision:
        """ALLOW for the caller by name (or anyone), ACCOUNT for the caller's account."""
        best = Decision.NONE
        for principal in self.principals:
            if principal in ("*", request.principal):
                return Decision.ALLOW
            if principal in (request.account, account_arn(request.account)):
                best = Decision.ACCOUNT
        return best

    def applies(self, request: PolicyRequest) -> bool:
        action = request.action.lower()
        hit = any(wildcard_match(a, action) for a in self.actions)
        if hit == self.not_action:
            return False
        hit = any(wildcard_match(r, request.resource) for r in self.resources)
        if hit == self.not_resource:
            return False
        return all(c.holds(request.context) for c in self.conditions)


@dataclass(frozen=True)
class PolicyDocument:
    text: str = field(repr=False)
    statements: tuple[_Statement, ...] = field(repr=False)

    @classmethod
    def parse(
        cls, text: str, *, service: str, max_chars: int, condition_keys: Iterable[str]
    ) -> PolicyDocument:
        """The document ``text``, whose actions are ``service:…``; condition keys are those
        named in ``condition_keys`` (lower case; one ending in ``:`` or ``/`` is a prefix)."""
        if not 1 <= len(text) <= max_chars:
            raise PolicyDocumentError(f"A policy is a JSON document of 1-{max_chars} characters.")
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError):
            raise PolicyDocumentError("The policy is not valid JSON.") from None
        if not isinstance(doc, dict):
            raise PolicyDocumentError("A policy is a JSON object.")
        unknown = set(doc) - {"Version", "Id", "Statement"}
        if unknown:
            raise PolicyDocumentError(f"Unknown policy element {sorted(unknown)[0]!r}.")
        if doc.get("Version", "2008-10-17") not in _VERSIONS:
            raise PolicyDocumentError(f"Version is one of {', '.join(_VERSIONS)}.")
        raw = doc.get("Statement")
        listed: list[Any] = raw if isinstance(raw, list) else [raw]
        if not listed or not all(isinstance(s, dict) for s in listed):
            raise PolicyDocumentError("Statement is a statement object or a list of them.")
        keys = tuple(k.lower() for k in condition_keys)
        statements = tuple(_statement(s, service, keys) for s in listed)
        return cls(text, statements)

    def decide(self, request: PolicyRequest) -> Decision:
        verdict = Decision.NONE
        for statement in self.statements:
            who = statement.principal_match(request)
            if who is Decision.NONE or not statement.applies(request):
                continue
            if statement.deny:
                return Decision.DENY
            verdict = max(verdict, who)
        return verdict

    def broad(self) -> bool:
        """Whether an ``Allow`` is open to any principal, unnarrowed by a condition on who the
        caller is: what BlockPublicPolicy refuses."""
        narrowing = ("aws:principalarn", "aws:principalaccount", "kms:calleraccount")
        return any(
            not s.deny
            and "*" in s.principals
            and not any(c.key in narrowing and not c.negated for c in s.conditions)
            for s in self.statements
        )


class DocumentCache:
    """Parsed documents by their text, so a request evaluates a stored policy without parsing
    it again; at most ``size`` of them (emptied when full)."""

    def __init__(self, parse: Callable[[str], PolicyDocument], size: int = 256) -> None:
        self._parse = parse
        self._size = size
        self._documents: dict[str, PolicyDocument] = {}

    def get(self, text: str) -> PolicyDocument:
        document = self._documents.get(text)
        if document is None:
            document = self._parse(text)
            if len(self._documents) >= self._size:
                self._documents.clear()
            self._documents[text] = document
        return document


def _strings(value: object, element: str) -> tuple[str, ...]:
    listed = value if isinstance(value, list) else [value]
    if not listed or not all(isinstance(v, str) and 0 < len(v) <= MAX_STRING for v in listed):
        raise PolicyDocumentError(
            f"{element} is a string or a list of strings of 1-{MAX_STRING} characters."
        )
    return tuple(listed)


def _one_of(statement: Mapping[str, Any], name: str) -> tuple[tuple[str, ...], bool]:
    """(values, negated) of Action/NotAction or Resource/NotResource: exactly one is present."""
    has, has_not = name in statement, f"Not{name}" in statement
    if has == has_not:
        raise PolicyDocumentError(f"A statement has exactly one of {name} and Not{name}.")
    key = name if has else f"Not{name}"
    return _strings(statement[key], key), has_not


def _statement(raw: Mapping[str, Any], service: str, keys: tuple[str, ...]) -> _Statement:
    unknown = set(raw) - _STATEMENT_KEYS
    if "NotPrincipal" in unknown:
        raise PolicyDocumentError("NotPrincipal is not supported; name principals in Principal.")
    if unknown:
        raise PolicyDocumentError(f"Unknown statement element {sorted(unknown)[0]!r}.")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyDocumentError("Effect is Allow or Deny.")
    if "Principal" not in raw:
        raise PolicyDocumentError("A statement of a resource's policy names its Principal.")
    actions, not_action = _one_of(raw, "Action")
    for action in actions:
        if action != "*" and not action.lower().startswith(f"{service}:"):
            raise PolicyDocumentError(f"Action {action!r} is not a {service}: action.")
    resources, not_resource = _one_of(raw, "Resource")
    return _Statement(
        effect == "Deny",
        _principals(raw["Principal"]),
        tuple(a.lower() for a in actions),
        not_action,
        resources,
        not_resource,
        _conditions(raw.get("Condition", {}), keys),
    )


def _principals(value: object) -> tuple[str, ...]:
    if value == "*":
        return ("*",)
    if not isinstance(value, dict) or not value:
        raise PolicyDocumentError('Principal is "*" or an object such as {"AWS": [...]}.')
    found: list[str] = []
    for kind, names in value.items():
        if kind == "AWS":
            for name in _strings(names, "Principal.AWS"):
                if name != "*" and not (_ACCOUNT.fullmatch(name) or _IAM_PRINCIPAL.fullmatch(name)):
                    raise PolicyDocumentError(f"Invalid principal {name!r}.")
                found.append(name)
        elif kind == "Service":
            # a service principal acts in AWS, never here: kept, matching no caller
            found.extend(f"service:{n}" for n in _strings(names, "Principal.Service"))
        else:
            raise PolicyDocumentError(f"Principal type {kind!r} is not supported.")
    return tuple(found)


def _conditions(value: object, keys: tuple[str, ...]) -> tuple[_Condition, ...]:
    if not isinstance(value, dict):
        raise PolicyDocumentError("Condition is an object of operators.")
    found = []
    for operator, clauses in value.items():
        qualifier, _, base = str(operator).rpartition(":")
        if qualifier not in ("", "ForAnyValue", "ForAllValues"):
            raise PolicyDocumentError(f"Unsupported condition qualifier {qualifier!r}.")
        if_exists = base.endswith("IfExists") and base != "IfExists"
        base = base.removesuffix("IfExists") if if_exists else base
        if base == "Null":
            kind, negated = "null", False
        elif base in _OPERATORS:
            kind, negated = _OPERATORS[base]
        else:
            raise PolicyDocumentError(
                f"Unsupported condition operator {operator!r}; supported: "
                f"{', '.join(sorted(_OPERATORS))}, Null (docs/compat-aws.md)."
            )
        if not isinstance(clauses, dict) or not clauses:
            raise PolicyDocumentError(f"Condition {operator} maps keys to values.")
        for key, values in clauses.items():
            lowered = str(key).lower()
            if not any(lowered == k or (k[-1] in ":/" and lowered.startswith(k)) for k in keys):
                raise PolicyDocumentError(
                    f"Unsupported condition key {key!r}; supported here: {', '.join(keys)}."
                )
            listed = values if isinstance(values, list) else [values]
            if not listed or not all(
                isinstance(v, bool) or (isinstance(v, str) and len(v) <= MAX_STRING) for v in listed
            ):
                raise PolicyDocumentError(
                    f"Condition values of {key!r} are strings of at most {MAX_STRING} characters."
                )
            texts = tuple(str(v).lower() if isinstance(v, bool) else v for v in listed)
            if kind == "null" and texts[0].lower() not in ("true", "false"):
                raise PolicyDocumentError("Null takes true or false.")
            found.append(
                _Condition(kind, negated, if_exists, qualifier == "ForAllValues", lowered, texts)
            )
    return tuple(found)
