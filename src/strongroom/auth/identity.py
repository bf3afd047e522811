"""The identity a request acts as: a token's policies, compiled into one ACL."""

from __future__ import annotations

from dataclasses import dataclass, field

from strongroom.errors import AccessDenied
from strongroom.policy.model import ACL

__all__ = ["Identity"]

_ROOT_ACL = ACL({}, root=True)


@dataclass(frozen=True)
class Identity:
    name: str
    policies: tuple[str, ...] = ()
    acl: ACL = field(default_factory=lambda: ACL({}), repr=False, compare=False)
    accessor: str = field(default="", repr=False)

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

    def require(self, capability: str, path: str) -> None:
        """The one check point. Deny by default; the message names what was missing."""
        if not self.acl.allows(capability, path):
            raise AccessDenied(f"permission denied: {capability} on {path!r}")
