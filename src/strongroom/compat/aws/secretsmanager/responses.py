"""Secrets Manager's operations on secrets and values (``X-Amz-Target: secretsmanager.<Op>``):
shapes and names as botocore's model has them."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from strongroom.compat.aws.fields import AwsError, integer, region_of, string, tag_keys_in
from strongroom.compat.aws.secretsmanager.errors import SecretsManagerError
from strongroom.compat.aws.secretsmanager.fields import (
    name_in,
    request_token_in,
    version_stages_in,
)
from strongroom.compat.aws.secretsmanager.filters import checked_filters, matches
from strongroom.compat.aws.secretsmanager.models import SmSecret, StoredValue
from strongroom.compat.aws.secretsmanager.replication_responses import (
    force_in,
    replica_regions_in,
    with_replication_status,
)
from strongroom.compat.aws.secretsmanager.shapes import (
    CLEAR,
    after_token,
    backend,
    in_aws_words,
    page_size,
    paging_token,
    secret_entry,
    secret_id,
    tags_in,
    value_in,
    written,
)
from strongroom.compat.aws.secretsmanager.values import SecretsManagerService
from strongroom.errors import AccessDenied, BadRequest, NotFound, SecretDeleted
from strongroom.password_generation import CLASSES, PasswordPolicy, generate_password
from strongroom.server.routes import Answer, Call

__all__ = [
    "batch_get_secret_value",
    "create_secret",
    "delete_secret",
    "describe_secret",
    "get_random_password",
    "get_secret_value",
    "list_secret_version_ids",
    "list_secrets",
    "put_secret_value",
    "restore_secret",
    "tag_resource",
    "untag_resource",
    "update_secret",
]


_MAX_BATCH = 20


@in_aws_words
def create_secret(call: Call) -> Answer:
    service, region, doc = backend(call)
    found, version, statuses = service.create(
        call.identity,
        region,
        name_in(doc),
        value_in(doc),
        token=request_token_in(doc),
        description=string(doc, "Description", max_len=2048) or "",
        kms_key_id=string(doc, "KmsKeyId") or "",
        tags=tags_in(doc),
        replicas=replica_regions_in(call),
        force_replicas=force_in(call),
    )
    return with_replication_status(written(found, version), statuses)


def _value_answer(
    service: SecretsManagerService, region: str, call: Call, doc: dict[str, Any]
) -> dict[str, Any]:
    named = secret_id(doc)
    version_id, stage = doc.get("VersionId"), doc.get("VersionStage")
    if version_id is not None and not isinstance(version_id, str):
        raise SecretsManagerError("ValidationException", "VersionId is a string.")
    if stage is not None and not isinstance(stage, str):
        raise SecretsManagerError("ValidationException", "VersionStage is a string.")
    found, value, stages = service.get_value(
        call.identity, region, named, version_id, stage, before_write=call.must_not_block
    )
    stored = StoredValue.of(value.data)
    answer: dict[str, Any] = {
        "ARN": found.arn,
        "Name": found.name,
        "VersionId": found.version_id(value.metadata.version),
        "VersionStages": stages,
        "CreatedDate": value.metadata.created_time.timestamp(),
    }
    if stored.binary is not None:
        answer["SecretBinary"] = base64.b64encode(stored.binary).decode()
    else:
        answer["SecretString"] = stored.string
    return answer


@in_aws_words
def get_secret_value(call: Call) -> Answer:
    """Fast: reads only, on the event loop, while the region's keyring is in memory (a load may
    call the key provider, and a rare first sight of a secret writes its record: a thread)."""
    service, region, doc = backend(call)
    if not service.keys_in_memory(region):
        call.must_not_block()
    return Answer(_value_answer(service, region, call, doc), clear=CLEAR)


@in_aws_words
def batch_get_secret_value(call: Call) -> Answer:
    service, region, doc = backend(call)
    ids = doc.get("SecretIdList")
    filters = doc.get("Filters")
    if (ids is None) == (filters is None):
        raise AwsError(
            "InvalidParameterException",
            "Either 'SecretIdList' or 'Filters' must be provided, but not both.",
        )
    if filters is None and doc.get("MaxResults") is not None:
        raise AwsError(
            "InvalidParameterException",
            "'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is "
            "provided.",
        )
    next_token = None
    if filters is not None:
        checked = checked_filters(filters)
        found = [
            s.name for s, _ in service.list_secrets(call.identity, region) if matches(s, checked)
        ]
        after = after_token(doc)
        start = found.index(after) + 1 if after in found else 0
        size = page_size(doc, top=_MAX_BATCH)
        ids = found[start : start + size]
        if start + size < len(found):
            next_token = paging_token(ids[-1])
    elif not isinstance(ids, list) or not 1 <= len(ids) <= _MAX_BATCH:
        raise AwsError(
            "ValidationException", f"SecretIdList is a list of 1 to {_MAX_BATCH} secret ids."
        )
    elif not all(isinstance(i, str) and 1 <= len(i) <= 2048 for i in ids):
        raise AwsError("ValidationException", "SecretIdList holds secret ids of 1-2048 characters.")
    values, errors = [], []
    for one in ids:
        try:
            values.append(_value_answer(service, region, call, {"SecretId": one}))
        except AccessDenied as exc:  # one secret refused does not fail the others
            errors.append(
                {
                    "SecretId": one,
                    "ErrorCode": "AccessDeniedException",
                    "Message": exc.message,
                }
            )
        except (AwsError, SecretsManagerError, NotFound, SecretDeleted) as exc:
            code = getattr(exc, "aws_code", "ResourceNotFoundException")
            errors.append({"SecretId": one, "ErrorCode": code, "Message": exc.message})
    answer: dict[str, Any] = {"SecretValues": values, "Errors": errors}
    if next_token is not None:
        answer["NextToken"] = next_token
    return Answer(answer)


@in_aws_words
def put_secret_value(call: Call) -> Answer:
    service, region, doc = backend(call)
    value = value_in(doc)
    if value is None:
        raise AwsError(
            "InvalidRequestException", "You must provide either SecretString or SecretBinary."
        )
    found, version, stages = service.put_value(
        call.identity,
        region,
        secret_id(doc),
        value,
        request_token_in(doc),
        stages=version_stages_in(doc),
    )
    answer = {
        "ARN": found.arn,
        "Name": found.name,
        "VersionId": found.version_id(version),
        "VersionStages": stages,
    }
    return Answer(answer, clear=CLEAR)


@in_aws_words
def update_secret(call: Call) -> Answer:
    service, region, doc = backend(call)
    found, version = service.update(
        call.identity,
        region,
        secret_id(doc),
        value=value_in(doc),
        token=request_token_in(doc),
        description=string(doc, "Description", max_len=2048),
        kms_key_id=string(doc, "KmsKeyId"),
    )
    return written(found, version)


@in_aws_words
def describe_secret(call: Call) -> Answer:
    service, region, doc = backend(call)
    found, grant = service.describe(call.identity, region, secret_id(doc))
    answer = secret_entry(service, found, call)
    stages = service.version_stages(found, grant)
    if stages:
        answer["VersionIdsToStages"] = stages
    return Answer(answer, clear=("ARN", "Name"))


@in_aws_words
def list_secrets(call: Call) -> Answer:
    service, region, doc = backend(call)
    filters = checked_filters(doc.get("Filters") or [])
    listed = service.list_secrets(
        call.identity, region, include_deleted=bool(doc.get("IncludePlannedDeletion"))
    )
    grants = {s.name: grant for s, grant in listed}
    found = [s for s, _ in listed if matches(s, filters)]
    by = string(doc, "SortBy") or "created-date"  # AWS's default
    keys: dict[str, Callable[[SmSecret], Any]] = {
        "name": lambda s: s.name,
        "created-date": lambda s: s.created,
        "last-changed-date": lambda s: s.last_changed,
        "last-accessed-date": lambda s: s.last_accessed,
    }
    if by not in keys:
        raise AwsError("ValidationException", f"Unsupported SortBy {by!r}.")
    found.sort(key=lambda s: (keys[by](s), s.name), reverse=string(doc, "SortOrder") == "desc")
    names = [s.name for s in found]
    after = after_token(doc)
    start = names.index(after) + 1 if after in names else 0
    size = page_size(doc)
    page = found[start : start + size]
    answer: dict[str, Any] = {"SecretList": []}
    for secret in page:
        entry = secret_entry(service, secret, call)
        stages = service.version_stages(secret, grants[secret.name])
        if stages:
            entry["SecretVersionsToStages"] = stages
        answer["SecretList"].append(entry)
    if start + size < len(found):
        answer["NextToken"] = paging_token(page[-1].name)
    return Answer(answer)


@in_aws_words
def list_secret_version_ids(call: Call) -> Answer:
    service, region, doc = backend(call)
    found, versions = service.versions(call.identity, region, secret_id(doc))
    include = bool(doc.get("IncludeDeprecated"))
    entries = [
        {
            "VersionId": found.version_id(v.number),
            "VersionStages": list(v.stages),
            "CreatedDate": v.created,
        }
        for v in versions
        if include or v.stages
    ]
    after = after_token(doc)
    ids = [e["VersionId"] for e in entries]
    start = ids.index(after) + 1 if after in ids else 0
    size = page_size(doc)
    answer: dict[str, Any] = {
        "Versions": entries[start : start + size],
        "ARN": found.arn,
        "Name": found.name,
    }
    if start + size < len(entries):
        answer["NextToken"] = paging_token(str(entries[start + size - 1]["VersionId"]))
    return Answer(answer, clear=("ARN", "Name"))


@in_aws_words
def delete_secret(call: Call) -> Answer:
    service, region, doc = backend(call)
    found = service.delete(
        call.identity,
        region,
        secret_id(doc),
        window_days=integer(doc, "RecoveryWindowInDays"),
        force=bool(doc.get("ForceDeleteWithoutRecovery")),
    )
    answer = {"ARN": found.arn, "Name": found.name, "DeletionDate": found.deletion_date}
    return Answer(answer, clear=("ARN", "Name"))


@in_aws_words
def restore_secret(call: Call) -> Answer:
    service, region, doc = backend(call)
    found = service.restore(call.identity, region, secret_id(doc))
    return Answer({"ARN": found.arn, "Name": found.name}, clear=("ARN", "Name"))


@in_aws_words
def tag_resource(call: Call) -> Answer:
    service, region, doc = backend(call)
    service.tag(call.identity, region, secret_id(doc), tags_in(doc))
    return Answer({})


@in_aws_words
def untag_resource(call: Call) -> Answer:
    service, region, doc = backend(call)
    service.untag(call.identity, region, secret_id(doc), tag_keys_in(doc))
    return Answer({})


def get_random_password(call: Call) -> Answer:
    """Secrets Manager's generator, on strongroom's (password_generation.py)."""
    region_of(call)
    doc = call.json()
    length = integer(doc, "PasswordLength")
    classes = [
        name
        for name, flag in (
            ("lower", "ExcludeLowercase"),
            ("upper", "ExcludeUppercase"),
            ("digits", "ExcludeNumbers"),
            ("symbols", "ExcludePunctuation"),
        )
        if not doc.get(flag)
    ]
    if doc.get("IncludeSpace"):
        classes.append("space")
    if not classes:
        raise AwsError(
            "InvalidParameterException", "The password would have no characters to choose from."
        )
    exclude = string(doc, "ExcludeCharacters", max_len=4096) or ""
    try:
        policy = PasswordPolicy(
            32 if length is None else length,
            tuple(c for c in classes if c in CLASSES),
            exclude,
            doc.get("RequireEachIncludedType", True) is not False,
        )
    except BadRequest as exc:  # in Secrets Manager's words
        raise AwsError("InvalidParameterException", exc.message) from None
    return Answer({"RandomPassword": generate_password(policy)})
