"""KMS key management on the wire (``X-Amz-Target: TrentService.<Operation>``): keys, key
policies, rotation, tags and aliases."""

from __future__ import annotations

import functools
from typing import Any

from strongroom.compat.aws.fields import AwsError, integer, string, tag_keys_in, tag_list, tags_in
from strongroom.compat.aws.kms.models import MAX_KEY_POLICY, default_key_policy
from strongroom.compat.aws.kms.shapes import (
    SYMMETRIC_ALGORITHM,
    backend,
    key_metadata,
    page_of,
    paged,
)
from strongroom.server.routes import Answer, Call

# KMS's tags are {TagKey, TagValue}, and a key named twice is refused.
_kms_tags = functools.partial(
    tags_in, key="TagKey", value="TagValue", duplicates=("TagException", "Duplicate tag keys")
)

__all__ = [
    "cancel_key_deletion",
    "create_alias",
    "create_key",
    "delete_alias",
    "describe_key",
    "disable_key",
    "disable_key_rotation",
    "enable_key",
    "enable_key_rotation",
    "get_key_policy",
    "get_key_rotation_status",
    "list_aliases",
    "list_key_policies",
    "list_key_rotations",
    "list_keys",
    "list_resource_tags",
    "put_key_policy",
    "replicate_key",
    "rotate_key_on_demand",
    "schedule_key_deletion",
    "tag_resource",
    "untag_resource",
    "update_alias",
    "update_key_description",
    "update_primary_region",
]


# -- keys
def create_key(call: Call) -> Answer:
    service, region, doc = backend(call)
    usage = string(doc, "KeyUsage")
    spec = string(doc, "KeySpec") or string(doc, "CustomerMasterKeySpec") or SYMMETRIC_ALGORITHM
    if string(doc, "Origin") not in (None, "AWS_KMS"):
        raise AwsError("UnsupportedOperationException", "Only keys of Origin AWS_KMS.")
    multi_region = doc.get("MultiRegion", False)
    if not isinstance(multi_region, bool):
        raise AwsError("ValidationException", "MultiRegion is a boolean.")
    key = service.create_key(
        call.identity,
        region,
        description=string(doc, "Description", max_len=8192) or "",
        tags=_kms_tags(doc),
        key_spec=spec,
        key_usage=usage,
        policy=string(doc, "Policy", max_len=MAX_KEY_POLICY),
        bypass_lockout_check=doc.get("BypassPolicyLockoutSafetyCheck") is True,
        multi_region=multi_region,
    )
    return Answer({"KeyMetadata": key_metadata(service, key)}, clear=("KeyMetadata",))


def replicate_key(call: Call) -> Answer:
    service, region, doc = backend(call)
    description = string(doc, "Description", max_len=8192)
    replica = service.replicate_key(
        call.identity,
        region,
        string(doc, "KeyId", required=True),
        string(doc, "ReplicaRegion", required=True),
        description=description,
        tags=_kms_tags(doc),
        policy=string(doc, "Policy", max_len=MAX_KEY_POLICY),
        bypass_lockout_check=doc.get("BypassPolicyLockoutSafetyCheck") is True,
    )
    answer = {
        "ReplicaKeyMetadata": key_metadata(service, replica),
        "ReplicaPolicy": replica.policy or default_key_policy(replica.account),
        "ReplicaTags": [{"TagKey": k, "TagValue": v} for k, v in sorted(replica.tags.items())],
    }
    return Answer(answer, clear=("ReplicaKeyMetadata", "ReplicaPolicy", "ReplicaTags"))


def update_primary_region(call: Call) -> Answer:
    service, region, doc = backend(call)
    service.update_primary_region(
        call.identity,
        region,
        string(doc, "KeyId", required=True),
        string(doc, "PrimaryRegion", required=True),
    )
    return Answer({})


def describe_key(call: Call) -> Answer:
    service, region, doc = backend(call)
    key = service.describe(call.identity, region, string(doc, "KeyId", required=True))
    return Answer({"KeyMetadata": key_metadata(service, key)}, clear=("KeyMetadata",))


def list_keys(call: Call) -> Answer:
    service, region, doc = backend(call)
    keys = service.list_keys(call.identity, region)
    page, marker = page_of(doc, keys, lambda k: k.key_id)
    entries = [{"KeyId": k.key_id, "KeyArn": k.arn} for k in page]
    return paged({}, "Keys", entries, marker)


def enable_key(call: Call) -> Answer:
    service, region, doc = backend(call)
    service.set_enabled(call.identity, region, string(doc, "KeyId", required=True), True)
    return Answer({})


def disable_key(call: Call) -> Answer:
    service, region, doc = backend(call)
    service.set_enabled(call.identity, region, string(doc, "KeyId", required=True), False)
    return Answer({})


def schedule_key_deletion(call: Call) -> Answer:
    service, region, doc = backend(call)
    days = integer(doc, "PendingWindowInDays")
    key = service.schedule_deletion(
        call.identity, region, string(doc, "KeyId", required=True), 30 if days is None else days
    )
    return Answer(
        {
            "KeyId": key.arn,
            "DeletionDate": key.deletion_date,
            "KeyState": key.state,
            "PendingWindowInDays": key.pending_window_days,
        },
        clear=("KeyId", "KeyState"),
    )


def cancel_key_deletion(call: Call) -> Answer:
    service, region, doc = backend(call)
    key = service.cancel_deletion(call.identity, region, string(doc, "KeyId", required=True))
    return Answer({"KeyId": key.arn}, clear=("KeyId",))


