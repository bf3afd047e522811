"""The rotator the AWS API's RotateSecret uses when no other is named: a new value of the same
shape as the current one (docs/compat-aws.md). A ``SecretString`` that is a JSON object gets new
values for its string fields whose names say they are secret (``password``, ``secret``, ``key``,
``token``), other fields kept; any other ``SecretString`` becomes a new password; a
``SecretBinary`` becomes 32 new random bytes."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from strongroom.errors import RotationFailed
from strongroom.password_generation import PasswordPolicy, generate_password
from strongroom.rotation.rotators import RotationContext, Rotator

__all__ = ["AWS_DEFAULT_ROTATOR", "AwsDefaultRotator"]

AWS_DEFAULT_ROTATOR = "aws-default"
_SECRET_WORDS = ("password", "secret", "key", "token")


class AwsDefaultRotator(Rotator):
    name = AWS_DEFAULT_ROTATOR

    def validate(self, params: dict[str, Any]) -> None:
        PasswordPolicy.from_json(params.get("policy", {}))

    def create(self, ctx: RotationContext) -> dict[str, Any]:
        current = ctx.current or {}
        policy = PasswordPolicy.from_json(ctx.params.get("policy", {}))
        if "SecretBinary" in current:
            return {"SecretBinary": base64.b64encode(os.urandom(32)).decode()}
        text = current.get("SecretString")
        if not isinstance(text, str):
            raise RotationFailed("the secret holds no SecretString or SecretBinary to rotate")
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            return {"SecretString": generate_password(policy)}
        chosen = [
            name
            for name, value in doc.items()
            if isinstance(value, str) and any(word in name.lower() for word in _SECRET_WORDS)
        ]
        if not chosen:
            raise RotationFailed(
                "the secret's JSON has no string field named like password, secret, key or "
                "token; name a rotator with RotationLambdaARN"
            )
        return {
            "SecretString": json.dumps({**doc, **{n: generate_password(policy) for n in chosen}})
        }
