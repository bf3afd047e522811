"""Secrets Manager's stages over strongroom's labels: AWSCURRENT, AWSPREVIOUS and AWSPENDING are
the labels ``current``, ``previous`` and ``pending``; a custom stage named as a label is that
label; any other is kept in the secret's record. UpdateSecretVersionStage."""

from __future__ import annotations

from collections.abc import Mapping

from strongroom.auth import Identity
from strongroom.compat.aws.labels import relabelled, unlabelled
from strongroom.compat.aws.secretsmanager.core import SecretsCore
from strongroom.compat.aws.secretsmanager.errors import SecretsManagerError
from strongroom.compat.aws.secretsmanager.models import (
    MAX_CUSTOM_STAGES,
    STAGES,
    SmSecret,
    secrets_namespace,
)
from strongroom.errors import BadRequest
from strongroom.policy.grants import Grant
from strongroom.service.secret_rows import SecretRecord
from strongroom.service.staging import check_label

__all__ = ["Stages"]

_STAGE_OF_LABEL = {label: stage for stage, label in STAGES.items()}  # current -> AWSCURRENT


class Stages(SecretsCore):
    def keys_in_memory(self, region: str) -> bool:
        return self._secrets.keys_in_memory(secrets_namespace(region))

    def stages(self, found: SmSecret, grant: Grant) -> Mapping[int, list[str]]:
        """Version -> its Secrets Manager stages."""
        secret = self._rows.get(grant)
        if secret is None:
            return {}
        return self._stages_of(found, secret)

    @staticmethod
    def _stages_of(found: SmSecret, secret: SecretRecord) -> dict[int, list[str]]:
        labels: dict[str, int] = dict(secret.settings.get("labels", {}))
        if "current" not in labels and secret.current_version:
            labels["current"] = secret.current_version
            if secret.current_version > 1 and "previous" not in labels:
                labels["previous"] = secret.current_version - 1
        by_version: dict[int, list[str]] = {}
        for label, version in sorted(labels.items()):
            by_version.setdefault(int(version), []).append(_STAGE_OF_LABEL.get(label, label))
        for stage, version in sorted(found.custom_stages.items()):
            by_version.setdefault(int(version), []).append(stage)
        return by_version

    def version_stages(self, found: SmSecret, grant: Grant) -> Mapping[str, list[str]]:
        """VersionId -> stages, as DescribeSecret shows them. While a rotation waits for its
        function's createSecret to write the new value, the rotation's token is listed with
        AWSPENDING already, as AWS lists it (rotation functions check for it)."""
        staged = {found.version_id(n): s for n, s in sorted(self.stages(found, grant).items())}
        token = None
        if found.rotation_enabled and self._rotations is not None:
            token = self._rotations().running_token(
                secrets_namespace(found.home_region), found.name
            )
        if token is not None and token not in staged:
            staged = {v: [s for s in stages if s != "AWSPENDING"] for v, stages in staged.items()}
            staged = {v: stages for v, stages in staged.items() if stages}
            staged[token] = ["AWSPENDING"]
        return staged

    def _ensure_labels(self, grant: Grant, found: SmSecret) -> None:
        """Give the secret explicit labels before a write, so the write moves AWSCURRENT and
        AWSPREVIOUS as Secrets Manager does (staging.py)."""
        secret = self._rows.get(grant)
        if secret is not None and secret.current_version and "labels" not in secret.settings:
            self._secrets.promote(grant, secret.current_version)

    def move_stage(
        self,
        identity: Identity,
        region: str,
        secret_id: str,
        stage: str,
        *,
        remove_from: str | None = None,
        move_to: str | None = None,
    ) -> SmSecret:
        """UpdateSecretVersionStage: a stage moves to ``move_to`` (taken off ``remove_from``,
        which must be the version holding it), or comes off ``remove_from``. AWSCURRENT
        moving takes AWSPREVIOUS to the version it left. A custom stage whose name is a
        strongroom label (1-64 of a-z, 0-9, '-' and '_') is that label, seen by every surface;
        any other is kept in the secret's record (MAX_CUSTOM_STAGES of them)."""
        name = self._name_of(region, secret_id)
        record, grant = self._authorized(identity, region, name, "UpdateSecretVersionStage")
        label = STAGES.get(stage, stage)
        found = self._load(region, name, grant, record=record)
        holder = next((n for n, s in self.stages(found, grant).items() if stage in s), None)
        source = self._version_arg(found, remove_from)
        target = self._version_arg(found, move_to)
        if holder is not None and target is not None and source != holder:
            raise SecretsManagerError(
                "InvalidParameterException",
                "The parameter RemoveFromVersionId can't be empty. Staging label "
                f"{stage} is currently attached to version {found.version_id(holder)}, so you "
                "must explicitly reference that version in RemoveFromVersionId.",
            )
        if source is not None and holder != source:
            raise SecretsManagerError(
                "InvalidParameterException",
                f"The staging label {stage} is not attached to version {found.version_id(source)}.",
            )
        if target is None and label == "current":
            raise SecretsManagerError(
                "InvalidParameterException",
                "You can't remove the staging label AWSCURRENT; move it to another version.",
            )
        self._place_stage(grant, found, stage, target)
        return found

    def _place_stage(self, grant: Grant, found: SmSecret, stage: str, target: int | None) -> None:
        """Put ``stage`` on version ``target`` (None: take it off): AWS's stages and those
        named as strongroom labels are labels; any other is kept in the record."""
        label = STAGES.get(stage, stage)
        if label == stage and not _is_label(stage):
            self._move_recorded_stage(found, stage, target)
            return
        self._ensure_labels(grant, found)
        self._secrets.move_label(grant, label, target)

    def _move_recorded_stage(self, found: SmSecret, stage: str, target: int | None) -> None:
        def too_many(moved: Mapping[str, int]) -> SecretsManagerError | None:
            if len(moved) <= MAX_CUSTOM_STAGES:
                return None
            return SecretsManagerError(
                "LimitExceededException",
                f"A secret has at most {MAX_CUSTOM_STAGES} custom stages that are not "
                "strongroom labels.",
            )

        def move(secret: SmSecret) -> None:
            if target is None:
                secret.custom_stages = dict(unlabelled(secret.custom_stages, [stage])[0])
                return
            moved = relabelled(secret.custom_stages, [stage], target, too_many=too_many)
            secret.custom_stages = dict(moved)

        self._change(found, move)

    def _version_arg(self, found: SmSecret, version_id: str | None) -> int | None:
        if version_id is None:
            return None
        number = found.version_of(version_id)
        if number is None:
            message = f"Not a valid version: {version_id}"
            raise SecretsManagerError("InvalidParameterException", message)
        return number


def _is_label(stage: str) -> bool:
    try:
        check_label(stage)
    except BadRequest:
        return False
    return True
