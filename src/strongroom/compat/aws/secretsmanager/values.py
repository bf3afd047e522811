"""The Secrets Manager operations on secrets and their values: CreateSecret, GetSecretValue,
PutSecretValue, UpdateSecret, DescribeSecret, ListSecrets, ListSecretVersionIds, DeleteSecret,
RestoreSecret and tags. ``SecretsManagerService`` is the whole backend: these, with stages,
rotation and resource policies from their own modules."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from strongroom.auth import Identity
from strongroom.compat.aws.secretsmanager.descriptions import Descriptions
from strongroom.compat.aws.secretsmanager.errors import MARKED, SecretsManagerError, not_found
from strongroom.compat.aws.secretsmanager.models import (
    DAY,
    SmSecret,
    StoredValue,
    new_suffix,
    secrets_namespace,
)
from strongroom.compat.aws.secretsmanager.policies import ResourcePolicies
from strongroom.compat.aws.secretsmanager.promotion import Promotion
from strongroom.compat.aws.secretsmanager.replication import (
    ReplicaStatus,
    Replication,
    replica_statuses,
)
from strongroom.compat.aws.secretsmanager.rotation import Rotation
from strongroom.compat.aws.tags import MAX_TAGS, retagged
from strongroom.errors import NotFound, SecretDeleted
from strongroom.policy.grants import Grant, granted
from strongroom.policy.kv import DATA, METADATA
from strongroom.types import SecretValue

__all__ = ["SecretsManagerService"]


class SecretsManagerService(Descriptions, Rotation, ResourcePolicies, Replication, Promotion):
    def _write(
        self, grant: Grant, found: SmSecret, value: StoredValue, token: str
    ) -> tuple[int, bool]:
        """(version, written): the version under ``token``; with a token already used for the
        same value, that version and nothing written (ClientRequestToken is idempotent)."""
        known = found.tokens.get(token)
        if known is not None:
            if known[1] != value.digest():
                raise SecretsManagerError(
                    "ResourceExistsException",
                    f"You can't use ClientRequestToken {token} because that value is already "
                    f"in use for a version of secret {found.arn}.",
                )
            return int(known[0]), False
        written = self._secrets.write_granted(grant, value.data())
        self._change(found, self._remembering(token, written.version, value))
        return written.version, True

    def _remembering(
        self, token: str, version: int, value: StoredValue
    ) -> Callable[[SmSecret], None]:
        """The edit that records ``token`` as the id of the version just written."""
        digest, now = value.digest(), self._clock.now()

        def remember(secret: SmSecret) -> None:
            secret.remember(token, version, digest)
            secret.last_changed = now

        return remember

    # -- operations
    def create(
        self,
        identity: Identity,
        region: str,
        name: str,
        value: StoredValue | None,
        *,
        token: str | None = None,
        description: str = "",
        kms_key_id: str = "",
        tags: Mapping[str, str] | None = None,
        replicas: list[tuple[str, str]] | None = None,
        force_replicas: bool = False,
    ) -> tuple[SmSecret, int | None, list[ReplicaStatus]]:
        """The new secret, the version of its value if it came with one, and the status of each
        replica asked for (replication.py)."""
        checked = self._check_name(name)
        if replicas:  # every right the replication needs, before anything is made
            identity.require("update", self._path(region, METADATA, checked))
            self._check_replication(identity, region, checked, replicas, force=force_replicas)
        namespace = secrets_namespace(region)
        grant = granted(identity, "create", self._path(region, DATA, checked), namespace, checked)
        chosen = self._token_or_new(token)
        self._ensure_namespace(namespace)
        existing = self._stored_record(region, checked)
        if existing is not None or self._rows.exists(grant):
            if existing is not None and existing.deletion_date:
                raise SecretsManagerError(
                    "InvalidRequestException",
                    "You can't create this secret because a secret with this name is already "
                    "scheduled for deletion.",
                )
            if existing is not None and value is not None and chosen in existing.tokens:
                version, _ = self._write(grant, existing, value, chosen)
                return existing, version, replica_statuses(existing)  # the same request again
            raise SecretsManagerError(
                "ResourceExistsException",
                f"The operation failed because the secret {checked} already exists.",
            )
        now = self._clock.now()
        found = SmSecret(
            checked,
            region,
            self._account(),
            new_suffix(),
            now,
            description,
            kms_key_id,
            dict(tags or {}),
            last_changed=now,
            tagged=bool(tags),
        )
        if not self._records.create(f"{region}/{checked}", found):
            raise SecretsManagerError(
                "ResourceExistsException",
                f"The operation failed because the secret {checked} already exists.",
            )
        first = None if value is None else self._write(grant, found, value, chosen)[0]
        if not replicas:
            return found, first, []
        return found, first, self._add_replicas(identity, found, replicas, force=force_replicas)

    def get_value(
        self,
        identity: Identity,
        region: str,
        secret_id: str,
        version_id: str | None = None,
        stage: str | None = None,
        before_write: Callable[[], None] = lambda: None,
    ) -> tuple[SmSecret, SecretValue, list[str]]:
        """(secret, value, its stages). Reads only, unless the secret must be adopted or
        purged: ``before_write`` is called first (a caller on the event loop moves to a
        thread)."""
        name = self._name_of(region, secret_id)
        asked = {"VersionId": version_id, "VersionStage": stage}
        record, grant = self._authorized(
            identity,
            region,
            name,
            "GetSecretValue",
            {k: v for k, v in asked.items() if v is not None},
        )
        found = self._load(region, name, grant, record=record, before_write=before_write)
        if version_id is None and stage is None:  # the common read: one query
            try:
                value, secret = self._secrets.read_granted_with_row(grant, None)
            except (NotFound, SecretDeleted):
                raise not_found(
                    "Secrets Manager can't find the specified secret value for staging label: "
                    "AWSCURRENT"
                ) from None
            current_stages = self._stages_of(found, secret)
            return found, value, current_stages.get(value.metadata.version, [])
        stages = self.stages(found, grant)
        number: int | None = None
        if version_id is not None:
            number = found.version_of(version_id)
            if number is None:
                raise not_found(
                    "Secrets Manager can't find the specified secret value for VersionId: "
                    f"{version_id}"
                )
            if stage is not None and stage not in stages.get(number, []):
                raise SecretsManagerError(
                    "InvalidRequestException",
                    "You provided a VersionStage that is not associated to the provided VersionId.",
                )
        elif stage is not None:
            number = next((n for n, s in stages.items() if stage in s), None)
            if number is None:
                raise not_found(
                    f"Secrets Manager can't find the specified secret value for staging label: "
                    f"{stage}"
                )
        else:
            number = next((n for n, s in stages.items() if "AWSCURRENT" in s), None)
            if number is None:
                raise not_found(
                    "Secrets Manager can't find the specified secret value for staging label: "
                    "AWSCURRENT"
                )
        try:
            value = self._secrets.read_granted(grant, number)
        except (NotFound, SecretDeleted):
            raise not_found() from None
        return found, value, stages.get(number, [])

    def put_value(
        self,
        identity: Identity,
        region: str,
        secret_id: str,
        value: StoredValue,
        token: str | None,
        *,
        stages: list[str] | None = None,
    ) -> tuple[SmSecret, int, list[str]]:
        """A new version and its stages: ``VersionStages`` (default [AWSCURRENT]), each moved
        to it from the version that had it. Without AWSCURRENT readers keep the current value
        ([AWSPENDING]: a rotation function's createSecret step), unless the secret had none:
        its first version is AWSCURRENT, as in AWS."""
        wanted = list(stages) if stages is not None else ["AWSCURRENT"]
        name = self._name_of(region, secret_id)
        record, grant = self._authorized(
            identity,
            region,
            name,
            "PutSecretValue",
            allowed=self._may_write(identity, region, name),
        )
        found = self._load(region, name, grant, record=record)
        self._ensure_labels(grant, found)
        chosen = self._token_or_new(token)
        if wanted == ["AWSCURRENT"] or chosen in found.tokens:
            version, _ = self._write(grant, found, value, chosen)
            return found, version, self.stages(found, grant).get(version, [])
        staged = self._secrets.labels(grant)
        before = staged.labels if staged is not None else {}
        written = self._secrets.write_pending(grant, value.data(), chosen)
        self._change(found, self._remembering(chosen, written.version, value))
        if "AWSPENDING" not in wanted:  # writing it pending moved AWSPENDING: back it goes
            self._secrets.move_label(grant, "pending", before.get("pending"))
        if "current" not in before and "AWSCURRENT" not in wanted:
            wanted.append("AWSCURRENT")  # the first version is current
        for stage in wanted:
            if stage != "AWSPENDING":
                self._place_stage(grant, found, stage, written.version)
        return found, written.version, wanted

    def _may_write(self, identity: Identity, region: str, name: str) -> bool:
        """Vault's rule for a new version: ``update``, or ``create`` while the secret has no
        value yet (CreateSecret without one)."""
        path = self._path(region, DATA, name)
        if identity.allows("update", path):
            return True
        if not identity.allows("create", path):
            return False
        creating = granted(identity, "create", path, secrets_namespace(region), name)
        return not self._rows.exists(creating)

    def update(
        self,
        identity: Identity,
        region: str,
        secret_id: str,
        *,
        value: StoredValue | None,
        token: str | None,
        description: str | None = None,
        kms_key_id: str | None = None,
    ) -> tuple[SmSecret, int | None]:
        name = self._name_of(region, secret_id)
        metadata = self._path(region, METADATA, name)
        allowed = identity.allows("update", metadata) and (
            value is None or self._may_write(identity, region, name)
        )
        record, grant = self._authorized(identity, region, name, "UpdateSecret", allowed=allowed)
        found = self._load(region, name, grant, record=record)

        def describe(secret: SmSecret) -> None:
            if description is not None:
                secret.description = description
            if kms_key_id is not None:
                secret.kms_key_id = kms_key_id

        self._change(found, describe)
        if value is None:
            return found, None
        self._ensure_labels(grant, found)
        version, _ = self._write(grant, found, value, self._token_or_new(token))
        return found, version

    def delete(
        self,
        identity: Identity,
        region: str,
        secret_id: str,
        *,
        window_days: int | None,
        force: bool,
    ) -> SmSecret:
        name = self._name_of(region, secret_id)
        record, grant = self._authorized(identity, region, name, "DeleteSecret")
        days = 30 if window_days is None else window_days
        if not 7 <= days <= 30:
            raise SecretsManagerError(
                "InvalidParameterException",
                "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).",
            )
        if force and window_days is not None:
            raise SecretsManagerError(
                "InvalidParameterException",
                "You can't use ForceDeleteWithoutRecovery in conjunction with "
                "RecoveryWindowInDays.",
            )
        now = self._clock.now()
        if force and record is None and not self._exists_elsewhere(grant):
            # AWS answers a forced deletion of a secret it does not know as done
            return SmSecret(name, region, self._account(), "", now, deletion_date=now)
        found = self._load(region, name, grant, deleted_ok=True, record=record)
        if found.replicas:  # AWS's words; RemoveRegionsFromReplication first
            raise SecretsManagerError(
                "InvalidParameterException",
                f"You can't delete secret {found.arn} that still has replica regions "
                f"[{', '.join(sorted(found.replicas))}]",
            )
        if force:
            self._purge(found, grant)
            found.deletion_date = now
            return found

        def schedule(secret: SmSecret) -> None:
            if secret.deletion_date:
                raise SecretsManagerError("InvalidRequestException", MARKED)
            secret.deletion_date = now + days * DAY

        self._change(found, schedule)
        return found

    def restore(self, identity: Identity, region: str, secret_id: str) -> SmSecret:
        name = self._name_of(region, secret_id)
        record, grant = self._authorized(identity, region, name, "RestoreSecret")
        found = self._load(region, name, grant, deleted_ok=True, record=record)
        self._change(found, _restored)
        return found

    def tag(self, identity: Identity, region: str, secret_id: str, tags: Mapping[str, str]) -> None:
        name = self._name_of(region, secret_id)
        record, grant = self._authorized(identity, region, name, "TagResource")
        found = self._load(region, name, grant, record=record)

        def tag(secret: SmSecret) -> None:
            secret.tags = dict(retagged(secret.tags, tags, [], _too_many))
            secret.tagged = True

        self._change(found, tag)

    def untag(self, identity: Identity, region: str, secret_id: str, names: list[str]) -> None:
        name = self._name_of(region, secret_id)
        record, grant = self._authorized(identity, region, name, "UntagResource")
        found = self._load(region, name, grant, record=record)

        def untag(secret: SmSecret) -> None:
            secret.tags = dict(retagged(secret.tags, {}, names, _too_many))
            secret.tagged = True

        self._change(found, untag)


def _restored(secret: SmSecret) -> None:
    secret.deletion_date = 0.0


def _too_many() -> SecretsManagerError:
    return SecretsManagerError("LimitExceededException", f"A secret has at most {MAX_TAGS} tags.")
