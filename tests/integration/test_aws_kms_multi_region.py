"""Multi-Region KMS keys through boto3 against a real server: a replica opens what its primary
sealed and the other way round, shares its rotation, keeps its own state, description and tags,
and is made only by a caller with the rights in both regions; the primary Region moves
(UpdatePrimaryRegion, which moto does not serve) with every blob still opening; the same calls
against moto's server mode have the same outcomes."""

from __future__ import annotations

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


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    with aws_dev_server(tmp_path_factory.mktemp("aws-mrk") / "data", "mrk-root") as started:
        yield started


def _kms(endpoint: str, region: str, key: tuple[str, str] = AWS_DEV_KEY) -> Any:
    return aws_client("kms", endpoint, region, key)


def _replicated(endpoint: str) -> tuple[str, Any, Any]:
    home, away = _kms(endpoint, PRIMARY), _kms(endpoint, REPLICA)
    key_id = home.create_key(MultiRegion=True, Description="primary")["KeyMetadata"]["KeyId"]
    away_made = home.replicate_key(
        KeyId=key_id,
        ReplicaRegion=REPLICA,
        Description="replica",
        Tags=[{"TagKey": "team", "TagValue": "payments"}],
    )
    assert away_made["ReplicaKeyMetadata"]["KeyId"] == key_id
    return key_id, home, away


def test_a_replica_opens_what_its_primary_sealed_and_back(server: StrongroomServer) -> None:
    key_id, home, away = _replicated(server.addr)
    assert key_id.startswith("mrk-") and len(key_id) == 36
    primary = home.describe_key(KeyId=key_id)["KeyMetadata"]
    replica = away.describe_key(KeyId=key_id)["KeyMetadata"]
    assert primary["MultiRegion"] and replica["MultiRegion"]
    assert primary["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"
    config = replica["MultiRegionConfiguration"]
    assert config["MultiRegionKeyType"] == "REPLICA"
    assert config["PrimaryKey"] == {"Arn": primary["Arn"], "Region": PRIMARY}
    assert config["ReplicaKeys"] == [{"Arn": replica["Arn"], "Region": REPLICA}]
    assert (replica["Description"], primary["Description"]) == ("replica", "primary")
    assert away.list_resource_tags(KeyId=key_id)["Tags"] == [
        {"TagKey": "team", "TagValue": "payments"}
    ]
    assert key_id in [k["KeyId"] for k in away.list_keys()["Keys"]]

    context = {"purpose": "mrk-test"}
    sealed = home.encrypt(KeyId=key_id, Plaintext=b"from home", EncryptionContext=context)
    opened = away.decrypt(CiphertextBlob=sealed["CiphertextBlob"], EncryptionContext=context)
    assert opened["Plaintext"] == b"from home" and opened["KeyId"] == replica["Arn"]
    back = away.encrypt(KeyId=key_id, Plaintext=b"from away")["CiphertextBlob"]
    assert home.decrypt(CiphertextBlob=back)["Plaintext"] == b"from away"
    data_key = away.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    assert (
        home.decrypt(CiphertextBlob=data_key["CiphertextBlob"])["Plaintext"]
        == (data_key["Plaintext"])
    )
    wrong_context = lambda: away.decrypt(  # noqa: E731 - bound in every region
        CiphertextBlob=sealed["CiphertextBlob"], EncryptionContext={"x": "y"}
    )
    assert _code(wrong_context) == "InvalidCiphertextException"


def test_a_replica_shares_the_rotation_and_keeps_its_own_state(server: StrongroomServer) -> None:
    key_id, home, away = _replicated(server.addr)
    old = home.encrypt(KeyId=key_id, Plaintext=b"before rotation")["CiphertextBlob"]
    home.rotate_key_on_demand(KeyId=key_id)
    assert [r["RotationType"] for r in away.list_key_rotations(KeyId=key_id)["Rotations"]] == [
        "ON_DEMAND"
    ]
    assert away.decrypt(CiphertextBlob=old)["Plaintext"] == b"before rotation"
    new = away.encrypt(KeyId=key_id, Plaintext=b"after")["CiphertextBlob"]
    assert home.decrypt(CiphertextBlob=new)["Plaintext"] == b"after"
    for refused in (
        lambda: away.enable_key_rotation(KeyId=key_id),
        lambda: away.rotate_key_on_demand(KeyId=key_id),
    ):
        assert _code(refused) == "UnsupportedOperationException"
    home.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=180)
    assert away.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True

    away.disable_key(KeyId=key_id)  # the replica's state is its own
    assert _code(lambda: away.encrypt(KeyId=key_id, Plaintext=b"x")) == "DisabledException"
    assert home.encrypt(KeyId=key_id, Plaintext=b"x")["KeyId"].endswith(key_id)
    away.enable_key(KeyId=key_id)

    # A primary with replicas stays until they go; a replica goes on its own.
    assert _code(lambda: home.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)) == (
        "KMSInvalidStateException"
    )
    assert away.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)["KeyState"] == (
        "PendingDeletion"
    )
    assert home.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"


