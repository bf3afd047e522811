"""Who may create, inspect, renew and revoke which tokens, and token roles.

Operations on another token are authorized by one path per operation (``auth/token/lookup``,
``…/renew``, ``…/revoke``), the same whether the token is named by itself or by its accessor.
Without ``sudo`` on that path a caller may act only on its own descendants."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from strongroom.auth.identity import Identity
from strongroom.auth.records import TokenRoleRecord
from strongroom.auth.request_fields import count, flag, string_list, string_map, within
from strongroom.auth.role_update import Parsers, changed_role, requested_fields
from strongroom.auth.tokens import TokenInfo, TokenRegistry
from strongroom.durations import parse_duration
from strongroom.errors import Absent, AccessDenied, BadRequest, NotFound, Unauthenticated
from strongroom.policy.parse import assignable_policies, validate_policy_name
from strongroom.store.protocol import Store
from strongroom.store.records import Records

__all__ = [
    "TokenRequest",
    "TokenService",
    "created_display_name",
]

_ROLE_KIND = "token-role"
_ROLE_FIELDS = {
    "allowed_policies",
    "disallowed_policies",
    "orphan",
    "renewable",
    "token_period",
    "token_explicit_max_ttl",
    "token_ttl",
    "token_num_uses",
}
_ROLE_PARSERS: Parsers = {
    "allowed_policies": lambda doc: string_list(doc, "allowed_policies"),
    "disallowed_policies": lambda doc: string_list(doc, "disallowed_policies"),
    "orphan": lambda doc: flag(doc, "orphan"),
    "renewable": lambda doc: flag(doc, "renewable"),
    "token_period": lambda doc: parse_duration(doc["token_period"], "token_period") or 0.0,
    "token_explicit_max_ttl": lambda doc: parse_duration(
        doc["token_explicit_max_ttl"], "token_explicit_max_ttl"
    ),
    "token_ttl": lambda doc: parse_duration(doc["token_ttl"], "token_ttl"),
    "token_num_uses": lambda doc: count(doc, "token_num_uses"),
}


@dataclass(frozen=True)
class TokenRequest:
    """The body of a token-create call, validated."""

    policies: tuple[str, ...] | None
    display_name: str
    ttl: float | None
    explicit_max_ttl: float | None
    period: float
    renewable: bool
    num_uses: int
    meta: dict[str, str]
    no_parent: bool
    no_default_policy: bool

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> TokenRequest:
        policies = doc.get("policies")
        names = tuple(string_list(doc, "policies")) if policies is not None else None
        for name in names or ():
            validate_policy_name(name)
        display = doc.get("display_name", "token")
        if not isinstance(display, str) or len(display) > 128:
            raise BadRequest("'display_name' must be a string of at most 128 characters")
        for switch in ("renewable", "no_parent", "no_default_policy"):
            if switch in doc and not isinstance(doc[switch], bool):
                raise BadRequest(f"{switch!r} must be true or false")
        return cls(
            names,
            display,
            parse_duration(doc.get("ttl"), "ttl"),
            parse_duration(doc.get("explicit_max_ttl"), "explicit_max_ttl"),
            parse_duration(doc.get("period"), "period") or 0.0,
            doc.get("renewable", True),
            count(doc, "num_uses"),
            string_map(doc, "meta"),
            doc.get("no_parent", False),
            doc.get("no_default_policy", False),
        )


def created_display_name(requested: str) -> str:
    """Vault's rule for a token made by auth/token/create: ``token-`` and the requested name,
    anything but letters, digits and '-' made a '-'."""
    full = re.sub(r"[^a-zA-Z0-9-]", "-", f"token-{requested}" if requested else "token")
    return full.rstrip("-")


class TokenService:
    def __init__(self, registry: TokenRegistry, store: Store) -> None:
        self.registry = registry
        self._roles = Records(
            store, _ROLE_KIND, TokenRoleRecord.from_bytes, TokenRoleRecord.to_bytes
        )

    # -- create
    def create(
        self,
        caller: Identity,
        request: TokenRequest,
        role: str | None = None,
        *,
        orphan_path: bool = False,
    ) -> tuple[str, TokenInfo]:
        """A new token. ``orphan_path``: Vault's ``auth/token/create-orphan``, where ``update``
        on that path (not sudo) lets the caller make an orphan."""
        sudo = caller.root or caller.allows("sudo", "auth/token/create")
        if self._limited_uses(caller):
            # Vault's rule: uses are a budget, and a child (or orphan) would be a way round it.
            raise BadRequest("restricted use token cannot generate child tokens")
        if request.period and not sudo:
            raise AccessDenied("periodic tokens need sudo on auth/token/create")
        if role is not None:
            caller.require("update", f"auth/token/create/{role}")
            settings = self._role(role)  # the right to create from it was checked above
            policies = self._role_policies(settings, request.policies, caller)
            orphan = settings.orphan or (request.no_parent and sudo)
            period = settings.token_period or request.period
            # A request may narrow what the role gives, never widen it.
            max_ttl = within(settings.token_explicit_max_ttl, request.explicit_max_ttl)
            renewable = settings.renewable and request.renewable
            ttl = within(settings.token_ttl, request.ttl) if request.ttl else None
            ttl = ttl or settings.token_ttl
            uses = int(within(settings.token_num_uses, request.num_uses) or 0)
        else:
            caller.require("update", f"auth/token/{'create-orphan' if orphan_path else 'create'}")
            policies = request.policies if request.policies is not None else caller.policies
            policies = tuple(p for p in assignable_policies(policies) if p != "default")
            if not caller.root:
                extra = set(policies) - set(caller.policies)
                if extra and not sudo:
                    raise AccessDenied(
                        "a child token can only have a subset of its parent's policies; "
                        f"not held: {', '.join(sorted(extra))}"
                    )
            if "root" in policies and not caller.root:
                raise AccessDenied("only a root token can create a root token")
            if request.no_parent and not sudo and not orphan_path:
                raise AccessDenied("orphan and periodic tokens need sudo on auth/token/create")
            orphan, period, max_ttl = request.no_parent, request.period, request.explicit_max_ttl
            renewable, ttl, uses = request.renewable, request.ttl, request.num_uses
        if not sudo:
            # Without sudo, nothing a token makes outlives it: not a child, not an orphan from a
            # role, not a periodic token (a 3-second token must not mint one that renews forever).
            max_ttl = within(max_ttl, self._remaining(caller))
        if not request.no_default_policy and "root" not in policies:
            policies = ("default", *policies)
        return self.registry.create(
            tuple(dict.fromkeys(policies)),
            display_name=created_display_name(request.display_name),
            parent=None if orphan else caller.accessor or None,
            ttl=ttl,
            explicit_max_ttl=max_ttl,
            period=period,
            renewable=renewable,
            num_uses=uses,
            meta=request.meta,
            role=role or "",
            path=f"auth/token/create/{role}"
            if role
            else ("auth/token/create-orphan" if orphan_path else "auth/token/create"),
        )

    def _limited_uses(self, caller: Identity) -> bool:
        if not caller.accessor:
            return False
        try:
            return bool(self.registry.lookup_accessor(caller.accessor).num_uses)
        except NotFound:  # an identity that is not a token's (an AWS access key's)
            return False

    def _remaining(self, caller: Identity) -> float | None:
        """Seconds the caller's own token has left at most (None: it never expires)."""
        if not caller.accessor:
            return None
        info = self.registry.lookup_accessor(caller.accessor)
        end = info.max_expires if info.period else info.expires
        if end is None:
            return None
        return max(1.0, end - self.registry.now())

    @staticmethod
    def _role_policies(
        settings: TokenRoleRecord, requested: tuple[str, ...] | None, caller: Identity
    ) -> tuple[str, ...]:
        allowed = list(settings.allowed_policies)
        disallowed = set(settings.disallowed_policies)
        policies = requested if requested is not None else tuple(allowed or caller.policies)
        if allowed:
            outside = set(policies) - set(allowed) - {"default"}
            if outside:
                raise AccessDenied(f"the role does not allow: {', '.join(sorted(outside))}")
        elif not caller.root and set(policies) - set(caller.policies) - {"default"}:
            raise AccessDenied("a child token can only have a subset of its parent's policies")
        blocked = set(policies) & (disallowed | {"root"})
        if blocked:
            raise AccessDenied(f"the role does not allow: {', '.join(sorted(blocked))}")
        return tuple(policies)

    # -- other tokens
    def _authorize_other(self, caller: Identity, operation: str, target: TokenInfo) -> None:
        path = f"auth/token/{operation}"
        if caller.root or caller.allows("sudo", path) or target.accessor == caller.accessor:
            return
        parent = target.parent
        for _ in range(64):
            if parent is None:
                break
            if parent == caller.accessor:
                return
            try:
                parent = self.registry.lookup_accessor(parent).parent
            except NotFound:
                break
        raise AccessDenied(
            f"permission denied: {operation} of a token outside your own tree needs sudo on {path}"
        )

    def target(self, caller: Identity, operation: str, token: Any, accessor: Any) -> TokenInfo:
        """The token named by ``token`` or ``accessor``, once the caller may act on it."""
        caller.require("update", f"auth/token/{operation}")
        if isinstance(token, str) and token:
            try:
                info = self.registry.lookup(token)
            except Unauthenticated:
                raise NotFound("no live token matches") from None
        elif isinstance(accessor, str) and accessor:
            info = self.registry.lookup_accessor(accessor)
        else:
            raise BadRequest("name the token by its token or its accessor")
        self._authorize_other(caller, operation, info)
        return info

    def identity_of(self, caller: Identity, token: Any, accessor: Any) -> Identity:
        """The identity of another token, for Vault's sys/capabilities (by token) and
        sys/capabilities-accessor; the caller needs ``update`` on that path."""
        if isinstance(token, str) and token:
            caller.require("update", "sys/capabilities")
            try:
                info = self.registry.lookup(token)
            except Unauthenticated:
                raise BadRequest("invalid token") from None
        elif isinstance(accessor, str) and accessor:
            caller.require("update", "sys/capabilities-accessor")
            info = self.registry.lookup_accessor(accessor)
        else:
            raise BadRequest("name the token by its token or its accessor")
        acl = self.registry.policies.acl(info.policies)
        return Identity(info.display_name, info.policies, acl, info.accessor)

    def self_info(self, caller: Identity) -> TokenInfo:
        caller.require("read", "auth/token/lookup-self")
        return self.registry.lookup_accessor(caller.accessor)

    def renew_self(self, caller: Identity, increment: float | None) -> TokenInfo:
        caller.require("update", "auth/token/renew-self")
        return self.registry.renew(caller.accessor, increment)

    def revoke_self(self, caller: Identity) -> None:
        caller.require("update", "auth/token/revoke-self")
        self.registry.revoke(caller.accessor)

    def renew(
        self, caller: Identity, token: Any, accessor: Any, increment: float | None
    ) -> TokenInfo:
        info = self.target(caller, "renew", token, accessor)
        return self.registry.renew(info.accessor, increment)

    def revoke(self, caller: Identity, token: Any, accessor: Any, orphan_children: bool) -> None:
        """Revoke a token and its tree; keeping the children is Vault's revoke-orphan: update
        and sudo on auth/token/revoke-orphan."""
        operation = "revoke-orphan" if orphan_children else "revoke"
        if orphan_children:
            caller.require("sudo", "auth/token/revoke-orphan")
        info = self.target(caller, operation, token, accessor)
        self.registry.revoke(info.accessor, orphan_children=orphan_children)

    def tidy(self, caller: Identity) -> int:
        """Vault's auth/token/tidy (sudo): drop the records of dead tokens."""
        caller.require("sudo", "auth/token/tidy")
        return self.registry.tidy()

    def list_accessors(self, caller: Identity) -> list[str]:
        # a LIST, checked as Vault checks one: list and sudo from the rule for the folder
        granted = caller.acl.listing("auth/token/accessors")
        if not {"list", "sudo"} <= granted:
            raise AccessDenied("permission denied: list and sudo on 'auth/token/accessors/'")
        return self.registry.accessors()

    # -- roles
    def write_role(self, caller: Identity, name: str, doc: dict[str, Any]) -> None:
        validate_policy_name(name)
        caller.require_write(f"auth/token/roles/{name}", lambda: self._roles.get(name) is not None)
        unknown = sorted(set(doc) - _ROLE_FIELDS)
        if unknown:
            raise BadRequest(f"unknown token role field {unknown[0]!r}")
        fields = requested_fields(doc, _ROLE_PARSERS, caller)
        changed_role(self._roles, name, fields, TokenRoleRecord)

    def read_role(self, caller: Identity, name: str) -> TokenRoleRecord:
        caller.require("read", f"auth/token/roles/{name}")
        return self._role(name)

    def _role(self, name: str) -> TokenRoleRecord:
        validate_policy_name(name)
        role = self._roles.get(name)
        if role is None:
            raise NotFound(f"no token role {name!r}")
        return role

    def list_roles(self, caller: Identity) -> list[str]:
        caller.require("list", "auth/token/roles/")
        return sorted(self._roles.names())

    def delete_role(self, caller: Identity, name: str) -> None:
        validate_policy_name(name)
        caller.require("delete", f"auth/token/roles/{name}")
        if not self._roles.delete(name):
            raise Absent(f"no token role {name!r}")
