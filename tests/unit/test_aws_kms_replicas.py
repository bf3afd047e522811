"""A multi-Region replica key at the end of its deletion window: it goes, its primary forgets it
and keeps its material, and then the primary may be deleted too; a replica its primary never
listed (a request that died between its two writes) is listed by the next ReplicateKey."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from strongroom.auth import Identity
from strongroom.clock import ManualClock
from strongroom.compat.aws.kms.errors import KmsError
from strongroom.compat.aws.kms.models import KmsKey
from strongroom.compat.aws.kms.operations import KmsService
from strongroom.config import ServerSettings
from strongroom.server.node import Node

DAY = 86_400.0


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def node(tmp_path: Path, clock: ManualClock) -> Iterator[Node]:
    node = Node(ServerSettings(tmp_path, dev=True, root_token="t"), clock)
    yield node
    node.close()


@pytest.fixture
def kms(node: Node) -> KmsService:
    services = node.services
    assert services is not None
    return services.aws_kms


def test_a_deleted_replica_leaves_its_primary_whole(kms: KmsService, clock: ManualClock) -> None:
    root = Identity.system("test")
    primary = kms.create_key(root, "us-east-1", multi_region=True)
    kms.replicate_key(root, "us-east-1", primary.key_id, "eu-west-1")
    _, blob = kms.encrypt(root, "us-east-1", primary.key_id, b"kept", {})
    with pytest.raises(KmsError, match="replicas in eu-west-1"):
        kms.schedule_deletion(root, "us-east-1", primary.key_id, 7)

    kms.schedule_deletion(root, "eu-west-1", primary.key_id, 7)
    clock.advance(8 * DAY)
    with pytest.raises(KmsError, match="does not exist"):
        kms.describe(root, "eu-west-1", primary.key_id)  # found due, and destroyed
    assert kms.describe(root, "us-east-1", primary.key_id).replica_regions == ()
    _, plaintext = kms.decrypt(root, "us-east-1", blob, {})
    assert plaintext == b"kept"  # the material was the primary's, and stays
    assert kms.schedule_deletion(root, "us-east-1", primary.key_id, 7).state == ("PendingDeletion")


def test_a_replica_its_primary_never_listed_is_listed_by_the_next_replicate(
    kms: KmsService,
) -> None:
    root = Identity.system("test")
    primary = kms.create_key(root, "us-east-1", multi_region=True)
    kms.replicate_key(root, "us-east-1", primary.key_id, "eu-west-1")

    # What a request that died between its two writes leaves: the replica, not yet listed.
    def forget(current: KmsKey | None) -> KmsKey:
        assert current is not None
        return replace(current, replica_regions=())

    kms._keys.change(f"us-east-1/{primary.key_id}", forget)
    healed = kms.replicate_key(root, "us-east-1", primary.key_id, "eu-west-1")
    assert healed.primary_region == "us-east-1"
    assert kms.describe(root, "us-east-1", primary.key_id).replica_regions == ("eu-west-1",)
    with pytest.raises(KmsError, match="already exists"):
        kms.replicate_key(root, "us-east-1", primary.key_id, "eu-west-1")


def test_the_primary_region_moves_with_its_material(kms: KmsService, clock: ManualClock) -> None:
    root = Identity.system("test")
    key = kms.create_key(root, "us-east-1", multi_region=True)
    for region in ("eu-west-1", "ap-south-1"):
        kms.replicate_key(root, "us-east-1", key.key_id, region)
    kms.set_rotation(root, "us-east-1", key.key_id, 90)
    _, before = kms.encrypt(root, "us-east-1", key.key_id, b"made before", {})
    kms.rotate_now(root, "us-east-1", key.key_id)

    kms.update_primary_region(root, "us-east-1", key.key_id, "eu-west-1")
    moved = kms.describe(root, "eu-west-1", key.key_id)
    assert (moved.primary_region, moved.replica_regions) == ("", ("ap-south-1", "us-east-1"))
    assert kms.describe(root, "us-east-1", key.key_id).primary_region == "eu-west-1"
    assert kms.describe(root, "ap-south-1", key.key_id).primary_region == "eu-west-1"
    # every blob made before opens in every region, and rotation is the new primary's now
    for region in ("us-east-1", "eu-west-1", "ap-south-1"):
        assert kms.decrypt(root, region, before, {})[1] == b"made before"
    assert kms.rotation_period(moved) == 90
    assert [kind for _, kind in kms.rotations(root, "eu-west-1", key.key_id)] == ["ON_DEMAND"]
    with pytest.raises(KmsError, match="replica key"):
        kms.rotate_now(root, "us-east-1", key.key_id)
    kms.rotate_now(root, "eu-west-1", key.key_id)
    _, after = kms.encrypt(root, "ap-south-1", key.key_id, b"made after", {})
    assert kms.decrypt(root, "us-east-1", after, {})[1] == b"made after"
    # nothing of the material is left where the primary was
    assert kms._named.get("aws-kms-us-east-1", key.key_id) is None


def test_a_move_cut_short_is_finished_by_calling_again(kms: KmsService) -> None:
    """A request that died after the copy and the new primary's record: the old primary is
    Updating (no rotation, no replication), every blob still opens, and a second call ends it,
    with a rotation made to the old copy in between kept."""
    root = Identity.system("test")
    key = kms.create_key(root, "us-east-1", multi_region=True)
    kms.replicate_key(root, "us-east-1", key.key_id, "eu-west-1")
    _, blob = kms.encrypt(root, "us-east-1", key.key_id, b"kept", {})
    primary = kms.describe(root, "us-east-1", key.key_id)
    kms._keys.change(
        f"us-east-1/{key.key_id}", lambda current: replace(primary, updating_to="eu-west-1")
    )
    kms._move_material(primary, "eu-west-1")
    # the scheduler's rotation of the old copy, after the first copy was made
    kms._named.change("aws-kms-us-east-1", key.key_id, lambda named: named.rotated(1.0))
    _, raced = kms.encrypt(root, "us-east-1", key.key_id, b"raced", {})
    with pytest.raises(KmsError, match="Updating"):
        kms.rotate_now(root, "us-east-1", key.key_id)
    with pytest.raises(KmsError, match="Updating"):
        kms.replicate_key(root, "us-east-1", key.key_id, "ap-south-1")

    kms.update_primary_region(root, "us-east-1", key.key_id, "eu-west-1")
    for region in ("us-east-1", "eu-west-1"):
        assert kms.decrypt(root, region, blob, {})[1] == b"kept"
        assert kms.decrypt(root, region, raced, {})[1] == b"raced"
    assert kms.describe(root, "us-east-1", key.key_id).updating_to == ""


def test_what_update_primary_region_refuses(kms: KmsService) -> None:
    root = Identity.system("test")
    single = kms.create_key(root, "us-east-1")
    key = kms.create_key(root, "us-east-1", multi_region=True)
    kms.replicate_key(root, "us-east-1", key.key_id, "eu-west-1")
    cases = [
        (single.key_id, "eu-west-1", "us-east-1", "not a multi-Region key"),
        (key.key_id, "us-east-1", "us-east-1", "already the primary"),
        (key.key_id, "ap-south-1", "us-east-1", "does not exist"),
        (key.key_id, "us-east-1", "eu-west-1", "replica key"),
    ]
    for key_id, to, called_in, words in cases:
        with pytest.raises(KmsError, match=words):
            kms.update_primary_region(root, called_in, key_id, to)
    assert kms.describe(root, "us-east-1", key.key_id).replica_regions == ("eu-west-1",)
