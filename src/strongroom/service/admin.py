"""System administration behind policies: ACL policies, audit sinks and capability checks.
Each operation names the ``sys/…`` path a policy must grant."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from strongroom.audit import AuditBroker
from strongroom.audit.chain import VerifyResult
from strongroom.audit.recent import Recent
from strongroom.auth.identity import Identity
from strongroom.errors import BadRequest
from strongroom.paths import check_prefix
from strongroom.policy.model import Policy
from strongroom.policy.parse import validate_policy_name
from strongroom.policy.store import PolicyStore
from strongroom.results import AuditSinkInfo

__all__ = [
    "HASH_INPUT_PROBLEM",
    "MAX_CAPABILITY_PATHS",
    "PATHS_PROBLEM",
    "POLICIES",
    "POLICY_TEXT",
    "SINK_TYPE_PROBLEM",
    "SystemService",
]

MAX_CAPABILITY_PATHS = 100
# What a surface answers for a body without its one field (checked before any right: they name
# nothing stored)
HASH_INPUT_PROBLEM = "input: the value to hash is required"
PATHS_PROBLEM = f"paths: a list of at most {MAX_CAPABILITY_PATHS} paths is required"
SINK_TYPE_PROBLEM = "type: an audit sink's type is 'file' or 'store'"
# What a surface answers when a policy write has no text (the native API checks it before any
# right: it names nothing stored; the Vault API checks the caller's rights first, as Vault).
POLICY_TEXT = "policy: the policy text (HCL or JSON) is required"


POLICIES = "sys/policies/acl"


class SystemService:
    def __init__(self, policies: PolicyStore, audit: AuditBroker) -> None:
        self._policies = policies
        self._audit = audit

    # -- policies
    # ``under``: the policy path the request is checked on, as Vault checks each route's own
    # (``sys/policies/acl``, or ``sys/policy`` for the older routes)
    def write_policy(
        self, identity: Identity, name: str, text: str, *, under: str = POLICIES
    ) -> Policy:
        validate_policy_name(name)
        identity.require_write(f"{under}/{name}", lambda: self._policies.exists(name))
        return self._policies.write(name, text)

    def read_policy(self, identity: Identity, name: str, *, under: str = POLICIES) -> Policy:
        identity.require("read", f"{under}/{name}")
        return self._policies.read(name)

    def list_policies(
        self, identity: Identity, *, under: str = POLICIES, reading: bool = False
    ) -> list[str]:
        """``reading``: a GET of the folder itself (Vault's older ``GET sys/policy``), checked
        as a read of it; a LIST is checked as a listing."""
        if reading:
            identity.require("read", under)
        else:
            identity.require("list", f"{under}/")
        return self._policies.names()

    def delete_policy(self, identity: Identity, name: str, *, under: str = POLICIES) -> None:
        identity.require("delete", f"{under}/{name}")
        self._policies.delete(name)

    @staticmethod
    def capabilities(
        identity: Identity, paths: Sequence[str], *, checked: bool = False
    ) -> Mapping[str, list[str]]:
        """What this identity may do on each path (Vault's sys/capabilities-self); ``checked``:
        the caller's right to ask about another token was checked already (identity_of)."""
        if not checked:
            identity.require("update", "sys/capabilities-self")
        if len(paths) > MAX_CAPABILITY_PATHS:
            raise BadRequest(PATHS_PROBLEM)
        result: dict[str, list[str]] = {}
        for path in paths:
            # The answer is about canonical paths only: "secret/a/../b" would be evaluated as
            # written and say something about a path no request can reach.
            check_prefix(path)
            caps = sorted(identity.acl.capabilities(path)) or ["deny"]
            result[path] = ["root"] if identity.root else caps
        return result

    @staticmethod
    def use_tool(identity: Identity, path: str) -> None:
        """sys/tools/random and sys/tools/hash: ``update`` on the request's path (Vault's default
        policy grants the hash tool, not random)."""
        identity.require("update", path)

    # -- audit
    def audit_sinks(self, identity: Identity) -> list[AuditSinkInfo]:
        identity.require("sudo", "sys/audit")
        return [AuditSinkInfo(**sink.describe()) for sink in self._audit.sinks()]

    def enable_audit(self, identity: Identity, name: str, sink_type: str) -> None:
        identity.require("sudo", f"sys/audit/{name}")
        self._audit.enable(name, sink_type)

    def disable_audit(self, identity: Identity, name: str) -> None:
        identity.require("sudo", f"sys/audit/{name}")
        self._audit.disable(name)

    def verify_audit(self, identity: Identity, name: str) -> VerifyResult:
        identity.require("sudo", f"sys/audit/{name}")
        return self._audit.verify(name)

    def recent_audit(self, identity: Identity, name: str, after: int, limit: int) -> Recent:
        """The sink's newest entries numbered above ``after``, as written (HMAC'd)."""
        identity.require("sudo", f"sys/audit/{name}")
        return self._audit.recent_entries(name, after, limit)

    def audit_hash(self, identity: Identity, name: str, value: str) -> str:
        identity.require("update", f"sys/audit-hash/{name}")
        return self._audit.hash(name, value)
