"""StopReplicationToReplica through boto3 against a real server: a promoted replica keeps its
versions (values, ids, stages) and stands alone; it is refused on what is no replica, to a
caller without the rights in the replica's region, and over values already in that region."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.helpers import (
    AWS_DEV_KEY,
    StrongroomServer,
    aws_client,
    aws_dev_server,
    issue_aws_key,
)
from tests.helpers import aws_outcome as _code

PRIMARY, REPLICA = "us-east-1", "eu-west-1"
ROOT_TOKEN = "promote-root"
ROOT = {"Authorization": f"Bearer {ROOT_TOKEN}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    with aws_dev_server(tmp_path_factory.mktemp("aws-promote") / "data", "promote-root") as up:
        yield up


def _sm(server: StrongroomServer, region: str, key: tuple[str, str] = AWS_DEV_KEY) -> Any:
    return aws_client("secretsmanager", server.addr, region, key)


def _replicated(server: StrongroomServer) -> tuple[str, str]:
    """A secret with four versions and five stages, replicated: (its name, the replica's ARN)."""
    home = _sm(server, PRIMARY)
    name = f"promote/{secrets.token_hex(4)}"
    made = home.create_secret(
        Name=name,
        SecretString="v1",
        Description="kept on promotion",
        Tags=[{"Key": "team", "Value": "payments"}],
    )
    first = made["VersionId"]
    home.put_secret_value(SecretId=name, SecretString="v2")
    home.put_secret_value(SecretId=name, SecretString="v3")
    home.put_secret_value(SecretId=name, SecretString="v4", VersionStages=["AWSPENDING"])
    home.update_secret_version_stage(SecretId=name, VersionStage="Blue", MoveToVersionId=first)
    home.replicate_secret_to_regions(SecretId=name, AddReplicaRegions=[{"Region": REPLICA}])
    return name, made["ARN"].replace(PRIMARY, REPLICA)


def test_a_promoted_replica_keeps_its_versions_and_stands_alone(server: StrongroomServer) -> None:
    home, away = _sm(server, PRIMARY), _sm(server, REPLICA)
    name, replica_arn = _replicated(server)
    before = away.describe_secret(SecretId=name)
    staged = before["VersionIdsToStages"]
    values = {v: away.get_secret_value(SecretId=name, VersionId=v)["SecretString"] for v in staged}
    assert sorted(values.values()) == ["v1", "v2", "v3", "v4"]

    assert away.stop_replication_to_replica(SecretId=replica_arn)["ARN"] == replica_arn

    after = away.describe_secret(SecretId=name)
    assert "PrimaryRegion" not in after and after["ARN"] == replica_arn
    assert after["VersionIdsToStages"] == staged  # the same ids, the same stages
    assert after["Description"] == "kept on promotion"
    assert after["Tags"] == [{"Key": "team", "Value": "payments"}]
    for version_id, value in values.items():
        assert away.get_secret_value(SecretId=name, VersionId=version_id)["SecretString"] == value
    for stage, value in (("AWSCURRENT", "v3"), ("AWSPREVIOUS", "v2"), ("AWSPENDING", "v4")):
        assert away.get_secret_value(SecretId=name, VersionStage=stage)["SecretString"] == value
    assert away.get_secret_value(SecretId=name, VersionStage="Blue")["SecretString"] == "v1"
    assert not home.describe_secret(SecretId=name).get("ReplicationStatus")

    # It stands alone: each side changes without the other, and the primary can go.
    home.put_secret_value(SecretId=name, SecretString="primary-only")
    assert away.get_secret_value(SecretId=name)["SecretString"] == "v3"
    away.put_secret_value(SecretId=name, SecretString="promoted-only")
    assert home.get_secret_value(SecretId=name)["SecretString"] == "primary-only"
    home.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    assert away.get_secret_value(SecretId=name)["SecretString"] == "promoted-only"
    assert _code(lambda: away.stop_replication_to_replica(SecretId=name)) == (
        "InvalidParameterException"  # no replica any more
    )


def test_promotion_is_refused_without_the_rights_in_the_replicas_region(
    server: StrongroomServer,
) -> None:
    away = _sm(server, REPLICA)
    name, replica_arn = _replicated(server)
    data = f"aws-{REPLICA}/data/{name}"
    for policy, capabilities in (("promote-read", '"read"'), ("promote-rc", '"read", "create"')):
        key = issue_aws_key(
            server, ROOT_TOKEN, policy, f'path "{data}" {{ capabilities = [{capabilities}] }}'
        )
        promote = lambda key=key: _sm(server, REPLICA, key).stop_replication_to_replica(  # noqa: E731
            SecretId=name
        )
        assert _code(promote) == "AccessDeniedException"
        assert away.describe_secret(SecretId=name)["PrimaryRegion"] == PRIMARY  # unchanged
    # The primary's own region's rights are not the replica's.
    home_rights = issue_aws_key(
        server,
        ROOT_TOKEN,
        "promote-home",
        f'path "aws-{PRIMARY}/data/{name}" {{ capabilities = ["read", "create", "update"] }}',
    )
    refused = lambda: _sm(server, REPLICA, home_rights).stop_replication_to_replica(  # noqa: E731
        SecretId=name
    )
    assert _code(refused) == "AccessDeniedException"
    enough = issue_aws_key(
        server,
        ROOT_TOKEN,
        "promote-ok",
        f'path "{data}" {{ capabilities = ["read", "create", "update"] }}',
    )
    promoted = _sm(server, REPLICA, enough).stop_replication_to_replica(SecretId=name)
    assert promoted["ARN"] == replica_arn


def test_promotion_of_what_is_no_replica_changes_nothing(server: StrongroomServer) -> None:
    home, away = _sm(server, PRIMARY), _sm(server, REPLICA)
    name, _ = _replicated(server)
    on_primary = lambda: home.stop_replication_to_replica(SecretId=name)  # noqa: E731
    assert _code(on_primary) == "InvalidParameterException"
    missing = lambda: away.stop_replication_to_replica(SecretId=f"{name}-none")  # noqa: E731
    assert _code(missing) == "ResourceNotFoundException"
    assert home.describe_secret(SecretId=name)["ReplicationStatus"][0]["Region"] == REPLICA


def test_values_already_in_the_replicas_region_are_never_overwritten(
    server: StrongroomServer,
) -> None:
    away = _sm(server, REPLICA)
    name, _ = _replicated(server)
    away.create_secret(Name=f"{name}-beside", SecretString="x")  # the region's namespace exists
    httpx.put(
        f"{server.addr}/api/v1/secrets/aws-{REPLICA}/{name}",
        headers=ROOT,
        json={"data": {"written": "through the native API"}},
    ).raise_for_status()
    assert _code(lambda: away.stop_replication_to_replica(SecretId=name)) == (
        "InvalidRequestException"
    )
    assert away.describe_secret(SecretId=name)["PrimaryRegion"] == PRIMARY
    assert away.get_secret_value(SecretId=name)["SecretString"] == "v3"  # still the primary's
    native = httpx.get(f"{server.addr}/api/v1/secrets/aws-{REPLICA}/{name}", headers=ROOT)
    assert native.json()["data"] == {"written": "through the native API"}
