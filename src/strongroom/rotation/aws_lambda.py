"""Rotation functions for the AWS API's RotateSecret: a webhook registered under a Lambda
function's name plays that function.

``RotationLambdaARN`` ``arn:aws:lambda:R:ACCOUNT:function:NAME`` names a function registered
here (``strongroom aws-lambda create NAME --url … --signing-secret ns/path``). The rotator
``aws-lambda`` then POSTs each step to its URL as Lambda's event for a rotation function,
``{"Step": "createSecret" | "setSecret" | "testSecret" | "finishSecret", "SecretId": <ARN>,
"ClientRequestToken": <token>}``, signed as every strongroom webhook is (rotation/signing.py), and
the function does what a Secrets Manager rotation function does, through strongroom's AWS API:
createSecret puts the new value with ``VersionStages=["AWSPENDING"]`` and the event's token;
setSecret and testSecret work on the target system; finishSecret finds AWSCURRENT already moved
(strongroom's engine moves it after testSecret, in one compare-and-set) and returns.

The answer's body is ignored, as Lambda's return value is; a non-2xx answer fails the step (5xx
and network errors are retried first). Registering a function needs ``sudo`` on
``sys/aws/lambda-functions`` and ``read`` on its signing secret; the URL is reached only where
the egress policy allows."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from strongroom.auth import Identity
from strongroom.egress import check_url
from strongroom.errors import BadRequest, NotFound, RotationFailed
from strongroom.policy.kv import kv_data_path
from strongroom.rotation.rotators import RotationContext, Rotator
from strongroom.rotation.webhook import MAX_RETRIES, MAX_TIMEOUT, post_signed
from strongroom.store.protocol import Store
from strongroom.store.records import Records

__all__ = [
    "AWS_LAMBDA_ROTATOR",
    "RECORD_KIND",
    "AwsLambdaRotator",
    "LambdaFunction",
    "LambdaFunctions",
]

AWS_LAMBDA_ROTATOR = "aws-lambda"
RECORD_KIND = "aws-lambda-function"
_PATH = "sys/aws/lambda-functions"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # a Lambda function's name


@dataclass(frozen=True)
class LambdaFunction:
    name: str
    url: str
    signing_secret: str  # ns/path of a secret whose "key" field is the HMAC key
    timeout: float = 10.0
    retries: int = 3

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class LambdaFunctions:
    """The registered functions: records ``aws-lambda-function`` NAME, sealed by the store."""

    def __init__(self, store: Store) -> None:
        self._functions = Records.of_json(store, RECORD_KIND)

    def create(
        self,
        identity: Identity,
        name: object,
        url: object,
        signing_secret: object,
        timeout: object = 10.0,
        retries: object = 3,
    ) -> LambdaFunction:
        identity.require("sudo", _PATH)
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise BadRequest("a function name is 1-64 of letters, digits, '-' and '_'")
        if not isinstance(signing_secret, str) or "/" not in signing_secret:
            raise BadRequest("signing_secret is the ns/path of a secret with a 'key' field")
        # the function is called with the server's signature: its registrant may read the key
        identity.require("read", kv_data_path(signing_secret))
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            raise BadRequest(f"timeout is a number of seconds, 0.1 to {MAX_TIMEOUT:g}")
        if not 0.1 <= timeout <= MAX_TIMEOUT:
            raise BadRequest(f"timeout is a number of seconds, 0.1 to {MAX_TIMEOUT:g}")
        if isinstance(retries, bool) or not isinstance(retries, int):
            raise BadRequest(f"retries is a whole number, 0 to {MAX_RETRIES}")
        if not 0 <= retries <= MAX_RETRIES:
            raise BadRequest(f"retries is a whole number, 0 to {MAX_RETRIES}")
        function = LambdaFunction(
            name, check_url(url, "url"), signing_secret, float(timeout), retries
        )
        self._functions.put(name, function.to_json())
        return function

    def get(self, name: str) -> LambdaFunction | None:
        """The function ``name`` (None: not registered), for the server's own use."""
        if not _NAME.fullmatch(name):
            return None
        doc = self._functions.get(name)
        return LambdaFunction(**doc) if doc is not None else None

    def exists(self, name: str) -> bool:
        return self.get(name) is not None

    def list(self, identity: Identity) -> list[LambdaFunction]:
        identity.require("sudo", _PATH)
        found = (self.get(name) for name in sorted(self._functions.names()))
        return [f for f in found if f is not None]

    def delete(self, identity: Identity, name: str) -> None:
        identity.require("sudo", _PATH)
        if not self._functions.delete(name):
            raise NotFound(f"no function {name!r} is registered")


class AwsLambdaRotator(Rotator):
    """Parameters (set by RotateSecret): ``function`` (a registered name) and ``secret_arn``."""

    name = AWS_LAMBDA_ROTATOR

    def __init__(self, functions: Callable[[str], LambdaFunction | None]) -> None:
        self._functions = functions

    def validate(self, params: dict[str, Any]) -> None:
        if not isinstance(params.get("function"), str) or not isinstance(
            params.get("secret_arn"), str
        ):
            raise BadRequest("aws-lambda rotator: params are function and secret_arn")

    def _call(self, ctx: RotationContext, step: str) -> None:
        name = str(ctx.params["function"])
        function = self._functions(name)
        if function is None:
            raise RotationFailed(f"no rotation function {name!r} is registered any more")
        key = ctx.read_secret(function.signing_secret).get("key")
        if not isinstance(key, str) or not key:
            raise RotationFailed("the function's signing secret needs a non-empty 'key' field")
        event = {
            "Step": step,
            "SecretId": str(ctx.params["secret_arn"]),
            "ClientRequestToken": ctx.token,
        }
        post_signed(
            function.url,
            key.encode(),
            event,
            ctx.egress,
            timeout=function.timeout,
            retries=function.retries,
        )

    def create(self, ctx: RotationContext) -> None:
        self._call(ctx, "createSecret")  # the function puts the AWSPENDING version itself

    def set(self, ctx: RotationContext) -> None:
        self._call(ctx, "setSecret")

    def test(self, ctx: RotationContext) -> None:
        self._call(ctx, "testSecret")

    def finish(self, ctx: RotationContext) -> None:
        self._call(ctx, "finishSecret")
