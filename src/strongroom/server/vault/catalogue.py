"""Each Vault API operation and the rule that authorizes it, checked before its handler runs.

Vault's rule: a request is checked on its own path below ``/v1/`` (a LIST on that path as a
folder, ``path/``), for the capability its method asks: GET reads, LIST lists, POST and PUT
create or update (the service then tells which one: ``create`` for something new), PATCH
patches, DELETE deletes. Some operations also need ``sudo`` there (``SUDO``); a few are left to
their services (``SELF``), and a few need no token at all (the route is ``public``: logins, the
seal's status, looking up a wrapping token).

The check here runs before the body is read, so a caller without the right gets its 403
whatever it sent; the service's own checks run after it (the precise ``create`` or
``update``, a token's own tree, a resource's rules). A test sends every Vault route twice, as
a token with no policy and as one granted exactly its rule, and holds both answers
(tests/unit/test_vault_catalogue.py); docs/compat-vault.md lists the rule."""

from __future__ import annotations

from dataclasses import dataclass

from strongroom.auth.identity import Identity
from strongroom.errors import AccessDenied
from strongroom.server.routes import Answer, Call, Handler, Route

__all__ = ["BY_METHOD", "SELF", "SUDO", "Rule", "authorized", "policy_path", "rule_of"]

BY_METHOD: dict[str, tuple[str, ...]] = {
    "GET": ("read",),
    "HEAD": ("read",),
    "LIST": ("list",),
    "POST": ("create", "update"),
    "PUT": ("create", "update"),
    "PATCH": ("patch",),
    "DELETE": ("delete",),
}

# Operations that need sudo on their path besides the method's capability, as in Vault.
SUDO = frozenset(
    {"sysEnableAuth", "sysEnableAuthPut", "sysDisableAuth", "sysTuneAuth", "sysTuneAuthPut"}
    | {"sysListAudit", "sysEnableAudit", "sysEnableAuditPut", "sysDisableAudit"}
    | {"vaultRotateEncryptionKey", "vaultRotateEncryptionKeyPut"}
    | {"vaultReadBackupKeys", "vaultDeleteBackupKeys"}
    | {"vaultRevokeOrphan", "vaultRevokeOrphanPut", "vaultListAccessors"}
    | {"vaultTidyTokens", "vaultTidyTokensPut", "sysSeal", "sysSealPut"}
    | {"sysStepDown", "sysStepDownPut"}
)

# Left to their services, which check the default policy's paths (policy/store.py) in their own
# way: a token acting on itself (looked up with GET or POST; renewed; revoked), a wrapping token
# unwrapping or rewrapping what it wraps, and the KV preflight, which answers a caller without
# rights Vault's 400.
SELF = frozenset(
    {"vaultLookupSelf", "vaultLookupSelfPost", "vaultLookupSelfPostPut"}
    | {"vaultRenewSelf", "vaultRenewSelfPut", "vaultRevokeSelf", "vaultRevokeSelfPut"}
    | {"sysUnwrap", "sysUnwrapPut", "sysRewrap", "sysRewrapPut"}
    | {"sysPreflight", "sysMountsAll"}
)


@dataclass(frozen=True)
class Rule:
    capabilities: tuple[str, ...]  # one of them on the policy path lets the request through
    sudo: bool = False


def rule_of(route: Route) -> Rule | None:
    """The route's rule; None when the route is checked by its service alone (``SELF``) or
    needs no token (``public``)."""
    if route.public or route.operation in SELF:
        return None
    return Rule(BY_METHOD[route.method], route.operation in SUDO)


def policy_path(method: str, path: str) -> str:
    """The path a request to ``path`` (as sent, below ``/v1/``) is checked on."""
    below = path.removeprefix("/v1/")
    if method == "LIST" and not below.endswith("/"):
        return below + "/"
    return below


def _allowed(identity: Identity, rule: Rule, path: str) -> bool:
    acl = identity.acl
    granted = acl.listing(path) if "list" in rule.capabilities else acl.capabilities(path)
    return any(c in granted for c in rule.capabilities) and (not rule.sudo or "sudo" in granted)


def authorized(route: Route) -> Handler:
    """The route's handler behind its rule (unchanged for a route without one)."""
    rule = rule_of(route)
    handler = route.handler
    if rule is None:
        return handler

    def vault_authorized(call: Call) -> Answer:
        path = policy_path(call.method, call.wire_path)
        if not _allowed(call.identity, rule, path):
            wanted = " or ".join(rule.capabilities) + (" and sudo" if rule.sudo else "")
            raise AccessDenied(f"permission denied: {wanted} on {path!r}")
        return handler(call)

    vault_authorized.__name__ = handler.__name__
    return vault_authorized
