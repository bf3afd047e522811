"""Secrets Manager's request members that its model constrains, read off the wire before the
backend runs: as in AWS, a request that breaks its model is refused before any right is checked
or any secret looked up, so the answer tells nothing about what exists."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard

from strongroom.compat.aws.secretsmanager.errors import SecretsManagerError
from strongroom.compat.aws.secretsmanager.models import TOKEN
from strongroom.compat.aws.secretsmanager.schedules import function_of

__all__ = [
    "lambda_arn_in",
    "name_in",
    "request_token_in",
    "version_id_in",
    "version_stage_in",
    "version_stages_in",
]

_MAX_STAGES = 20  # VersionStages per request, as botocore's model


def _invalid(message: str, code: str = "ValidationException") -> SecretsManagerError:
    return SecretsManagerError(code, message)


def name_in(doc: Mapping[str, Any]) -> str:
    """CreateSecret's ``Name`` as a string; its characters are the backend's to check (it keeps
    names canonical for every surface)."""
    name = doc.get("Name")
    if not isinstance(name, str):
        raise _invalid(
            "Invalid name. Must be a valid name containing alphanumeric characters, or any of "
            "the following: -/_+=.@!"
        )
    return name


def request_token_in(doc: Mapping[str, Any]) -> str | None:
    """``ClientRequestToken``: 32-64 letters, digits or '-' (None when absent)."""
    token = doc.get("ClientRequestToken")
    if token is not None and (not isinstance(token, str) or not TOKEN.fullmatch(token)):
        raise _invalid("ClientRequestToken must be 32-64 letters, digits or '-'.")
    return token


def _stage(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and 1 <= len(value) <= 256 and value.isprintable()


def version_stage_in(doc: Mapping[str, Any]) -> str:
    """UpdateSecretVersionStage's ``VersionStage``: 1-256 printable characters."""
    stage = doc.get("VersionStage")
    if not _stage(stage):
        raise _invalid("VersionStage is 1-256 printable characters.")
    return stage


def version_stages_in(doc: Mapping[str, Any]) -> list[str] | None:
    """PutSecretValue's ``VersionStages``, each once, in order (None when absent)."""
    stages = doc.get("VersionStages")
    if stages is None:
        return None
    if (
        not isinstance(stages, list)
        or not 1 <= len(stages) <= _MAX_STAGES
        or not all(_stage(s) for s in stages)
    ):
        raise _invalid(
            f"VersionStages is a list of 1 to {_MAX_STAGES} stages of 1-256 printable characters."
        )
    return list(dict.fromkeys(stages))


def version_id_in(doc: Mapping[str, Any], name: str) -> str | None:
    """A version id member (``RemoveFromVersionId``, ``MoveToVersionId``): a string or None."""
    version_id = doc.get(name)
    if version_id is not None and not isinstance(version_id, str):
        raise _invalid(f"{name} is a string.")
    return version_id


def lambda_arn_in(doc: Mapping[str, Any]) -> str | None:
    """RotateSecret's ``RotationLambdaARN``: a Lambda function's ARN, or None when absent."""
    arn = doc.get("RotationLambdaARN")
    if arn is not None and (not isinstance(arn, str) or function_of(arn) is None):
        raise _invalid(
            "RotationLambdaARN is arn:aws:lambda:REGION:ACCOUNT:function:NAME.",
            "InvalidParameterException",
        )
    return arn
