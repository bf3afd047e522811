"""Secrets Manager's replication on the wire: ReplicateSecretToRegions,
RemoveRegionsFromReplication and the AddReplicaRegions of CreateSecret (how a replicated secret
shows its primary and its replicas: shapes.secret_entry)."""

from __future__ import annotations

from strongroom.compat.aws.fields import AwsError
from strongroom.compat.aws.secretsmanager.replication import ReplicaStatus
from strongroom.compat.aws.secretsmanager.shapes import (
    backend,
    in_aws_words,
    replication_status,
    secret_id,
)
from strongroom.server.routes import Answer, Call

__all__ = [
    "force_in",
    "remove_regions_from_replication",
    "replica_regions_in",
    "replicate_secret_to_regions",
    "stop_replication_to_replica",
    "with_replication_status",
]

_MAX_REGIONS = 50  # botocore's model sets none; more than AWS has regions


def replica_regions_in(call: Call) -> list[tuple[str, str]]:
    """``AddReplicaRegions``: (Region, KmsKeyId) of each. A region that is missing or names
    none is refused by the backend once the caller is authorized."""
    raw = call.json().get("AddReplicaRegions")
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > _MAX_REGIONS:
        raise AwsError(
            "ValidationException", f"AddReplicaRegions is a list of at most {_MAX_REGIONS}."
        )
    regions = []
    for entry in raw:
        if not isinstance(entry, dict):
            raise AwsError("ValidationException", "AddReplicaRegions holds {Region, KmsKeyId}.")
        region, key = entry.get("Region", ""), entry.get("KmsKeyId", "")
        if not isinstance(region, str) or not isinstance(key, str):
            raise AwsError("ValidationException", "Region and KmsKeyId are strings.")
        regions.append((region, key))
    return regions


def force_in(call: Call) -> bool:
    """``ForceOverwriteReplicaSecret``."""
    force = call.json().get("ForceOverwriteReplicaSecret", False)
    if not isinstance(force, bool):
        raise AwsError("ValidationException", "ForceOverwriteReplicaSecret is a boolean.")
    return force


def with_replication_status(answer: Answer, statuses: list[ReplicaStatus]) -> Answer:
    if not statuses:
        return answer
    doc = {**answer.doc, "ReplicationStatus": replication_status(statuses)}
    return Answer(doc, clear=answer.clear)


@in_aws_words
def replicate_secret_to_regions(call: Call) -> Answer:
    service, region, doc = backend(call)
    found, statuses = service.replicate(
        call.identity, region, secret_id(doc), replica_regions_in(call), force=force_in(call)
    )
    answer = {"ARN": found.arn, "ReplicationStatus": replication_status(statuses)}
    return Answer(answer, clear=("ARN",))


@in_aws_words
def remove_regions_from_replication(call: Call) -> Answer:
    service, region, doc = backend(call)
    regions = doc.get("RemoveReplicaRegions")
    if not isinstance(regions, list) or not regions or not all(isinstance(r, str) for r in regions):
        raise AwsError("ValidationException", "RemoveReplicaRegions is a list of region names.")
    found, statuses = service.remove_replicas(call.identity, region, secret_id(doc), regions)
    answer = {"ARN": found.arn, "ReplicationStatus": replication_status(statuses)}
    return Answer(answer, clear=("ARN",))


@in_aws_words
def stop_replication_to_replica(call: Call) -> Answer:
    service, region, doc = backend(call)
    promoted = service.promote_replica(call.identity, region, secret_id(doc))
    return Answer({"ARN": promoted.arn}, clear=("ARN",))