def test_replicate_key_refuses_what_is_no_primary_and_needs_both_regions_rights(
    server: StrongroomServer,
) -> None:
    home = _kms(server.addr, PRIMARY)
    single = home.create_key()["KeyMetadata"]["KeyId"]
    one = lambda: home.replicate_key(KeyId=single, ReplicaRegion=REPLICA)  # noqa: E731
    assert _code(one) == "UnsupportedOperationException"
    key_id, home, away = _replicated(server.addr)
    same = lambda: home.replicate_key(KeyId=key_id, ReplicaRegion=PRIMARY)  # noqa: E731
    assert _code(same) == "ValidationException"
    again = lambda: home.replicate_key(KeyId=key_id, ReplicaRegion=REPLICA)  # noqa: E731
    assert _code(again) == "AlreadyExistsException"
    of_replica = lambda: away.replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")  # noqa: E731
    assert _code(of_replica) == "UnsupportedOperationException"

    other = home.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    rules = f'path "aws-kms-{PRIMARY}/keys/{other}" {{ capabilities = ["read", "update"] }}'
    home_only = issue_aws_key(server, "mrk-root", "mrk-home-only", rules)
    caller = _kms(server.addr, PRIMARY, home_only)
    refused = lambda: caller.replicate_key(KeyId=other, ReplicaRegion=REPLICA)  # noqa: E731
    assert _code(refused) == "AccessDeniedException"  # no create in the replica's region
    assert _code(lambda: away.describe_key(KeyId=other)) == "NotFoundException"
    assert (
        home.describe_key(KeyId=other)["KeyMetadata"]["MultiRegionConfiguration"]["ReplicaKeys"]
        == []
    )


def test_the_primary_region_moves_and_every_blob_still_opens(server: StrongroomServer) -> None:
    key_id, home, away = _replicated(server.addr)
    blob = home.encrypt(KeyId=key_id, Plaintext=b"before the move")["CiphertextBlob"]
    rules = f'path "aws-kms-{PRIMARY}/keys/{key_id}" {{ capabilities = ["read", "update"] }}'
    home_only = _kms(server.addr, PRIMARY, issue_aws_key(server, "mrk-root", "mrk-move", rules))
    refused = lambda: home_only.update_primary_region(  # noqa: E731
        KeyId=key_id, PrimaryRegion=REPLICA
    )
    assert _code(refused) == "AccessDeniedException"  # no right on the replica's region
    assert home.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"

    home.update_primary_region(KeyId=key_id, PrimaryRegion=REPLICA)
    moved = away.describe_key(KeyId=key_id)["KeyMetadata"]["MultiRegionConfiguration"]
    assert moved["MultiRegionKeyType"] == "PRIMARY"
    assert moved["PrimaryKey"]["Region"] == REPLICA
    assert [r["Region"] for r in moved["ReplicaKeys"]] == [PRIMARY]
    left = home.describe_key(KeyId=key_id)["KeyMetadata"]["MultiRegionConfiguration"]
    assert (left["MultiRegionKeyType"], left["PrimaryKey"]["Region"]) == ("REPLICA", REPLICA)
    for client in (home, away):
        assert client.decrypt(CiphertextBlob=blob)["Plaintext"] == b"before the move"
    assert _code(lambda: home.rotate_key_on_demand(KeyId=key_id)) == (
        "UnsupportedOperationException"
    )
    away.rotate_key_on_demand(KeyId=key_id)
    after = home.encrypt(KeyId=key_id, Plaintext=b"after")["CiphertextBlob"]
    assert away.decrypt(CiphertextBlob=after)["Plaintext"] == b"after"
    back = lambda: home.update_primary_region(KeyId=key_id, PrimaryRegion=PRIMARY)  # noqa: E731
    assert _code(back) == "UnsupportedOperationException"  # asked of the replica it now is


def _scenario(endpoint: str) -> list[str]:
    home, away = _kms(endpoint, PRIMARY), _kms(endpoint, REPLICA)
    made: dict[str, Any] = {}

    def create() -> object:
        made["id"] = home.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
        made["single"] = home.create_key()["KeyMetadata"]["KeyId"]
        return made

    def across() -> object:
        blob = home.encrypt(KeyId=made["id"], Plaintext=b"p")["CiphertextBlob"]
        if away.decrypt(CiphertextBlob=blob)["Plaintext"] != b"p":
            raise AssertionError("not opened")
        return blob

    def kinds() -> object:
        kind = away.describe_key(KeyId=made["id"])["KeyMetadata"]["MultiRegionConfiguration"]
        if kind["MultiRegionKeyType"] != "REPLICA" or kind["PrimaryKey"]["Region"] != PRIMARY:
            raise AssertionError(kind)
        return kind

    steps: list[Callable[[], object]] = [
        create,
        lambda: home.replicate_key(KeyId=made["id"], ReplicaRegion=REPLICA),
        kinds,
        across,
        lambda: away.encrypt(KeyId=made["id"], Plaintext=b"q"),
        lambda: home.describe_key(KeyId=made["id"]),
    ]
    return [_code(step) for step in steps]


def test_the_same_multi_region_calls_against_moto_and_strongroom(
    server: StrongroomServer, moto: MotoServer
) -> None:
    # moto answers a ciphertext of the primary AccessDenied in the replica's region; AWS opens it
    # there ("encrypt in one Region, decrypt in another", its multi-Region keys' whole point).
    departures = {3: ("ok", "AccessDeniedException")}
    assert_same_as_moto(_scenario(server.addr), _scenario(moto.endpoint), departures)
