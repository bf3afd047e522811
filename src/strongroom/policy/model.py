"""Rules, policies and the compiled ACL that answers "which capabilities on this path?".

Matching follows Vault: a rule path is literal, may end in ``*`` (a prefix glob) and may have
``+`` segments (exactly one segment). Rules with the same path merge across policies, and a
``deny`` in any of them makes that path deny. A request path takes the capabilities of the one
most specific matching rule, ranked by Vault's five priority rules (``priority_key``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ACL",
    "CAPABILITIES",
    "Policy",
    "Rule",
    "compile_acl",
    "first_wildcard",
    "merge_rules",
    "priority_key",
    "wildcard_segments",
]

CAPABILITIES = ("create", "read", "update", "patch", "delete", "list", "sudo", "deny")
_NO_CAPABILITIES: frozenset[str] = frozenset()
_EVERY_CAPABILITY = frozenset(CAPABILITIES) - {"deny"}  # the root policy's
_CACHE_ENTRIES = 4096


@dataclass(frozen=True)
class Rule:
    path: str
    capabilities: frozenset[str]


@dataclass(frozen=True)
class Policy:
    name: str
    rules: tuple[Rule, ...]
    text: str = ""  # the document as the user wrote it, returned verbatim on read


def wildcard_segments(path: str) -> list[int]:
    """Indexes of the ``+`` segments of a rule path (a trailing ``*`` is not part of one)."""
    body = path[:-1] if path.endswith("*") else path
    return [i for i, segment in enumerate(body.split("/")) if segment == "+"]


def first_wildcard(path: str) -> int:
    """Position of the first ``+`` segment or the trailing ``*``; len+1 when there is none."""
    positions = []
    offset = 0
    body = path[:-1] if path.endswith("*") else path
    for segment in body.split("/"):
        if segment == "+":
            positions.append(offset)
            break
        offset += len(segment) + 1
    if path.endswith("*"):
        positions.append(len(path) - 1)
    return min(positions) if positions else len(path) + 1


def priority_key(path: str) -> tuple[int, bool, int, int, str]:
    """Higher sorts first. Vault's rules, in order: a later first wildcard wins; no trailing
    ``*`` wins; fewer ``+`` segments win; longer wins; lexicographically larger wins."""
    return (
        first_wildcard(path),
        not path.endswith("*"),
        -len(wildcard_segments(path)),
        len(path),
        path,
    )


def _pattern(path: str) -> re.Pattern[str]:
    glob = path.endswith("*")
    body = path[:-1] if glob else path
    parts = ["[^/]+" if segment == "+" else re.escape(segment) for segment in body.split("/")]
    return re.compile("/".join(parts) + (".*" if glob else ""), re.DOTALL)


class ACL:
    """The merged rules of a token's policies. ``root`` allows everything."""

    def __init__(self, rules: dict[str, frozenset[str]], *, root: bool = False) -> None:
        self.root = root
        self._exact: dict[str, frozenset[str]] = {}
        ranked: list[tuple[re.Pattern[str], frozenset[str], str]] = []
        for path, caps in rules.items():
            if "deny" in caps:
                caps = frozenset({"deny"})
            if path.endswith("*") or wildcard_segments(path):
                ranked.append((_pattern(path), caps, path))
            else:
                self._exact[path] = caps
        ranked.sort(key=lambda item: priority_key(item[2]), reverse=True)
        self._ranked = [(pattern, caps) for pattern, caps, _ in ranked]
        self._cache: dict[str, frozenset[str]] = {}
        # The literal part of every granting rule, for "is anything granted under this mount?"
        self._granting_prefixes = tuple(
            path[: first_wildcard(path)] for path, caps in rules.items() if "deny" not in caps
        )

    def grants_under(self, prefix: str) -> bool:
        """Whether some rule grants a capability on ``prefix`` or below it (Vault's preflight
        check of a mount: tells a client what the mount is, not what is in it)."""
        if self.root:
            return True
        return any(
            literal.startswith(prefix) or prefix.startswith(literal)
            for literal in self._granting_prefixes
        )

    def capabilities(self, path: str) -> frozenset[str]:
        """The granted capabilities on ``path``; empty when denied or when no rule matches."""
        if self.root:
            return _EVERY_CAPABILITY
        cached = self._cache.get(path)
        if cached is not None:
            return cached
        caps = self._exact.get(path)
        if caps is None:
            caps = self._matching(path) or _NO_CAPABILITIES
        return self._kept(path, caps)

    def _matching(self, path: str) -> frozenset[str] | None:
        """The capabilities of the highest-priority wildcard rule matching ``path``, if any."""
        for pattern, rule_caps in self._ranked:
            if pattern.fullmatch(path):
                return rule_caps
        return None

    def _kept(self, key: str, caps: frozenset[str]) -> frozenset[str]:
        if "deny" in caps:
            caps = _NO_CAPABILITIES
        if len(self._cache) >= _CACHE_ENTRIES:
            self._cache.clear()
        self._cache[key] = caps
        return caps

    def listing(self, path: str) -> frozenset[str]:
        """The capabilities a LIST of ``path`` is checked against, by Vault's rule: a listing
        is of the folder ``path/``, and the first of these decides: an exact rule on ``path/``,
        an exact rule on ``path``, the wildcard rules for ``path/``, then for ``path``. So
        ``path "auth/approle/role" { capabilities = ["list"] }`` and the same on
        ``auth/approle/role/`` both let a caller list the roles, whichever form a service
        names."""
        if self.root:
            return _EVERY_CAPABILITY
        folder = path if path.endswith("/") else path + "/"
        bare = folder[:-1]
        key = "\x00list:" + folder  # apart from the cache of plain look-ups
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        caps = self._exact.get(folder)
        if caps is None:
            caps = self._exact.get(bare)
        if caps is None:
            caps = self._matching(folder)
        if caps is None:
            caps = self._matching(bare)
        return self._kept(key, caps or _NO_CAPABILITIES)

    def allows(self, capability: str, path: str) -> bool:
        if capability == "list":
            return "list" in self.listing(path)
        return capability in self.capabilities(path)


def merge_rules(policies: Iterable[Policy]) -> dict[str, frozenset[str]]:
    merged: dict[str, frozenset[str]] = {}
    for policy in policies:
        for rule in policy.rules:
            merged[rule.path] = merged.get(rule.path, _NO_CAPABILITIES) | rule.capabilities
    return merged


def compile_acl(policies: Iterable[Policy], *, root: bool = False) -> ACL:
    return ACL(merge_rules(policies), root=root)
