"""Secrets Manager's stage, rotation and resource policy operations on the wire."""

from __future__ import annotations

from strongroom.compat.aws.fields import AwsError, integer, string
from strongroom.compat.aws.secretsmanager.fields import (
    lambda_arn_in,
    request_token_in,
    version_id_in,
    version_stage_in,
)
from strongroom.compat.aws.secretsmanager.models import MAX_RESOURCE_POLICY
from strongroom.compat.aws.secretsmanager.schedules import RotationSchedule, ScheduleError
from strongroom.compat.aws.secretsmanager.shapes import (
    CLEAR,
    backend,
    in_aws_words,
    secret_id,
    written,
)
from strongroom.server.routes import Answer, Call

__all__ = [
    "cancel_rotate_secret",
    "delete_resource_policy",
    "get_resource_policy",
    "put_resource_policy",
    "rotate_secret",
    "update_secret_version_stage",
    "validate_resource_policy",
]


@in_aws_words
def update_secret_version_stage(call: Call) -> Answer:
    service, region, doc = backend(call)
    found = service.move_stage(
        call.identity,
        region,
        secret_id(doc),
        version_stage_in(doc),
        remove_from=version_id_in(doc, "RemoveFromVersionId"),
        move_to=version_id_in(doc, "MoveToVersionId"),
    )
    return Answer({"ARN": found.arn, "Name": found.name}, clear=CLEAR)


@in_aws_words
def rotate_secret(call: Call) -> Answer:
    service, region, doc = backend(call)
    rules = doc.get("RotationRules") or {}
    if not isinstance(rules, dict):
        raise AwsError("ValidationException", "RotationRules is an object.")
    token = doc.get("ClientRequestToken")
    if token is not None and (not isinstance(token, str) or not 32 <= len(token) <= 64):
        raise AwsError(
            "InvalidParameterException", "ClientRequestToken must be 32-64 characters long."
        )
    token = request_token_in(doc)
    days = integer(rules, "AutomaticallyAfterDays")
    expression, duration = rules.get("ScheduleExpression"), rules.get("Duration")
    if expression is not None and not isinstance(expression, str):
        raise ScheduleError("ScheduleExpression is a string.")
    if duration is not None and not isinstance(duration, str):
        raise ScheduleError("Duration is 1h to 24h.")
    if days is not None and expression is not None:
        raise AwsError(
            "InvalidParameterException",
            "You can't specify both AutomaticallyAfterDays and ScheduleExpression.",
        )
    schedule = None
    if expression is not None:
        schedule = RotationSchedule.parse(expression, duration or "")
    elif duration is not None:  # a window for an every-N-days rotation
        schedule = RotationSchedule.parse(f"rate({days or 30} days)", duration)
        days = None
    found, version = service.rotate(
        call.identity,
        region,
        secret_id(doc),
        lambda_arn=lambda_arn_in(doc),
        days=days,
        immediately=doc.get("RotateImmediately", True) is not False,
        schedule=schedule,
        token=token,
    )
    return written(found, version)


@in_aws_words
def cancel_rotate_secret(call: Call) -> Answer:
    service, region, doc = backend(call)
    found = service.cancel_rotation(call.identity, region, secret_id(doc))
    return Answer({"ARN": found.arn, "Name": found.name}, clear=CLEAR)


@in_aws_words
def get_resource_policy(call: Call) -> Answer:
    service, region, doc = backend(call)
    found = service.get_resource_policy(call.identity, region, secret_id(doc))
    answer = {"ARN": found.arn, "Name": found.name}
    if found.resource_policy:
        answer["ResourcePolicy"] = found.resource_policy
    return Answer(answer, clear=("ARN", "Name"))


@in_aws_words
def put_resource_policy(call: Call) -> Answer:
    service, region, doc = backend(call)
    found = service.put_resource_policy(
        call.identity,
        region,
        secret_id(doc),
        string(doc, "ResourcePolicy", required=True, max_len=MAX_RESOURCE_POLICY),
        block=doc.get("BlockPublicPolicy") is True,
    )
    return Answer({"ARN": found.arn, "Name": found.name}, clear=("ARN", "Name"))


@in_aws_words
def delete_resource_policy(call: Call) -> Answer:
    service, region, doc = backend(call)
    found = service.delete_resource_policy(call.identity, region, secret_id(doc))
    return Answer({"ARN": found.arn, "Name": found.name}, clear=("ARN", "Name"))


@in_aws_words
def validate_resource_policy(call: Call) -> Answer:
    service, region, doc = backend(call)
    problems = service.validate_resource_policy(
        call.identity,
        region,
        string(doc, "SecretId", max_len=2048),
        string(doc, "ResourcePolicy", required=True, max_len=MAX_RESOURCE_POLICY),
    )
    errors = [{"CheckName": check, "ErrorMessage": message} for check, message in problems]
    return Answer({"PolicyValidationPassed": not problems, "ValidationErrors": errors})
