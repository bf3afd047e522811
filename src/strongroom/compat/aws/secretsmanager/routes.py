"""Secrets Manager's operations as routes of the AWS surface: ``/secretsmanager.<Operation>``."""

from __future__ import annotations

from collections.abc import Callable

from strongroom.compat.aws.secretsmanager.replication_responses import (
    remove_regions_from_replication,
    replicate_secret_to_regions,
    stop_replication_to_replica,
)
from strongroom.compat.aws.secretsmanager.responses import (
    batch_get_secret_value,
    create_secret,
    delete_secret,
    describe_secret,
    get_random_password,
    get_secret_value,
    list_secret_version_ids,
    list_secrets,
    put_secret_value,
    restore_secret,
    tag_resource,
    untag_resource,
    update_secret,
)
from strongroom.compat.aws.secretsmanager.rotation_responses import (
    cancel_rotate_secret,
    delete_resource_policy,
    get_resource_policy,
    put_resource_policy,
    rotate_secret,
    update_secret_version_stage,
    validate_resource_policy,
)
from strongroom.server.routes import Answer, Call, Route

__all__ = ["SECRETS_MANAGER_ROUTES"]


_OPERATIONS: dict[str, Callable[[Call], Answer]] = {
    "CreateSecret": create_secret,
    "GetSecretValue": get_secret_value,
    "BatchGetSecretValue": batch_get_secret_value,
    "PutSecretValue": put_secret_value,
    "UpdateSecret": update_secret,
    "DescribeSecret": describe_secret,
    "ListSecrets": list_secrets,
    "ListSecretVersionIds": list_secret_version_ids,
    "DeleteSecret": delete_secret,
    "RestoreSecret": restore_secret,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "GetRandomPassword": get_random_password,
    "RotateSecret": rotate_secret,
    "UpdateSecretVersionStage": update_secret_version_stage,
    "CancelRotateSecret": cancel_rotate_secret,
    "GetResourcePolicy": get_resource_policy,
    "PutResourcePolicy": put_resource_policy,
    "DeleteResourcePolicy": delete_resource_policy,
    "ValidateResourcePolicy": validate_resource_policy,
    "ReplicateSecretToRegions": replicate_secret_to_regions,
    "RemoveRegionsFromReplication": remove_regions_from_replication,
    "StopReplicationToReplica": stop_replication_to_replica,
}


SECRETS_MANAGER_ROUTES = tuple(
    Route(
        "POST",
        f"/secretsmanager.{name}",
        handler,
        f"secretsmanager{name}",
        f"Secrets Manager {name}",
        fast=name == "GetSecretValue",
    )
    for name, handler in _OPERATIONS.items()
)
