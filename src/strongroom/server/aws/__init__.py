"""The AWS surface: ``POST /`` with ``X-Amz-Target`` in AWS's JSON 1.1 protocol, signed with
SigV4 by an access key strongroom issued, for boto3, the AWS CLI and the AWS SDKs. KMS
(``TrentService``), Secrets Manager (``secretsmanager``) and Parameter Store (``AmazonSSM``)
(docs/compat-aws.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from strongroom.auth.aws_keys import AccessKeyRegistry
from strongroom.compat.aws.kms.routes import KMS_ROUTES
from strongroom.compat.aws.secretsmanager.routes import SECRETS_MANAGER_ROUTES
from strongroom.compat.aws.ssm.routes import SSM_ROUTES
from strongroom.server.aws.wire import SigV4, render, render_error, target_of
from strongroom.server.surface import Surface

__all__ = ["AWS_ROUTES", "aws_surface"]

AWS_ROUTES = (*KMS_ROUTES, *SECRETS_MANAGER_ROUTES, *SSM_ROUTES)


def _claims(scope: Mapping[str, Any]) -> bool:
    return (
        scope["path"] == "/"
        and scope["method"] == "POST"
        and target_of(scope["headers"]) is not None
    )


def _route_path(scope: Mapping[str, Any]) -> str:
    """``X-Amz-Target: TrentService.Encrypt`` routes as ``/TrentService.Encrypt``."""
    target = target_of(scope["headers"]) or ""
    return "/" + target if target.isascii() and target.isprintable() and "/" not in target else "/-"


def aws_surface(registry: Callable[[], AccessKeyRegistry]) -> Surface:
    sigv4 = SigV4(registry)
    return Surface(
        name="aws",
        claims=_claims,
        routes=AWS_ROUTES,
        render=render,
        render_error=render_error,
        authenticators=(sigv4,),
        path=_route_path,
        signs_body=sigv4.refusal_before_body,
    )
