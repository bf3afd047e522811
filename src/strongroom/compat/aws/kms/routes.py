"""KMS's operations as routes of the AWS surface: ``/TrentService.<Operation>``."""

from __future__ import annotations

from collections.abc import Callable

from strongroom.compat.aws.kms.crypto_responses import (
    decrypt,
    encrypt,
    generate_data_key,
    generate_data_key_pair,
    generate_data_key_pair_without_plaintext,
    generate_data_key_without_plaintext,
    generate_mac,
    generate_random,
    get_public_key,
    re_encrypt,
    sign,
    verify,
    verify_mac,
)
from strongroom.compat.aws.kms.responses import (
    cancel_key_deletion,
    create_alias,
    create_key,
    delete_alias,
    describe_key,
    disable_key,
    disable_key_rotation,
    enable_key,
    enable_key_rotation,
    get_key_policy,
    get_key_rotation_status,
    list_aliases,
    list_key_policies,
    list_key_rotations,
    list_keys,
    list_resource_tags,
    put_key_policy,
    replicate_key,
    rotate_key_on_demand,
    schedule_key_deletion,
    tag_resource,
    untag_resource,
    update_alias,
    update_key_description,
    update_primary_region,
)
from strongroom.server.routes import Answer, Call, Route

__all__ = ["KMS_ROUTES"]


_OPERATIONS: dict[str, Callable[[Call], Answer]] = {
    "CreateKey": create_key,
    "DescribeKey": describe_key,
    "ReplicateKey": replicate_key,
    "UpdatePrimaryRegion": update_primary_region,
    "ListKeys": list_keys,
    "EnableKey": enable_key,
    "DisableKey": disable_key,
    "ScheduleKeyDeletion": schedule_key_deletion,
    "CancelKeyDeletion": cancel_key_deletion,
    "GetKeyPolicy": get_key_policy,
    "ListKeyPolicies": list_key_policies,
    "UpdateKeyDescription": update_key_description,
    "PutKeyPolicy": put_key_policy,
    "EnableKeyRotation": enable_key_rotation,
    "DisableKeyRotation": disable_key_rotation,
    "GetKeyRotationStatus": get_key_rotation_status,
    "RotateKeyOnDemand": rotate_key_on_demand,
    "ListKeyRotations": list_key_rotations,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListResourceTags": list_resource_tags,
    "CreateAlias": create_alias,
    "UpdateAlias": update_alias,
    "DeleteAlias": delete_alias,
    "ListAliases": list_aliases,
    "Encrypt": encrypt,
    "Decrypt": decrypt,
    "GenerateDataKey": generate_data_key,
    "GenerateDataKeyWithoutPlaintext": generate_data_key_without_plaintext,
    "ReEncrypt": re_encrypt,
    "GenerateDataKeyPair": generate_data_key_pair,
    "GenerateDataKeyPairWithoutPlaintext": generate_data_key_pair_without_plaintext,
    "GenerateRandom": generate_random,
    "GenerateMac": generate_mac,
    "VerifyMac": verify_mac,
    "Sign": sign,
    "Verify": verify,
    "GetPublicKey": get_public_key,
}


KMS_ROUTES = tuple(
    Route("POST", f"/TrentService.{name}", handler, f"kms{name}", f"AWS KMS {name}")
    for name, handler in _OPERATIONS.items()
)
