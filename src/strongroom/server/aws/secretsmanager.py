"""AWS Secrets Manager (``X-Amz-Target: secretsmanager.<Operation>``) over
service/aws_secrets.py: shapes and names as botocore's model has them."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from datetime import datetime
from functools import partial, wraps
from typing import Any

from strongroom.errors import AccessDenied, BadRequest, NotFound, SecretDeleted
from strongroom.password_generation import CLASSES, PasswordPolicy, generate_password
from strongroom.server.aws.wire import AwsError, blob, integer, region_of, string
from strongroom.server.routes import Answer, Call, Route
from strongroom.service.aws_schedules import RotationSchedule
from strongroom.service.aws_secrets import (
    SecretsManagerError,
    SecretsManagerService,
    SmSecret,
    StoredValue,
)

__all__ = [
    "SECRETS_MANAGER_ROUTES",
    "batch_get_secret_value",
    "cancel_rotate_secret",
    "create_secret",
    "delete_resource_policy",
    "delete_secret",
    "describe_secret",
    "get_random_password",
    "get_resource_policy",
    "get_secret_value",
    "list_secret_version_ids",
    "list_secrets",
    "put_resource_policy",
    "put_secret_value",
    "restore_secret",
    "rotate_secret",
    "tag_resource",
    "untag_resource",
    "update_secret",
    "update_secret_version_stage",
    "validate_resource_policy",
]

_MAX_BINARY = 65536
_MAX_BATCH = 20
_CLEAR = ("ARN", "Name", "VersionId", "VersionStages")


def _errors(handler: Callable[[Call], Answer]) -> Callable[[Call], Answer]:
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


def _sm(call: Call) -> tuple[SecretsManagerService, str, dict[str, Any]]:
    return call.services.aws_secrets, region_of(call), call.json()


def _value(doc: dict[str, Any]) -> StoredValue | None:
    string_value = doc.get("SecretString")
    binary = blob(doc, "SecretBinary", max_len=_MAX_BINARY)
    return SecretsManagerService.value_of(string_value, binary)


def _tags(doc: dict[str, Any]) -> dict[str, str]:
    tags = doc.get("Tags") or []
    if not isinstance(tags, list) or not all(
        isinstance(t, dict) and isinstance(t.get("Key"), str) and isinstance(t.get("Value"), str)
        for t in tags
    ):
        raise AwsError("ValidationException", "Tags is a list of {Key, Value}.")
    return {t["Key"]: t["Value"] for t in tags}


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]  # in the order they were put


def _entry(service: SecretsManagerService, found: SmSecret, call: Call) -> dict[str, Any]:
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
        doc["Tags"] = _tag_list(found.tags)
    if found.rotation_enabled or found.rotation_cancelled:
        doc["RotationEnabled"] = found.rotation_enabled
    if found.kms_key_id:
        doc["KmsKeyId"] = found.kms_key_id
    if found.deletion_date:
        doc["DeletedDate"] = found.deletion_date
    if found.rotation_enabled:
        doc["RotationRules"] = _rules(found)
        if found.rotation_lambda_arn:
            doc["RotationLambdaARN"] = found.rotation_lambda_arn
        last, following = service.rotation_dates(call.identity, found)
        if last:
            doc["LastRotatedDate"] = last
        if following:
            doc["NextRotationDate"] = following
    return doc


def _rules(found: SmSecret) -> dict[str, Any]:
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


@_errors
def create_secret(call: Call) -> Answer:
    service, region, doc = _sm(call)
    found, version = service.create(
        call.identity,
        region,
        doc.get("Name"),
        _value(doc),
        token=doc.get("ClientRequestToken"),
        description=string(doc, "Description", max_len=2048) or "",
        kms_key_id=string(doc, "KmsKeyId") or "",
        tags=_tags(doc),
    )
    return _written(found, version)


def _written(found: SmSecret, version: int | None) -> Answer:
    """ARN and Name, and the VersionId of the version written, if one was."""
    answer: dict[str, Any] = {"ARN": found.arn, "Name": found.name}
    if version is not None:
        answer["VersionId"] = found.version_id(version)
    return Answer(answer, clear=_CLEAR)


def _value_answer(
    service: SecretsManagerService, region: str, call: Call, doc: dict[str, Any]
) -> dict[str, Any]:
    found, value, stages = service.get_value(
        call.identity,
        region,
        doc.get("SecretId"),
        doc.get("VersionId"),
        doc.get("VersionStage"),
        before_write=call.must_not_block,
    )
    stored = StoredValue.of(value.data)
    answer: dict[str, Any] = {
        "ARN": found.arn,
        "Name": found.name,
        "VersionId": found.version_id(value.metadata.version),
        "VersionStages": stages,
        "CreatedDate": _epoch(value.metadata.created_time),
    }
    if stored.binary is not None:
        answer["SecretBinary"] = base64.b64encode(stored.binary).decode()
    else:
        answer["SecretString"] = stored.string
    return answer


@_errors
def get_secret_value(call: Call) -> Answer:
    """Fast: reads only, on the event loop, while the region's keyring is in memory (a load may
    call the key provider, and a rare first sight of a secret writes its record: a thread)."""
    service, region, doc = _sm(call)
    if not service.keys_in_memory(region):
        call.must_not_block()
    return Answer(_value_answer(service, region, call, doc), clear=_CLEAR)


@_errors
def batch_get_secret_value(call: Call) -> Answer:
    service, region, doc = _sm(call)
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
        checked = _checked_filters(filters)
        found = [
            s.name for s in service.list_secrets(call.identity, region) if _matches(s, checked)
        ]
        after = _after(doc)
        start = found.index(after) + 1 if after in found else 0
        size = _page_size(doc, top=_MAX_BATCH)
        ids = found[start : start + size]
        if start + size < len(found):
            next_token = _token(ids[-1])
    elif not isinstance(ids, list) or not 1 <= len(ids) <= _MAX_BATCH:
        raise AwsError(
            "ValidationException", f"SecretIdList is a list of 1 to {_MAX_BATCH} secret ids."
        )
    values, errors = [], []
    for secret_id in ids:
        try:
            values.append(_value_answer(service, region, call, {"SecretId": secret_id}))
        except AccessDenied as exc:  # one secret refused does not fail the others
            errors.append(
                {
                    "SecretId": str(secret_id),
                    "ErrorCode": "AccessDeniedException",
                    "Message": exc.message,
                }
            )
        except (AwsError, SecretsManagerError, NotFound, SecretDeleted) as exc:
            code = getattr(exc, "aws_code", "ResourceNotFoundException")
            errors.append({"SecretId": str(secret_id), "ErrorCode": code, "Message": exc.message})
    answer: dict[str, Any] = {"SecretValues": values, "Errors": errors}
    if next_token is not None:
        answer["NextToken"] = next_token
    return Answer(answer)


@_errors
def put_secret_value(call: Call) -> Answer:
    service, region, doc = _sm(call)
    value = _value(doc)
    if value is None:
        raise AwsError(
            "InvalidRequestException", "You must provide either SecretString or SecretBinary."
        )
    found, version, stages = service.put_value(
        call.identity,
        region,
        doc.get("SecretId"),
        value,
        doc.get("ClientRequestToken"),
        stages=doc.get("VersionStages"),
    )
    answer = {
        "ARN": found.arn,
        "Name": found.name,
        "VersionId": found.version_id(version),
        "VersionStages": stages,
    }
    return Answer(answer, clear=_CLEAR)


@_errors
def update_secret(call: Call) -> Answer:
    service, region, doc = _sm(call)
    found, version = service.update(
        call.identity,
        region,
        doc.get("SecretId"),
        value=_value(doc),
        token=doc.get("ClientRequestToken"),
        description=doc.get("Description"),
        kms_key_id=doc.get("KmsKeyId"),
    )
    return _written(found, version)


@_errors
def describe_secret(call: Call) -> Answer:
    service, region, doc = _sm(call)
    found = service.describe(call.identity, region, doc.get("SecretId"))
    answer = _entry(service, found, call)
    stages = service.version_stages(found)
    if stages:
        answer["VersionIdsToStages"] = stages
    return Answer(answer, clear=("ARN", "Name"))


def _page_size(doc: dict[str, Any], name: str = "MaxResults", top: int = 100) -> int:
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


def _after(doc: dict[str, Any]) -> str:
    token = doc.get("NextToken")
    if token is None:
        return ""
    try:
        return base64.urlsafe_b64decode(str(token).encode()).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise AwsError("InvalidNextTokenException", "The NextToken value is invalid.") from None


def _token(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


_FILTER_KEYS = (
    "description",
    "name",
    "tag-key",
    "tag-value",
    "primary-region",
    "owning-service",
    "all",
)
_SEPARATORS = frozenset("/-_+=.@")
_MAX_FILTERS = 10  # filters, and values in a filter, as botocore's model
_MAX_FILTER_VALUE = 512
_WORD_START = re.compile(r"(?=[^a-z][a-z])")


def _checked_filters(filters: object) -> list[tuple[str, list[str]]]:
    """(key, values) of each filter, refused as Secrets Manager refuses them."""
    if not isinstance(filters, list) or len(filters) > _MAX_FILTERS:
        raise AwsError(
            "ValidationException",
            f"Filters is a list of at most {_MAX_FILTERS} {{Key, Values}}.",
        )
    checked = []
    for index, entry in enumerate(filters, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("Key"), str):
            raise AwsError("InvalidParameterException", "Invalid filter key")
        key, values = entry["Key"], entry.get("Values")
        if key not in _FILTER_KEYS:
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{key}' at 'filters.{index}.member.key' "
                "failed to satisfy constraint: Member must satisfy enum value set: "
                f"[{', '.join(_FILTER_KEYS)}]",
            )
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) for v in values)
        ):
            raise AwsError("InvalidParameterException", f"Invalid filter values for key: {key}")
        if len(values) > _MAX_FILTERS or any(len(v) > _MAX_FILTER_VALUE for v in values):
            raise AwsError(
                "ValidationException",
                f"A filter has at most {_MAX_FILTERS} values of at most {_MAX_FILTER_VALUE} "
                "characters.",
            )
        checked.append((key, values))
    return checked


def _words(text: str) -> list[str]:
    """The words AWS matches ``all`` and ``description`` filters against (lower case): split
    at white space, then at the one separator character a term uses (a term with two kinds of
    separators is one word, a separator alone none), then before each capital that starts a
    run of small letters (``AppBeta``: app, beta; ``COMPANYthings``: compan, ythings)."""
    words = []
    for term in text.split():
        used = {c for c in term if c in _SEPARATORS}
        if term in _SEPARATORS:
            continue
        if len(used) > 1:
            words.append(term.lower())
            continue
        for part in term.split(used.pop()) if used else [term]:
            words.extend(w.lower() for w in _WORD_START.split(part) if w)
    return words


def _word_match(pattern: str, attributes: list[str]) -> bool:
    """Every word of ``pattern`` begins a word of one of the attributes."""
    wanted = _words(pattern)
    return bool(wanted) and any(
        all(any(w.startswith(p) for w in _words(attribute)) for p in wanted)
        for attribute in attributes
    )


def _prefix_match(value: str, candidates: list[str]) -> bool:
    return any(c.startswith(value) for c in candidates)


def _matches(found: SmSecret, filters: list[tuple[str, list[str]]]) -> bool:
    """Values of one filter are alternatives (``!x``: whatever ``x`` does not match); filters,
    the same key's too, must all be met."""
    tags = list(found.tags)
    for key, values in filters:
        if key in ("all", "description"):
            every = [found.name, found.description, *tags, *found.tags.values()]
            attributes = [a for a in (every if key == "all" else [found.description]) if a]
            hit: Callable[[str], bool] = partial(_word_match, attributes=attributes)
        else:
            candidates = {
                "name": [found.name],
                "tag-key": tags,
                "tag-value": list(found.tags.values()),
            }.get(key, [])  # no secret here is a replica, or owned by another service
            hit = partial(_prefix_match, candidates=candidates)
        # the values are alternatives; "!x" is met by what x does not match
        if not any(not hit(v[1:]) if v.startswith("!") else hit(v) for v in values):
            return False
    return True


