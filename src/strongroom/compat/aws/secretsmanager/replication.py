"""Replicas of a secret in other regions (CreateSecret's AddReplicaRegions,
ReplicateSecretToRegions, RemoveRegionsFromReplication), as views of one data model.

A replica is a record in its region that names its primary. A request in the replica's region
is answered from the primary's secret (its values, stages, description, tags and resource
policy), checked against the caller's rights in the replica's region, so a replica is always in
sync; anything that changes a secret is made through the primary, and is refused on a replica
as AWS refuses it. Making a replica needs ``read`` on the primary's values (a replica makes
them readable in its region, which the caller could do by hand) and ``create`` in the replica's
region; replacing a secret there (``ForceOverwriteReplicaSecret``) needs ``delete`` on it."""

from __future__ import annotations

from dataclasses import dataclass

from strongroom.auth import Identity
from strongroom.compat.aws.secretsmanager.core import SecretsCore
from strongroom.compat.aws.secretsmanager.errors import SecretsManagerError
from strongroom.compat.aws.secretsmanager.models import SmSecret, secrets_namespace
from strongroom.compat.aws.sigv4 import is_region
from strongroom.policy.grants import granted
from strongroom.policy.kv import DATA, METADATA

__all__ = ["ReplicaStatus", "Replication", "replica_statuses"]


@dataclass(frozen=True)
class ReplicaStatus:
    region: str
    kms_key_id: str
    status: str  # InSync or Failed
    message: str


class Replication(SecretsCore):
    def replicate(
        self,
        identity: Identity,
        region: str,
        secret_id: str,
        regions: list[tuple[str, str]],
        *,
        force: bool,
    ) -> tuple[SmSecret, list[ReplicaStatus]]:
        """Replicas of the secret in ``regions`` ((region, KmsKeyId) each): the status of each,
        as AWS reports it (a secret of the name already there fails its region only)."""
        name = self._name_of(region, secret_id)
        record, grant = self._authorized(identity, region, name, "ReplicateSecretToRegions")
        found = self._load(region, name, grant, record=record)
        self._check_replication(identity, region, name, regions, force=force)
        return found, self._add_replicas(identity, found, regions, force=force)

    def _check_replication(
        self,
        identity: Identity,
        region: str,
        name: str,
        regions: list[tuple[str, str]],
        *,
        force: bool,
    ) -> None:
        """Refuse, before anything changes, regions that are none or the primary's own, and a
        caller who may not read the values, create in a replica's region or, to overwrite,
        delete there."""
        if not regions or any(r == region or not is_region(r) for r, _ in regions):
            raise SecretsManagerError("InvalidParameterException", "Invalid replica region.")
        identity.require("read", self._path(region, DATA, name))
        for replica_region, _ in regions:
            identity.require("create", self._path(replica_region, DATA, name))
            if force:
                identity.require("delete", self._path(replica_region, METADATA, name))

    def _add_replicas(
        self,
        identity: Identity,
        found: SmSecret,
        regions: list[tuple[str, str]],
        *,
        force: bool,
    ) -> list[ReplicaStatus]:
        return [self._add_replica(identity, found, r, key, force) for r, key in regions]

    def _add_replica(
        self, identity: Identity, found: SmSecret, region: str, kms_key_id: str, force: bool
    ) -> ReplicaStatus:
        name = found.name
        namespace = secrets_namespace(region)
        creating = granted(identity, "create", self._path(region, DATA, name), namespace, name)
        there = self._stored_record(region, name)
        if there is not None and there.primary_region == found.region:
            return self._listed(found, region, there.kms_key_id)  # already one
        if there is not None or self._rows.exists(creating):
            if there is not None and there.primary_region:  # another primary's: never replaced
                return ReplicaStatus(
                    region,
                    kms_key_id,
                    "Failed",
                    f"Replication failed: {name} in region {region} is a replica of the secret "
                    f"in {there.primary_region}; remove it there first.",
                )
            if not force:
                return ReplicaStatus(
                    region,
                    kms_key_id,
                    "Failed",
                    f"Replication failed: Secret name {name} already exists in region {region}.",
                )
            path = self._path(region, METADATA, name)
            self._rows.delete(granted(identity, "delete", path, namespace, name))
            self._records.delete(f"{region}/{name}")
        now = self._clock.now()
        replica = SmSecret(
            name,
            region,
            found.account,
            found.suffix,
            now,
            kms_key_id=kms_key_id,
            last_changed=now,
            primary_region=found.region,
        )
        if not self._records.create(f"{region}/{name}", replica):
            return ReplicaStatus(
                region, kms_key_id, "Failed", "Replication failed: another request made it first."
            )
        return self._listed(found, region, kms_key_id)

    def _listed(self, found: SmSecret, region: str, kms_key_id: str) -> ReplicaStatus:
        """The primary lists the replica: only then is the replica a view of it (core._record)."""

        def add(secret: SmSecret) -> None:
            secret.replicas[region] = kms_key_id

        self._change(found, add)
        return ReplicaStatus(region, kms_key_id, "InSync", "Replication succeeded")

    def remove_replicas(
        self, identity: Identity, region: str, secret_id: str, regions: list[str]
    ) -> tuple[SmSecret, list[ReplicaStatus]]:
        """The replicas in ``regions`` removed (those that are none are left alone, as AWS
        does); the status of the replicas that remain."""
        name = self._name_of(region, secret_id)
        record, grant = self._authorized(identity, region, name, "RemoveRegionsFromReplication")
        found = self._load(region, name, grant, record=record)
        for gone in regions:
            there = self._records.get(f"{gone}/{name}") if gone in found.replicas else None
            if there is not None and there.primary_region == found.region:
                self._records.delete(f"{gone}/{name}")

        def remove(secret: SmSecret) -> None:
            for gone in regions:
                secret.replicas.pop(gone, None)

        self._change(found, remove)
        return found, replica_statuses(found)


def replica_statuses(found: SmSecret) -> list[ReplicaStatus]:
    return [
        ReplicaStatus(region, key, "InSync", "Replication succeeded")
        for region, key in sorted(found.replicas.items())
    ]
