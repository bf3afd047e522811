"""What the Secrets Manager responses share: its words for a missing secret, the request's
backend, region and body, the shapes of a value, tags, an entry of ListSecrets and rotation
rules, and NextToken paging."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from strongroom.compat.aws.fields import (
    AwsError,
    blob,
    integer,
    region_of,
    string,
    tag_list,
    tags_in,
)
from strongroom.compat.aws.secretsmanager.errors import SecretsManagerError
from strongroom.compat.aws.secretsmanager.models import SmSecret, StoredValue
from strongroom.compat.aws.secretsmanager.replication import ReplicaStatus, replica_statuses
from strongroom.compat.aws.secretsmanager.values import SecretsManagerService
from strongroom.errors import NotFound, SecretDeleted
from strongroom.server.routes import Answer, Call

__all__ = [
    "CLEAR",
    "MAX_BINARY",
    "after_token",
    "backend",
    "in_aws_words",
    "page_size",
    "paging_token",
    "replication_status",
    "rotation_rules",
    "secret_entry",
    "secret_id",
    "tag_list",
    "tags_in",
    "value_in",
    "written",
]


MAX_BINARY = 65536


# What the audit log keeps in clear (response_metadata): names and version metadata, as a KV
# read's version number and times; the value and anything else are HMAC'd.
CLEAR = ("ARN", "Name", "VersionId", "VersionStages", "CreatedDate")


def in_aws_words(handler: Callable[[Call], Answer]) -> Callable[[Call], Answer]:
    """Secrets Manager's words for what the services call NotFound."""

    @wraps(handler)
    def answered(call: Call) -> Answer:
        try:
            return handler(call)
        except (NotFound, SecretDeleted):
            raise AwsError(
                "ResourceNotFoundException", "Secrets Manager can't find the specified secret."
            ) from None

    return answered


def backend(call: Call) -> tuple[SecretsManagerService, str, dict[str, Any]]:
    return call.services.aws_secrets, region_of(call), call.json()


def value_in(doc: dict[str, Any]) -> StoredValue | None:
    string_value = doc.get("SecretString")
    binary = blob(doc, "SecretBinary", max_len=MAX_BINARY)
    if string_value is not None and binary is not None:
        raise SecretsManagerError(
            "InvalidParameterException",
            "You can't specify both a binary secret value and a string secret value in the "
            "same secret.",
        )
    if binary is not None:
        return StoredValue(binary=binary)
    if string_value is None:
        return None
    if not isinstance(string_value, str) or len(string_value.encode()) > MAX_BINARY:
        raise SecretsManagerError(
            "ValidationException", "SecretString must be at most 65,536 bytes."
        )
    return StoredValue(string=string_value)


def secret_entry(service: SecretsManagerService, found: SmSecret, call: Call) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "ARN": found.arn,
        "Name": found.name,
        "LastChangedDate": found.last_changed,
        "CreatedDate": found.created,
    }
    # AWS leaves out what is empty or off
    if found.description:
        doc["Description"] = found.description
    if found.tags or found.tagged:
        doc["Tags"] = tag_list(found.tags)
    if found.rotation_enabled or found.rotation_cancelled:
        doc["RotationEnabled"] = found.rotation_enabled
    if found.kms_key_id:
        doc["KmsKeyId"] = found.kms_key_id
    if found.deletion_date:
        doc["DeletedDate"] = found.deletion_date
    if found.replicas or found.primary_region:  # replicated: the primary's region, its replicas
        doc["PrimaryRegion"] = found.home_region
        if not found.primary_region:
            doc["ReplicationStatus"] = replication_status(replica_statuses(found))
    if found.rotation_enabled:
        doc["RotationRules"] = rotation_rules(found)
        if found.rotation_lambda_arn:
            doc["RotationLambdaARN"] = found.rotation_lambda_arn
        last, following = service.rotation_dates(call.identity, found)
        if last:
            doc["LastRotatedDate"] = last
        if following:
            doc["NextRotationDate"] = following
    return doc


def replication_status(statuses: list[ReplicaStatus]) -> list[dict[str, str]]:
    """Each replica's status as AWS shows it."""
    shown = []
    for status in statuses:
        entry = {"Region": status.region, "Status": status.status}
        if status.kms_key_id:
            entry["KmsKeyId"] = status.kms_key_id
        entry["StatusMessage"] = status.message
        shown.append(entry)
    return shown


def rotation_rules(found: SmSecret) -> dict[str, Any]:
    rules: dict[str, Any] = {}
    if found.rotation_days:
        rules["AutomaticallyAfterDays"] = found.rotation_days
    if found.rotation_schedule:
        rules["ScheduleExpression"] = found.rotation_schedule
        in_days = re.fullmatch(r"rate\((\d+) days?\)", found.rotation_schedule)
        if in_days:
            rules["AutomaticallyAfterDays"] = int(in_days[1])
    if found.rotation_duration:
        rules["Duration"] = found.rotation_duration
    return rules


def written(found: SmSecret, version: int | None) -> Answer:
    """ARN and Name, and the VersionId of the version written, if one was."""
    answer: dict[str, Any] = {"ARN": found.arn, "Name": found.name}
    if version is not None:
        answer["VersionId"] = found.version_id(version)
    return Answer(answer, clear=CLEAR)


def page_size(doc: dict[str, Any], name: str = "MaxResults", top: int = 100) -> int:
    size = integer(doc, name)
    if size is None:
        return top
    if not 1 <= size <= top:
        raise AwsError(
            "ValidationException",
            f"1 validation error detected: Value '{size}' at 'maxResults' failed to satisfy "
            f"constraint: Member must have value between 1 and {top}",
        )
    return size


def after_token(doc: dict[str, Any]) -> str:
    token = doc.get("NextToken")
    if token is None:
        return ""
    try:
        return base64.urlsafe_b64decode(str(token).encode()).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise AwsError("InvalidNextTokenException", "The NextToken value is invalid.") from None


def paging_token(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def secret_id(doc: dict[str, Any]) -> str:
    """The request's SecretId: a name or an ARN, 1-2048 characters (botocore's model)."""
    return string(doc, "SecretId", required=True, max_len=2048)