@_errors
def list_secrets(call: Call) -> Answer:
    service, region, doc = _sm(call)
    filters = _checked_filters(doc.get("Filters") or [])
    found = [
        s
        for s in service.list_secrets(
            call.identity, region, include_deleted=bool(doc.get("IncludePlannedDeletion"))
        )
        if _matches(s, filters)
    ]
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
    after = _after(doc)
    start = names.index(after) + 1 if after in names else 0
    size = _page_size(doc)
    page = found[start : start + size]
    answer: dict[str, Any] = {"SecretList": []}
    for secret in page:
        entry = _entry(service, secret, call)
        stages = service.version_stages(secret)
        if stages:
            entry["SecretVersionsToStages"] = stages
        answer["SecretList"].append(entry)
    if start + size < len(found):
        answer["NextToken"] = _token(page[-1].name)
    return Answer(answer)


@_errors
def list_secret_version_ids(call: Call) -> Answer:
    service, region, doc = _sm(call)
    found, versions = service.versions(call.identity, region, doc.get("SecretId"))
    stages = service.stages(found)
    include = bool(doc.get("IncludeDeprecated"))
    entries = [
        {
            "VersionId": found.version_id(n),
            "VersionStages": stages.get(n, []),
            "CreatedDate": created,
        }
        for n, created in sorted(versions, reverse=True)
        if include or n in stages
    ]
    after = _after(doc)
    ids = [e["VersionId"] for e in entries]
    start = ids.index(after) + 1 if after in ids else 0
    size = _page_size(doc)
    answer: dict[str, Any] = {
        "Versions": entries[start : start + size],
        "ARN": found.arn,
        "Name": found.name,
    }
    if start + size < len(entries):
        answer["NextToken"] = _token(str(entries[start + size - 1]["VersionId"]))
    return Answer(answer, clear=("ARN", "Name"))


