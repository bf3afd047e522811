"""Each Secrets Manager action on a secret, and what it needs: a capability on one of the
secret's policy paths (the KV v2 map of ``aws-R``, or ``sys/rotation/aws-R/N``) and how far the
secret's resource policy may decide (policy/authorize.py). ``core.SecretsCore._authorized`` reads
this, and docs/compat-aws.md's table is checked against it
(tests/unit/test_authorize.py)."""

from __future__ import annotations

from dataclasses import dataclass

from strongroom.policy.authorize import ResourcePolicyMode
from strongroom.policy.kv import DATA, METADATA

__all__ = ["OPERATIONS", "ROTATION", "Rule"]

ROTATION = "rotation"  # the policy path sys/rotation/aws-R/N


@dataclass(frozen=True)
class Rule:
    capability: str
    area: str  # DATA, METADATA or ROTATION
    mode: ResourcePolicyMode = ResourcePolicyMode.ADDITIVE


OPERATIONS: dict[str, Rule] = {
    "GetSecretValue": Rule("read", DATA),
    # the new version: ``update``, or ``create`` while the secret has no value yet (values.py)
    "PutSecretValue": Rule("update", DATA),
    # ``update`` on the metadata, and the new version's rule when it brings a value (values.py)
    "UpdateSecret": Rule("update", METADATA),
    "DescribeSecret": Rule("read", METADATA),
    "ListSecretVersionIds": Rule("read", METADATA),
    "UpdateSecretVersionStage": Rule("update", METADATA),
    "DeleteSecret": Rule("delete", METADATA),
    "RestoreSecret": Rule("update", METADATA),
    "TagResource": Rule("update", METADATA),
    "UntagResource": Rule("update", METADATA),
    "GetResourcePolicy": Rule("read", METADATA),
    # a resource policy can grant what strongroom's policies do not: changing it is sudo
    "PutResourcePolicy": Rule("sudo", METADATA),
    "DeleteResourcePolicy": Rule("sudo", METADATA),
    "ValidateResourcePolicy": Rule("sudo", METADATA),
    # a replica makes the values readable in its region: ``read`` on them is checked too, and
    # ``create`` in the replica's region (replication.py)
    "ReplicateSecretToRegions": Rule("update", METADATA),
    "RemoveRegionsFromReplication": Rule("update", METADATA),
    # called in the replica's region: its values are read there, and ``create`` and ``update``
    # there make them a secret of its own (replication.py)
    "StopReplicationToReplica": Rule("read", DATA),
    "RotateSecret": Rule("update", ROTATION, ResourcePolicyMode.DENY_ONLY),
    "CancelRotateSecret": Rule("update", ROTATION, ResourcePolicyMode.DENY_ONLY),
}
