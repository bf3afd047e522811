"""Policies kept in the store, and the compiled ACLs of policy sets, cached briefly."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable

from strongroom.clock import Clock
from strongroom.errors import Absent, BadRequest, NotFound, RecordDamaged, TamperedRecord
from strongroom.policy.model import ACL, Policy, compile_acl
from strongroom.policy.parse import RESERVED_POLICIES, parse_policy, validate_policy_name
from strongroom.store.protocol import Store
from strongroom.store.records import Records

__all__ = ["CACHE_SECONDS", "DEFAULT_POLICY", "PolicyStore"]

_KIND = "policy"
_REPAIR = (
    "requests that need it are refused until a root token writes it again: "
    "strongroom policy write {name} FILE"
)
log = logging.getLogger("strongroom.policy")
CACHE_SECONDS = 1.0
# Every token gets it unless created with no_default_policy: a token may inspect, renew and
# revoke itself, and ask what it may do.
DEFAULT_POLICY = """\
# Allows a token to look up, renew and revoke itself, and to check its own capabilities.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "auth/token/renew-self" {
  capabilities = ["update"]
}
path "auth/token/revoke-self" {
  capabilities = ["update"]
}
path "sys/capabilities-self" {
  capabilities = ["update"]
}
# Response wrapping, as in Vault's default policy.
path "sys/wrapping/wrap" {
  capabilities = ["update"]
}
path "sys/wrapping/lookup" {
  capabilities = ["update"]
}
path "sys/wrapping/unwrap" {
  capabilities = ["update"]
}
path "sys/wrapping/rewrap" {
  capabilities = ["update"]
}
path "sys/tools/hash" {
  capabilities = ["update"]
}
path "sys/tools/hash/*" {
  capabilities = ["update"]
}
"""
# The default policy as the first releases wrote it: replaced by the current one on start.
_EARLIER_DEFAULT = DEFAULT_POLICY.split("# Response wrapping")[0]


def _decode(raw: bytes) -> str:
    text: str = json.loads(raw)["text"]
    return text


def _encode(text: str) -> bytes:
    return json.dumps({"text": text}).encode()


class PolicyStore:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._texts = Records(store, _KIND, _decode, _encode)  # each policy's text
        self._clock = clock
        self._lock = threading.Lock()
        self._acls: dict[tuple[str, ...], tuple[ACL, float]] = {}
        self.on_change: list[Callable[[], None]] = []
        parse_policy("default", DEFAULT_POLICY)
        try:
            # Written when missing, and upgraded from the first releases' (never an operator's
            # edit); with compare-and-set, as every node does this on start.
            self._texts.change(
                "default",
                lambda text: DEFAULT_POLICY if text in (None, _EARLIER_DEFAULT) else text,
            )
        except TamperedRecord:
            # Damaged: the server still starts, so a root token can write it again; until
            # then every request that needs it is refused with RecordDamaged (503).
            log.error("the stored default policy does not open: %s", _REPAIR.format(name="default"))

    def write(self, name: str, text: str) -> Policy:
        if name == "root":
            raise BadRequest("the root policy is built in and cannot be changed")
        if name in RESERVED_POLICIES:
            raise BadRequest(
                f"cannot update {name} policy: the name is reserved by the server "
                f"({RESERVED_POLICIES[name]}); pick another name"
            )
        policy = parse_policy(name, text)
        self._texts.put(name, text)
        self.forget()
        self._store.publish("policy", name)
        return policy

    def read(self, name: str) -> Policy:
        validate_policy_name(name)
        if name == "root":
            return Policy("root", (), "# built in: every capability on every path\n")
        text = self._text(name)
        if text is None:
            raise NotFound(f"no policy {name!r}; list them with: strongroom policy list")
        return parse_policy(name, text)

    def _text(self, name: str) -> str | None:
        try:
            return self._texts.get(name)
        except TamperedRecord:
            raise RecordDamaged(
                f"the stored policy {name!r} does not open (it was changed outside strongroom); "
                + _REPAIR.format(name=name)
            ) from None

    def names(self) -> list[str]:
        return sorted({"root", *self._texts.names()})

    def exists(self, name: str) -> bool:
        if name == "root":
            return True
        try:
            return self._text(name) is not None
        except RecordDamaged:
            return True  # damaged, but there: writing it again is an update

    def delete(self, name: str) -> None:
        validate_policy_name(name)
        if name in ("root", "default", *RESERVED_POLICIES):
            raise BadRequest(f"the {name} policy cannot be deleted")
        if not self._texts.delete(name):
            raise Absent(f"no policy {name!r}")
        self.forget()
        self._store.publish("policy", name)

    def forget(self) -> None:
        """Drop every compiled ACL (a policy changed, here or on another node), and tell
        whoever holds ACLs of their own (the token cache) to drop theirs."""
        with self._lock:
            self._acls.clear()
        for listener in self.on_change:
            listener()

    def acl(self, names: tuple[str, ...]) -> ACL:
        """The merged ACL of these policies (unknown names grant nothing)."""
        key = tuple(sorted(set(names)))
        now = self._clock.monotonic()
        cached = self._acls.get(key)
        if cached is not None and now < cached[1]:
            return cached[0]
        policies = []
        for name in key:
            if name == "root" or name in RESERVED_POLICIES:
                continue  # a reserved name grants nothing, whatever a record says
            text = self._text(name)
            if text is not None:
                policies.append(parse_policy(name, text))
        acl = compile_acl(policies, root="root" in key)
        with self._lock:
            if len(self._acls) >= 1024:
                self._acls.clear()
            self._acls[key] = (acl, now + CACHE_SECONDS)
        return acl
