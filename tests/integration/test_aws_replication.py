"""Secrets Manager replicas through boto3 against a real server: a replica is its primary seen
from another region (always in sync), refuses every change, answers only callers with rights in
its own region, and is made only by a caller who could copy the value by hand."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.helpers import (
    AWS_DEV_KEY,
    MotoServer,
    StrongroomServer,
    assert_same_as_moto,
    aws_client,
    aws_dev_server,
    issue_aws_key,
)
from tests.helpers import aws_outcome as _code

PRIMARY, REPLICA = "us-east-1", "eu-west-1"
ROOT_TOKEN = "repl-root"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    with aws_dev_server(tmp_path_factory.mktemp("aws-repl") / "data", "repl-root") as started:
        yield started


def _sm(server: StrongroomServer, region: str, key: tuple[str, str] = AWS_DEV_KEY) -> Any:
    return aws_client("secretsmanager", server.addr, region, key)


def test_a_replica_is_its_primary_seen_from_another_region(server: StrongroomServer) -> None:
    home, away = _sm(server, PRIMARY), _sm(server, REPLICA)
    name = f"repl/{secrets.token_hex(4)}"
    made = home.create_secret(
        Name=name,
        SecretString="v1",
        Description="replicated description",
        Tags=[{"Key": "team", "Value": "payments"}],
        AddReplicaRegions=[{"Region": REPLICA}],
    )
    assert made["ReplicationStatus"] == [
        {"Region": REPLICA, "Status": "InSync", "StatusMessage": "Replication succeeded"}
    ]
    replica_arn = made["ARN"].replace(PRIMARY, REPLICA)
    described = away.describe_secret(SecretId=replica_arn)
    assert described["ARN"] == replica_arn and described["PrimaryRegion"] == PRIMARY
    primary = home.describe_secret(SecretId=name)
    assert primary["ReplicationStatus"][0]["Region"] == REPLICA
    assert described["VersionIdsToStages"] == primary["VersionIdsToStages"]
    assert away.get_secret_value(SecretId=name)["SecretString"] == "v1"

    home.put_secret_value(SecretId=name, SecretString="v2")  # no copy to go stale
    assert away.get_secret_value(SecretId=replica_arn)["SecretString"] == "v2"
    assert [s["Name"] for s in away.list_secrets()["SecretList"] if s["Name"] == name] == [name]
    for key, value in (
        ("primary-region", PRIMARY),
        ("tag-key", "team"),
        ("tag-value", "payments"),
        ("description", "replicated"),
        ("all", "payments"),
    ):
        listed = away.list_secrets(Filters=[{"Key": key, "Values": [value]}])["SecretList"]
        assert name in [s["Name"] for s in listed], key

    for change in (
        lambda: away.put_secret_value(SecretId=name, SecretString="x"),
        lambda: away.update_secret(SecretId=name, Description="x"),
        lambda: away.tag_resource(SecretId=name, Tags=[{"Key": "k", "Value": "v"}]),
        lambda: away.delete_secret(SecretId=name),
        lambda: away.get_resource_policy(SecretId=name),
        lambda: away.replicate_secret_to_regions(
            SecretId=name, AddReplicaRegions=[{"Region": "us-west-2"}]
        ),
    ):
        assert _code(change) == "InvalidParameterException"
    assert away.get_secret_value(SecretId=name)["SecretString"] == "v2"

    assert _code(lambda: home.delete_secret(SecretId=name)) == "InvalidParameterException"
    home.remove_regions_from_replication(SecretId=name, RemoveReplicaRegions=[REPLICA])
    assert _code(lambda: away.describe_secret(SecretId=name)) == "ResourceNotFoundException"
    assert "ReplicationStatus" not in home.describe_secret(SecretId=name)
    home.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


def test_a_bad_replica_region_creates_nothing(server: StrongroomServer) -> None:
    home = _sm(server, PRIMARY)
    name = f"repl/{secrets.token_hex(4)}"
    for region in (PRIMARY, "not a region"):
        refused = lambda r=region: home.create_secret(  # noqa: E731
            Name=name, SecretString="v", AddReplicaRegions=[{"Region": r}]
        )
        assert _code(refused) == "InvalidParameterException"
    assert _code(lambda: home.describe_secret(SecretId=name)) == "ResourceNotFoundException"


def test_a_secret_already_in_the_region_is_kept_unless_overwritten(
    server: StrongroomServer,
) -> None:
    home, away = _sm(server, PRIMARY), _sm(server, REPLICA)
    name = f"repl/{secrets.token_hex(4)}"
    home.create_secret(Name=name, SecretString="primary")
    away.create_secret(Name=name, SecretString="theirs")
    failed = home.replicate_secret_to_regions(
        SecretId=name, AddReplicaRegions=[{"Region": REPLICA}]
    )["ReplicationStatus"][0]
    assert failed["Status"] == "Failed" and name in failed["StatusMessage"]
    assert away.get_secret_value(SecretId=name)["SecretString"] == "theirs"
    forced = home.replicate_secret_to_regions(
        SecretId=name, AddReplicaRegions=[{"Region": REPLICA}], ForceOverwriteReplicaSecret=True
    )["ReplicationStatus"][0]
    assert forced["Status"] == "InSync"
    assert away.get_secret_value(SecretId=name)["SecretString"] == "primary"


def test_replicas_answer_by_the_rights_of_their_own_region(server: StrongroomServer) -> None:
    home = _sm(server, PRIMARY)
    name = f"repl/{secrets.token_hex(4)}"
    home.create_secret(Name=name, SecretString="value")
    # Update on the primary's metadata, but no read of its values: may not replicate them.
    meta_only = issue_aws_key(
        server,
        ROOT_TOKEN,
        "repl-meta",
        f'path "aws-{PRIMARY}/metadata/{name}" {{ capabilities = ["read", "update"] }}\n'
        f'path "aws-{REPLICA}/data/{name}" {{ capabilities = ["create", "read"] }}',
    )

    def replicate(key: tuple[str, str]) -> Any:
        return _sm(server, PRIMARY, key).replicate_secret_to_regions(
            SecretId=name, AddReplicaRegions=[{"Region": REPLICA}]
        )

    assert _code(lambda: replicate(meta_only)) == "AccessDeniedException"
    # Read of the values too, but no create in the replica's region.
    no_create = issue_aws_key(
        server,
        ROOT_TOKEN,
        "repl-nocreate",
        f'path "aws-{PRIMARY}/metadata/{name}" {{ capabilities = ["update"] }}\n'
        f'path "aws-{PRIMARY}/data/{name}" {{ capabilities = ["read"] }}',
    )
    assert _code(lambda: replicate(no_create)) == "AccessDeniedException"
    assert _code(lambda: _sm(server, REPLICA).describe_secret(SecretId=name)) == (
        "ResourceNotFoundException"
    )
    home.replicate_secret_to_regions(SecretId=name, AddReplicaRegions=[{"Region": REPLICA}])
    # A key that reads in the replica's region reads the replica, and nothing in the primary's.
    away_reader = issue_aws_key(
        server,
        ROOT_TOKEN,
        "repl-away",
        f'path "aws-{REPLICA}/data/{name}" {{ capabilities = ["read"] }}',
    )
    assert _sm(server, REPLICA, away_reader).get_secret_value(SecretId=name)["SecretString"] == (
        "value"
    )
    primary_read = lambda: _sm(server, PRIMARY, away_reader).get_secret_value(  # noqa: E731
        SecretId=name
    )
    assert _code(primary_read) == "AccessDeniedException"
    home_reader = issue_aws_key(
        server,
        ROOT_TOKEN,
        "repl-home",
        f'path "aws-{PRIMARY}/data/{name}" {{ capabilities = ["read"] }}',
    )
    replica_read = lambda: _sm(server, REPLICA, home_reader).get_secret_value(  # noqa: E731
        SecretId=name
    )
    assert _code(replica_read) == "AccessDeniedException"


def test_create_with_replicas_checks_every_right_before_it_makes_anything(
    server: StrongroomServer,
) -> None:
    """A creator who may not make the replica gets 403, and no secret: nothing half done."""
    name = f"repl/{secrets.token_hex(4)}"
    creator = issue_aws_key(
        server,
        ROOT_TOKEN,
        "repl-creator",
        f'path "aws-{PRIMARY}/data/{name}" {{ capabilities = ["create", "read"] }}\n'
        f'path "aws-{PRIMARY}/metadata/{name}" {{ capabilities = ["update", "read"] }}',
    )
    make = lambda: _sm(server, PRIMARY, creator).create_secret(  # noqa: E731
        Name=name, SecretString="v", AddReplicaRegions=[{"Region": REPLICA}]
    )
    assert _code(make) == "AccessDeniedException"  # no create in the replica's region
    assert _code(lambda: _sm(server, PRIMARY).describe_secret(SecretId=name)) == (
        "ResourceNotFoundException"
    )


def _scenario(endpoint: str, name: str) -> list[str]:
    home = aws_client("secretsmanager", endpoint, PRIMARY, AWS_DEV_KEY)
    away = aws_client("secretsmanager", endpoint, REPLICA, AWS_DEV_KEY)
    away_arn: list[str] = []

    def create() -> object:
        made = home.create_secret(Name=name, SecretString="v1")
        away_arn.append(made["ARN"].replace(PRIMARY, REPLICA))
        return made

    steps: list[Callable[[], object]] = [
        create,
        lambda: home.replicate_secret_to_regions(
            SecretId=name, AddReplicaRegions=[{"Region": PRIMARY}]
        ),
        lambda: home.replicate_secret_to_regions(
            SecretId=name, AddReplicaRegions=[{"Region": REPLICA}]
        ),
        lambda: away.describe_secret(SecretId=away_arn[0]),
        lambda: away.get_secret_value(SecretId=away_arn[0]),
        lambda: away.put_secret_value(SecretId=away_arn[0], SecretString="x"),
        lambda: away.delete_secret(SecretId=away_arn[0]),
        lambda: home.delete_secret(SecretId=name),
        lambda: home.remove_regions_from_replication(SecretId=name, RemoveReplicaRegions=[REPLICA]),
        lambda: home.remove_regions_from_replication(SecretId=name, RemoveReplicaRegions=[REPLICA]),
        lambda: away.describe_secret(SecretId=away_arn[0]),
        lambda: home.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True),
    ]
    return [_code(step) for step in steps]


def test_the_same_replication_calls_against_moto_and_strongroom(
    server: StrongroomServer, moto: MotoServer
) -> None:
    name = f"repl-diff/{secrets.token_hex(4)}"
    assert_same_as_moto(_scenario(server.addr, name), _scenario(moto.endpoint, name), {})


def test_a_replica_of_another_primary_is_never_overwritten(server: StrongroomServer) -> None:
    name = f"repl/{secrets.token_hex(4)}"
    _sm(server, PRIMARY).create_secret(
        Name=name, SecretString="first", AddReplicaRegions=[{"Region": REPLICA}]
    )
    other = _sm(server, "us-west-2")
    other.create_secret(Name=name, SecretString="second")
    status = other.replicate_secret_to_regions(
        SecretId=name, AddReplicaRegions=[{"Region": REPLICA}], ForceOverwriteReplicaSecret=True
    )["ReplicationStatus"][0]
    assert status["Status"] == "Failed" and PRIMARY in status["StatusMessage"]
    assert _sm(server, REPLICA).get_secret_value(SecretId=name)["SecretString"] == "first"
