"""Proof that a request on one secret was authorized, for the secret service's reads and writes
made on a caller's behalf by a compatibility backend or by the server's own jobs.

A backend that authorizes by its API's own rules (a Secrets Manager action that a secret's
resource policy allows, a Parameter Store action from its catalogue) cannot use the secret
service's checked calls, which know strongroom's KV policy paths only. Instead of an unchecked
read it holds a ``Grant``: made only here, by the check that allowed the request, naming one
secret and the capabilities allowed on it. The secret service then acts on that secret only and
within those capabilities (service/secret_core.py, service/secrets.py). The server's own jobs
(rotation) get theirs from ``system_grant``; a test allows that call in the rotation modules
only (tests/unit/test_grants.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from strongroom.errors import AccessDenied
from strongroom.policy.authorize import ResourcePolicyMode, authorize
from strongroom.policy.aws_documents import Decision

__all__ = ["Caller", "Grant", "Lister", "grant_if", "grant_listed", "granted", "system_grant"]

_MINT = object()  # only this module has it: a Grant made elsewhere is refused
_EVERY = frozenset({"read", "create", "update", "delete"})


class Caller(Protocol):
    """What ``granted`` needs of a caller (auth.Identity)."""

    def require(self, capability: str, path: str) -> None: ...


@dataclass(frozen=True)
class Grant:
    namespace: str
    path: str
    capabilities: frozenset[str]
    by: str  # what allowed it: a policy path, an API action, or the server's job
    _mint: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._mint is not _MINT:
            raise TypeError("a Grant is made by strongroom.policy.grants only")

    def require(self, *capabilities: str) -> None:
        """One of ``capabilities`` was allowed, or AccessDenied."""
        if self.capabilities.isdisjoint(capabilities):
            raise AccessDenied(
                f"permission denied: {self.by} does not allow {' or '.join(capabilities)}"
            )


def granted(
    identity: Caller, capability: str, policy_path: str, namespace: str, path: str
) -> Grant:
    """``capability`` on ``namespace/path`` for a caller whose policies give it on
    ``policy_path`` (the surface's own map of the secret to a policy path); AccessDenied
    otherwise."""
    identity.require(capability, policy_path)
    return Grant(namespace, path, frozenset({capability}), policy_path, _MINT)


class Lister(Protocol):
    """What ``grant_listed`` needs of a caller (auth.Identity)."""

    def can_see_secret(self, namespace: str, path: str) -> bool: ...


def grant_listed(identity: Lister, namespace: str, path: str, *, rows_in: str = "") -> Grant | None:
    """``list`` on a secret a listing of ``namespace`` shows the caller (its policies give it a
    capability on one of the secret's paths); None when the listing must leave it out. It lets
    the caller see the secret's rows (names, versions, labels), never a value: those of
    ``rows_in`` for a view whose rows live elsewhere (a Secrets Manager replica's)."""
    if not identity.can_see_secret(namespace, path):
        return None
    return Grant(
        rows_in or namespace, path, frozenset({"list"}), f"a listing of {namespace}", _MINT
    )


def grant_if(
    allowed: bool,
    verdict: Decision,
    mode: ResourcePolicyMode,
    *,
    capability: str,
    namespace: str,
    path: str,
    action: str,
) -> Grant | None:
    """``capability`` on ``namespace/path`` when strongroom's policies (``allowed``) and the
    resource's policy (``verdict``) combine to allow ``action`` (policy/authorize.py); None
    when they refuse, so the caller answers in its API's words."""
    if not authorize(allowed, verdict, mode):
        return None
    return Grant(namespace, path, frozenset({capability}), action, _MINT)


def system_grant(namespace: str, path: str, job: str) -> Grant:
    """Every capability on ``namespace/path``, for the server's own ``job`` (a rotation, whose
    caller was checked when it was configured)."""
    return Grant(namespace, path, _EVERY, job, _MINT)
