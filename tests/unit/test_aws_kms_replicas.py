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