def get_key_policy(call: Call) -> Answer:
    service, region, doc = backend(call)
    name = string(doc, "PolicyName", max_len=128)
    policy = service.get_policy(call.identity, region, string(doc, "KeyId", required=True), name)
    return Answer({"Policy": policy, "PolicyName": "default"})


def put_key_policy(call: Call) -> Answer:
    service, region, doc = backend(call)
    service.put_policy(
        call.identity,
        region,
        string(doc, "KeyId", required=True),
        string(doc, "PolicyName", max_len=128),
        string(doc, "Policy", required=True, max_len=MAX_KEY_POLICY),
        bypass_lockout_check=doc.get("BypassPolicyLockoutSafetyCheck") is True,
    )
    return Answer({})


def update_key_description(call: Call) -> Answer:
    service, region, doc = backend(call)
    service.describe_as(
        call.identity,
        region,
        string(doc, "KeyId", required=True),
        string(doc, "Description", required=True, max_len=8192),
    )
    return Answer({})


def list_key_policies(call: Call) -> Answer:
    service, region, doc = backend(call)
    key_ref = string(doc, "KeyId", required=True)
    service.get_policy(call.identity, region, key_ref, None, "ListKeyPolicies")
    return Answer({"PolicyNames": ["default"], "Truncated": False})


# -- rotation
def enable_key_rotation(call: Call) -> Answer:
    service, region, doc = backend(call)
    days = integer(doc, "RotationPeriodInDays")
    service.set_rotation(
        call.identity, region, string(doc, "KeyId", required=True), 365 if days is None else days
    )
    return Answer({})


def disable_key_rotation(call: Call) -> Answer:
    service, region, doc = backend(call)
    service.set_rotation(call.identity, region, string(doc, "KeyId", required=True), None)
    return Answer({})


def get_key_rotation_status(call: Call) -> Answer:
    service, region, doc = backend(call)
    key_ref = string(doc, "KeyId", required=True)
    key = service.describe(call.identity, region, key_ref, "GetKeyRotationStatus")
    period = service.rotation_period(key)
    answer: dict[str, Any] = {"KeyRotationEnabled": bool(period), "KeyId": key.arn}
    if period:
        answer["RotationPeriodInDays"] = period
        answer["NextRotationDate"] = service.next_rotation(key)
    if key.on_demand_rotations:
        answer["OnDemandRotationStartDate"] = key.on_demand_rotations[-1]
    return Answer(answer, clear=("KeyRotationEnabled", "KeyId"))


def rotate_key_on_demand(call: Call) -> Answer:
    service, region, doc = backend(call)
    key = service.rotate_now(call.identity, region, string(doc, "KeyId", required=True))
    return Answer({"KeyId": key.arn}, clear=("KeyId",))


def list_key_rotations(call: Call) -> Answer:
    service, region, doc = backend(call)
    key_ref = string(doc, "KeyId", required=True)
    key = service.describe(call.identity, region, key_ref, "ListKeyRotations")
    rotations = service.rotations(call.identity, region, key_ref)
    entries = [
        {"KeyId": key.arn, "RotationDate": date, "RotationType": kind} for date, kind in rotations
    ]
    page, marker = page_of(doc, entries, lambda e: f"{e['RotationDate']:020.6f}")
    return paged({}, "Rotations", page, marker)


# -- tags
def tag_resource(call: Call) -> Answer:
    service, region, doc = backend(call)
    service.tag(call.identity, region, string(doc, "KeyId", required=True), _kms_tags(doc))
    return Answer({})


def untag_resource(call: Call) -> Answer:
    service, region, doc = backend(call)
    names = tag_keys_in(doc)
    service.untag(call.identity, region, string(doc, "KeyId", required=True), names)
    return Answer({})


def list_resource_tags(call: Call) -> Answer:
    service, region, doc = backend(call)
    key_ref = string(doc, "KeyId", required=True)
    key = service.describe(call.identity, region, key_ref, "ListResourceTags")
    tags = tag_list(dict(sorted(key.tags.items())), key="TagKey", value="TagValue")
    page, marker = page_of(doc, tags, lambda t: t["TagKey"])
    return paged({}, "Tags", page, marker)


# -- aliases
def create_alias(call: Call) -> Answer:
    service, region, doc = backend(call)
    service.create_alias(
        call.identity,
        region,
        string(doc, "AliasName", required=True, max_len=256),
        string(doc, "TargetKeyId", required=True),
    )
    return Answer({})


def update_alias(call: Call) -> Answer:
    service, region, doc = backend(call)
    service.update_alias(
        call.identity,
        region,
        string(doc, "AliasName", required=True, max_len=256),
        string(doc, "TargetKeyId", required=True),
    )
    return Answer({})


def delete_alias(call: Call) -> Answer:
    service, region, doc = backend(call)
    service.delete_alias(call.identity, region, string(doc, "AliasName", required=True))
    return Answer({})


def list_aliases(call: Call) -> Answer:
    service, region, doc = backend(call)
    aliases = service.list_aliases(call.identity, region, string(doc, "KeyId"))
    entries = [
        {
            "AliasName": name,
            "AliasArn": f"arn:aws:kms:{region}:{service.account}:{name}",
            "TargetKeyId": alias.target,
            "CreationDate": alias.created,
            "LastUpdatedDate": alias.updated,
        }
        for name, alias in aliases
    ]
    page, marker = page_of(doc, entries, lambda e: e["AliasName"])
    return paged({}, "Aliases", page, marker)
