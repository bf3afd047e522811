"""RotateSecret and CancelRotateSecret on strongroom's rotation engine: a rotation Lambda is a
webhook registered here (rotation/aws_lambda.py) or a rotator registered under its name."""

from __future__ import annotations

from strongroom.auth import Identity
from strongroom.compat.aws.secretsmanager.core import SecretsCore
from strongroom.compat.aws.secretsmanager.errors import SecretsManagerError
from strongroom.compat.aws.secretsmanager.models import (
    Rotations,
    SmSecret,
    StoredValue,
    secrets_namespace,
)
from strongroom.compat.aws.secretsmanager.schedules import RotationSchedule, function_of
from strongroom.errors import AccessDenied, NotFound
from strongroom.policy.grants import system_grant

__all__ = ["Rotation"]


class Rotation(SecretsCore):
    def rotate(
        self,
        identity: Identity,
        region: str,
        secret_id: str,
        *,
        lambda_arn: str | None,
        days: int | None,
        immediately: bool,
        schedule: RotationSchedule | None = None,
        token: str | None = None,
    ) -> tuple[SmSecret, int | None]:
        """Configure the secret's rotation and, unless told not to, run it now: (the secret,
        the version that became AWSCURRENT). ``RotationLambdaARN``'s function is a Lambda
        function registered here (a webhook, rotation/aws_lambda.py) or a rotator registered
        under that name; without one, the secret's function, else ``aws-default``. It runs every
        ``days`` or on ``schedule`` (else as before, else every 30 days)."""
        rotations = self._rotation_engine()
        name = self._name_of(region, secret_id)
        namespace = secrets_namespace(region)
        # the rotation's own right, before any look-up (the engine checks the rest)
        record, grant = self._authorized(identity, region, name, "RotateSecret")
        found = self._load(region, name, grant, record=record)
        arn = found.rotation_lambda_arn
        if lambda_arn is not None:  # a function's ARN (fields.py)
            arn = lambda_arn
        function = function_of(arn) if arn else None
        rotator, params = "aws-default", {}
        if function is not None and self._lambda_functions(function):
            rotator, params = "aws-lambda", {"function": function, "secret_arn": found.arn}
        elif function is not None:
            rotator = function
        if not rotations.knows(rotator):
            raise SecretsManagerError(
                "InvalidRequestException",
                f"No function or rotator named {rotator!r} is registered with this server: "
                "register the function's webhook (strongroom aws-lambda create), or a rotator "
                "under its name (docs/compat-aws.md), or leave RotationLambdaARN out for the "
                "default rotation.",
            )
        if days is not None:
            schedule = RotationSchedule.every_days(days)
        elif schedule is None:  # as configured before, else every 30 days
            schedule = (
                RotationSchedule.parse(found.rotation_schedule, found.rotation_duration)
                if found.rotation_schedule
                else RotationSchedule.every_days(found.rotation_days or 30)
            )
        rotations.configure(
            identity,
            namespace,
            name,
            rotator=rotator,
            interval=schedule.interval,
            cron=schedule.cron,
            params=params,
        )
        configured = schedule

        def turn_on(secret: SmSecret) -> None:
            secret.rotation_lambda_arn = arn
            secret.rotation_cancelled = False
            secret.rotation_days = configured.days
            secret.rotation_schedule = configured.expression
            secret.rotation_duration = configured.duration

        self._change(found, turn_on)
        if not immediately:
            return found, None
        chosen = token
        if chosen is not None and chosen in found.tokens:
            return found, int(found.tokens[chosen][0])  # the same request again
        result = rotations.rotate_now(identity, namespace, name, chosen)
        if result.result != "success":
            detail = f": {result.error}" if result.error else ""
            raise SecretsManagerError(
                "InvalidRequestException",
                f"The rotation did not complete ({result.result}){detail}",
            )
        found = self._load(region, name, grant)
        version = int(result.version)
        digest = ""
        if result.token and result.token not in found.tokens:  # the version's VersionId
            # The version the rotation engine just wrote, read with the engine's grant.
            engine = system_grant(namespace, name, "the rotation engine")
            written = self._secrets.read_granted(engine, version)
            digest = StoredValue.of(written.data).digest()
        now = self._clock.now()

        def rotated(secret: SmSecret) -> None:
            if digest:
                secret.remember(result.token, version, digest)
            secret.last_changed = now

        self._change(found, rotated)
        return found, version

    def cancel_rotation(self, identity: Identity, region: str, secret_id: str) -> SmSecret:
        rotations = self._rotation_engine()
        name = self._name_of(region, secret_id)
        record, grant = self._authorized(identity, region, name, "CancelRotateSecret")
        found = self._load(region, name, grant, record=record)
        namespace = secrets_namespace(region)
        if not found.rotation_enabled:
            raise SecretsManagerError(
                "InvalidRequestException", "No rotation is configured for this secret."
            )
        rotations.cancel(identity, namespace, name)
        rotations.remove(identity, namespace, name)
        self._change(found, _turn_off)
        return found

    def rotation_dates(
        self, identity: Identity, found: SmSecret
    ) -> tuple[float | None, float | None]:
        """(LastRotatedDate, NextRotationDate) of a secret whose rotation is on."""
        if not found.rotation_enabled or self._rotations is None:
            return None, None
        try:
            status = self._rotations().status(
                identity, secrets_namespace(found.home_region), found.name
            )
        except (AccessDenied, NotFound):
            return None, None
        return status.last_rotated, status.next_due

    def _rotation_engine(self) -> Rotations:
        if self._rotations is None:
            raise SecretsManagerError("InvalidRequestException", "Rotation is not available.")
        return self._rotations()


def _turn_off(secret: SmSecret) -> None:
    secret.rotation_days = 0
    secret.rotation_schedule = secret.rotation_duration = ""
    secret.rotation_cancelled = True
