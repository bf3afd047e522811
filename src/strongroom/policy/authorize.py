"""One rule for combining strongroom's policies with a resource's own policy (a Secrets Manager
secret's resource policy, a KMS key's key policy), as AWS combines IAM's with a resource's.

``allowed`` is what strongroom's policies say (they play IAM's part); ``verdict`` is what the
resource's policy says about this caller and action (policy/aws_documents.py). The mode says
how much the resource's policy may do; a ``Deny`` in it always refuses."""

from __future__ import annotations

from enum import Enum

from strongroom.policy.aws_documents import Decision

__all__ = ["ResourcePolicyMode", "authorize"]


class ResourcePolicyMode(Enum):
    # A Secrets Manager resource policy: an Allow naming the caller grants; without a statement
    # for the caller, strongroom's policies decide.
    ADDITIVE = "additive"
    # A Deny refuses, an Allow grants nothing (rotation: the rotation engine's rights are
    # strongroom's alone).
    DENY_ONLY = "deny-only"
    # A KMS key policy decides: an Allow naming the caller grants, one naming the account hands
    # the decision to strongroom's policies, and a policy that names neither refuses.
    AUTHORITATIVE = "authoritative"


def authorize(allowed: bool, verdict: Decision, mode: ResourcePolicyMode) -> bool:
    """Whether the request may go ahead."""
    if verdict is Decision.DENY:
        return False
    if mode is ResourcePolicyMode.AUTHORITATIVE:
        return verdict is Decision.ALLOW or (verdict is Decision.ACCOUNT and allowed)
    if mode is ResourcePolicyMode.ADDITIVE:
        return allowed or verdict is Decision.ALLOW
    return allowed