@_errors
def delete_secret(call: Call) -> Answer:
    service, region, doc = _sm(call)
    found = service.delete(
        call.identity,
        region,
        doc.get("SecretId"),
        window_days=integer(doc, "RecoveryWindowInDays"),
        force=bool(doc.get("ForceDeleteWithoutRecovery")),
    )
    answer = {"ARN": found.arn, "Name": found.name, "DeletionDate": found.deletion_date}
    return Answer(answer, clear=("ARN", "Name"))


@_errors
def restore_secret(call: Call) -> Answer:
    service, region, doc = _sm(call)
    found = service.restore(call.identity, region, doc.get("SecretId"))
    return Answer({"ARN": found.arn, "Name": found.name}, clear=("ARN", "Name"))


@_errors
def tag_resource(call: Call) -> Answer:
    service, region, doc = _sm(call)
    service.tag(call.identity, region, doc.get("SecretId"), _tags(doc))
    return Answer({})


@_errors
def untag_resource(call: Call) -> Answer:
    service, region, doc = _sm(call)
    names = doc.get("TagKeys")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise AwsError("ValidationException", "TagKeys is a list of strings.")
    service.untag(call.identity, region, doc.get("SecretId"), names)
    return Answer({})


@_errors
def update_secret_version_stage(call: Call) -> Answer:
    service, region, doc = _sm(call)
    found = service.move_stage(
        call.identity,
        region,
        doc.get("SecretId"),
        doc.get("VersionStage"),
        remove_from=doc.get("RemoveFromVersionId"),
        move_to=doc.get("MoveToVersionId"),
    )
    return Answer({"ARN": found.arn, "Name": found.name}, clear=_CLEAR)


