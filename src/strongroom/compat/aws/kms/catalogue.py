"""Each KMS action on a key, and what it needs: a capability on ``aws-kms-R/<area>/<key id>``,
and whether its KeyId may be an alias (as in AWS, key management takes a key id or ARN only).
The key's key policy decides on top, authoritatively (policy/authorize.py). ``core.KmsCore.
_resolve`` reads this, and docs/compat-aws.md's table is checked against it
(tests/unit/test_authorize.py)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OPERATIONS", "Rule"]


@dataclass(frozen=True)
class Rule:
    capability: str
    area: str  # keys, encrypt, decrypt, datakey, mac, sign or verify
    by_alias: bool = False


_KEYS_READ = Rule("read", "keys")
_KEYS_UPDATE = Rule("update", "keys")

OPERATIONS: dict[str, Rule] = {
    "DescribeKey": Rule("read", "keys", by_alias=True),
    "GetKeyPolicy": _KEYS_READ,
    "ListKeyPolicies": _KEYS_READ,
    "GetKeyRotationStatus": _KEYS_READ,
    "ListResourceTags": _KEYS_READ,
    "ListKeyRotations": _KEYS_READ,
    "ListAliases": _KEYS_READ,  # with a KeyId: the aliases of that key
    # a key policy can grant what strongroom's policies do not: putting one is sudo
    "PutKeyPolicy": Rule("sudo", "keys"),
    "EnableKey": _KEYS_UPDATE,
    "DisableKey": _KEYS_UPDATE,
    "EnableKeyRotation": _KEYS_UPDATE,
    "DisableKeyRotation": _KEYS_UPDATE,
    "RotateKeyOnDemand": _KEYS_UPDATE,
    "UpdateKeyDescription": _KEYS_UPDATE,
    "TagResource": _KEYS_UPDATE,
    "UntagResource": _KEYS_UPDATE,
    "CreateAlias": _KEYS_UPDATE,  # the key the alias names (and the alias's own path)
    "UpdateAlias": _KEYS_UPDATE,
    "DeleteAlias": _KEYS_UPDATE,  # the key the alias names (and the alias's own path)
    # on the primary; ``create`` on aws-kms-B/keys in the replica's region too (replicas.py)
    "ReplicateKey": _KEYS_UPDATE,
    # on the primary, and on the replica that becomes primary, in its region
    "UpdatePrimaryRegion": _KEYS_UPDATE,
    "ScheduleKeyDeletion": Rule("delete", "keys"),
    "CancelKeyDeletion": Rule("delete", "keys"),
    "Encrypt": Rule("update", "encrypt", by_alias=True),
    "Decrypt": Rule("update", "decrypt", by_alias=True),
    "ReEncryptFrom": Rule("update", "decrypt", by_alias=True),  # ReEncrypt's source key
    "ReEncryptTo": Rule("update", "encrypt", by_alias=True),  # and its destination
    "GenerateDataKey": Rule("update", "datakey", by_alias=True),
    "GenerateDataKeyWithoutPlaintext": Rule("update", "datakey", by_alias=True),
    "GenerateDataKeyPair": Rule("update", "datakey", by_alias=True),
    "GenerateDataKeyPairWithoutPlaintext": Rule("update", "datakey", by_alias=True),
    "GenerateMac": Rule("update", "mac", by_alias=True),
    "VerifyMac": Rule("update", "mac", by_alias=True),
    "Sign": Rule("update", "sign", by_alias=True),
    "Verify": Rule("update", "verify", by_alias=True),
    "GetPublicKey": Rule("read", "keys", by_alias=True),
}
