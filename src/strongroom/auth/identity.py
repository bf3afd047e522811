"""The identity a request acts as: a token's policies, compiled into one ACL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from strongroom.errors import AccessDenied
from strongroom.policy.kv import DATA, METADATA, kv_policy_path
from strongroom.policy.model import ACL

__all__ = ["Identity"]

_ROOT_ACL = ACL({}, root=True)
_CREATE_AND_UPDATE = frozenset({"create", "update"})


@dataclass(frozen=True)
class Identity:
    name: str
    policies: tuple[str, ...] = ()
    acl: ACL = field(default_factory=lambda: ACL({}), repr=False, compare=False)
    accessor: str = field(default="", repr=False)
    # who the AWS surface's policy documents see: "root" or "user/NAME" (auth/aws_keys.py)
    principal: str = field(default="", repr=False, compare=False)

    @classmethod
    def system(cls, name: str = "system") -> Identity:
        """Acts with every capability; for the server's own startup work, never for requests."""
        return cls(name, ("root",), _ROOT_ACL)

    @property
    def root(self) -> bool:
        return self.acl.root

    def allows(self, capability: str, path: str) -> bool:
        return self.acl.allows(capability, path)

    def can_see(self, path: str) -> bool:
        """Whether a listing or search may show ``path`` to this identity."""
        caps = self.acl.capabilities(path)
        return "read" in caps or "list" in caps

    def can_see_secret(self, namespace: str, path: str) -> bool:
        """Whether a listing may show a KV secret or folder (``path`` ends in '/'): the caller may
        read or list its metadata, or read its data."""
        if self.can_see(kv_policy_path(namespace, METADATA, path)):
            return True
        return not path.endswith("/") and self.allows("read", kv_policy_path(namespace, DATA, path))

    def require(self, capability: str, path: str) -> None:
        """The one check point. Deny by default; the message names what was missing."""
        if not self.acl.allows(capability, path):
            raise AccessDenied(f"permission denied: {capability} on {path!r}")

    def require_write(self, path: str, exists: Callable[[], bool]) -> bool:
        """``create`` for something new, ``update`` for something that exists (Vault's rule);
        returns whether it exists. A caller holding neither capability gets one answer and no
        look-up is made, so a 403 never tells whether the thing exists."""
        if not (self.acl.allows("create", path) or self.acl.allows("update", path)):
            raise AccessDenied(f"permission denied: create or update on {path!r}")
        found = exists()
        self.require("update" if found else "create", path)
        return found

    def require_create_or_update(self, path: str, exists: Callable[[], bool]) -> None:
        """Vault's write rule for a caller that needs no answer about existence: one holding
        both ``create`` and ``update`` may write either way, so no look-up is made (a write's
        hottest read); anyone else is checked as ``require_write``."""
        if self.acl.capabilities(path) >= _CREATE_AND_UPDATE:
            return
        self.require_write(path, exists)