@_errors
def rotate_secret(call: Call) -> Answer:
    service, region, doc = _sm(call)
    rules = doc.get("RotationRules") or {}
    if not isinstance(rules, dict):
        raise AwsError("ValidationException", "RotationRules is an object.")
    token = doc.get("ClientRequestToken")
    if token is not None and (not isinstance(token, str) or not 32 <= len(token) <= 64):
        raise AwsError(
            "InvalidParameterException", "ClientRequestToken must be 32-64 characters long."
        )
    days = integer(rules, "AutomaticallyAfterDays")
    expression, duration = rules.get("ScheduleExpression"), rules.get("Duration")
    if days is not None and expression is not None:
        raise AwsError(
            "InvalidParameterException",
            "You can't specify both AutomaticallyAfterDays and ScheduleExpression.",
        )
    schedule = None
    if expression is not None:
        schedule = RotationSchedule.parse(expression, duration)
    elif duration is not None:  # a window for an every-N-days rotation
        schedule = RotationSchedule.parse(f"rate({days or 30} days)", duration)
        days = None
    found, version = service.rotate(
        call.identity,
        region,
        doc.get("SecretId"),
        lambda_arn=doc.get("RotationLambdaARN"),
        days=days,
        immediately=doc.get("RotateImmediately", True) is not False,
        schedule=schedule,
        token=token,
    )
    return _written(found, version)


@_errors
def cancel_rotate_secret(call: Call) -> Answer:
    service, region, doc = _sm(call)
    found = service.cancel_rotation(call.identity, region, doc.get("SecretId"))
    return Answer({"ARN": found.arn, "Name": found.name}, clear=_CLEAR)


@_errors
def get_resource_policy(call: Call) -> Answer:
    service, region, doc = _sm(call)
    found = service.get_resource_policy(call.identity, region, doc.get("SecretId"))
    answer = {"ARN": found.arn, "Name": found.name}
    if found.resource_policy:
        answer["ResourcePolicy"] = found.resource_policy
    return Answer(answer, clear=("ARN", "Name"))


@_errors
def put_resource_policy(call: Call) -> Answer:
    service, region, doc = _sm(call)
    found = service.put_resource_policy(
        call.identity,
        region,
        doc.get("SecretId"),
        doc.get("ResourcePolicy"),
        block=doc.get("BlockPublicPolicy") is True,
    )
    return Answer({"ARN": found.arn, "Name": found.name}, clear=("ARN", "Name"))


@_errors
def delete_resource_policy(call: Call) -> Answer:
    service, region, doc = _sm(call)
    found = service.delete_resource_policy(call.identity, region, doc.get("SecretId"))
    return Answer({"ARN": found.arn, "Name": found.name}, clear=("ARN", "Name"))


@_errors
def validate_resource_policy(call: Call) -> Answer:
    service, region, doc = _sm(call)
    problems = service.validate_resource_policy(
        call.identity, region, doc.get("SecretId"), doc.get("ResourcePolicy")
    )
    errors = [{"CheckName": check, "ErrorMessage": message} for check, message in problems]
    return Answer({"PolicyValidationPassed": not problems, "ValidationErrors": errors})


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


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


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
