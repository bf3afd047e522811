"""StopReplicationToReplica: a replica promoted to a secret of its own in its region.

A replica holds no values (replication.py: it is a view of its primary). Promoting it copies, in
its region, each version of the primary that carries a stage (AWS drops versions without one
anyway): the same values under the same VersionIds, with the same stages, AWSCURRENT written
last so that it is the current version. The record becomes the new secret's (the ARN is the
replica's: the primary's with the replica's region; description, tags, resource policy and
KmsKeyId kept; rotation off, as on AWS), and the primary stops listing the region.

Rights, all in the replica's region: ``read`` on the values (as reading the replica), and
``create`` and ``update`` there (a new secret, and its stages). The values are written before the
record changes: a copy that fails is removed, and a request that dies in between leaves a
secret in the region that the next attempt reports, never a record without values."""

from __future__ import annotations

import contextlib
from dataclasses import replace

from strongroom.auth import Identity
from strongroom.compat.aws.secretsmanager.errors import SecretsManagerError
from strongroom.compat.aws.secretsmanager.models import (
    STAGES,
    SmSecret,
    StoredValue,
    secrets_namespace,
)
from strongroom.compat.aws.secretsmanager.stages import Stages
from strongroom.errors import StrongroomError
from strongroom.policy.grants import Grant, granted
from strongroom.policy.kv import DATA

__all__ = ["NOT_A_REPLICA", "Promotion"]

NOT_A_REPLICA = (
    "Operation only permitted on a replica secret. Call must be made in the replica secret's "
    "region."
)


class Promotion(Stages):
    def promote_replica(self, identity: Identity, region: str, secret_id: str) -> SmSecret:
        """The replica in ``region`` made a secret of its own there; returns it."""
        name = self._name_of(region, secret_id)
        record, read = self._authorized(identity, region, name, "StopReplicationToReplica")
        found = self._load(region, name, read, record=record)
        if not found.primary_region:
            raise SecretsManagerError("InvalidParameterException", NOT_A_REPLICA)
        namespace, path = secrets_namespace(region), self._path(region, DATA, name)
        identity.require("update", path)
        create = granted(identity, "create", path, namespace, name)
        self._ensure_namespace(namespace)  # a replica's region may hold nothing yet
        if self._rows.exists(create):
            raise SecretsManagerError(
                "InvalidRequestException",
                f"A secret named {name} already holds values in region {region} outside this "
                f"replica (a promotion cut short, or a write through another API): delete "
                f"{namespace}/{name} there, then promote again.",
            )
        update = granted(identity, "update", path, namespace, name)
        copied = self._copy_staged(found, read, create, update)
        promoted = self._standalone(found, copied)

        def becomes(current: SmSecret | None) -> SmSecret:
            if current is None or current.primary_region != found.primary_region:
                raise SecretsManagerError(
                    "InvalidRequestException", "The replica changed meanwhile; try again."
                )
            return promoted

        try:
            self._records.change(f"{region}/{name}", becomes)
        except (StrongroomError, OSError):
            self._rows.purge(create)  # the copy of a replica that did not become a secret
            raise
        primary = self._records.get(f"{found.primary_region}/{name}")
        if primary is not None:

            def unlisted(secret: SmSecret) -> None:
                secret.replicas.pop(region, None)

            # The promotion is done: a failure here is no refusal. The region the primary still
            # lists is no replica of it (core._record), and RemoveRegionsFromReplication clears it.
            with contextlib.suppress(StrongroomError, OSError):
                self._change(primary, unlisted)
        return promoted

    def _copy_staged(
        self, found: SmSecret, read: Grant, create: Grant, update: Grant
    ) -> dict[int, tuple[int, str]]:
        """Each staged version of the primary written in the replica's region: old number ->
        (new number, digest of the value). On any failure the copy is removed."""
        stages = self.stages(found, read)
        current = next((n for n, s in stages.items() if "AWSCURRENT" in s), None)
        order = sorted(n for n in stages if n != current) + ([current] if current else [])
        copied: dict[int, tuple[int, str]] = {}
        try:
            for number in order:
                value = StoredValue.of(self._secrets.read_granted(read, number).data)
                written = self._secrets.write_granted(create, value.data())
                copied[number] = (written.version, value.digest())
            if current is not None:
                self._secrets.promote(update, copied[current][0])  # explicit labels from here
            for old, names in stages.items():
                for stage in names:  # the rest are the record's custom stages (_standalone)
                    if stage != "AWSCURRENT" and stage not in found.custom_stages:
                        self._secrets.move_label(update, STAGES.get(stage, stage), copied[old][0])
        except (StrongroomError, OSError):
            # This request's own partial copy (nothing was there before it): undone whole.
            with contextlib.suppress(StrongroomError):
                self._rows.purge(create)
            raise
        return copied

    def _standalone(self, found: SmSecret, copied: dict[int, tuple[int, str]]) -> SmSecret:
        """The replica's record as a secret of its own: the versions' ids kept (as the tokens
        that wrote them), custom stages moved to the copies, rotation off."""
        tokens = {found.version_id(old): [new, digest] for old, (new, digest) in copied.items()}
        custom = {s: copied[n][0] for s, n in found.custom_stages.items() if n in copied}
        now = self._clock.now()
        return replace(
            found,
            primary_region="",
            replicas={},
            tokens=tokens,
            custom_stages=custom,
            last_changed=now,
            rotation_lambda_arn="",
            rotation_days=0,
            rotation_schedule="",
            rotation_duration="",
            rotation_cancelled=False,
            deletion_date=0.0,
        )
