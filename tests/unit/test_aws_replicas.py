"""A replica record its primary no longer lists (what a crash between the two writes of a
replication leaves) is no view of anything, and does not block a secret of that name; a
promotion that fails midway leaves the replica as it was."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from strongroom.auth import Identity
from strongroom.clock import ManualClock
from strongroom.compat.aws.secretsmanager.errors import SecretsManagerError
from strongroom.compat.aws.secretsmanager.models import SmSecret, StoredValue
from strongroom.compat.aws.secretsmanager.values import SecretsManagerService
from strongroom.config import ServerSettings
from strongroom.errors import StoreUnavailable
from strongroom.server.node import Node


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    node = Node(ServerSettings(tmp_path, dev=True, root_token="t"), ManualClock())
    yield node
    node.close()


@pytest.fixture
def sm(node: Node) -> SecretsManagerService:
    services = node.services
    assert services is not None
    return services.aws_secrets


def test_a_replica_left_behind_is_nothing_and_blocks_nothing(sm: SecretsManagerService) -> None:
    root = Identity.system("test")
    _, _, statuses = sm.create(
        root, "us-east-1", "app/db", StoredValue(string="v"), replicas=[("eu-west-1", "")]
    )
    assert [s.status for s in statuses] == ["InSync"]
    assert sm.get_value(root, "eu-west-1", "app/db")[1].data == {"SecretString": "v"}
    # The primary forgets its replica, as a crash after removing it from the map would leave.

    def forget(primary: SmSecret | None) -> SmSecret:
        assert primary is not None
        primary.replicas.clear()
        return primary

    sm._records.change("us-east-1/app/db", forget)
    with pytest.raises(SecretsManagerError, match="can't find"):
        sm.get_value(root, "eu-west-1", "app/db")
    made, _, _ = sm.create(root, "eu-west-1", "app/db", StoredValue(string="theirs"))
    assert made.primary_region == ""
    assert sm.get_value(root, "eu-west-1", "app/db")[1].data == {"SecretString": "theirs"}
    assert sm.get_value(root, "us-east-1", "app/db")[1].data == {"SecretString": "v"}


def test_a_promotion_that_fails_midway_leaves_the_replica_as_it_was(
    sm: SecretsManagerService, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Identity.system("test")
    sm.create(root, "us-east-1", "app/db", StoredValue(string="v1"))
    sm.put_value(root, "us-east-1", "app/db", StoredValue(string="v2"), None)
    sm.replicate(root, "us-east-1", "app/db", [("eu-west-1", "")], force=False)
    writes = sm._secrets.write_granted
    calls: list[int] = []

    def second_write_fails(grant: Any, data: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise StoreUnavailable("database write failed: OperationalError")
        return writes(grant, data, **kwargs)

    monkeypatch.setattr(sm._secrets, "write_granted", second_write_fails)
    with pytest.raises(StoreUnavailable):
        sm.promote_replica(root, "eu-west-1", "app/db")
    monkeypatch.undo()
    # The first version's copy is gone with it: still a replica, and promoting it again works.
    replica, value, _ = sm.get_value(root, "eu-west-1", "app/db")
    assert replica.primary_region == "us-east-1" and value.data == {"SecretString": "v2"}
    promoted = sm.promote_replica(root, "eu-west-1", "app/db")
    assert promoted.primary_region == "" and promoted.region == "eu-west-1"
    assert sm.get_value(root, "eu-west-1", "app/db")[1].data == {"SecretString": "v2"}


def test_a_promotion_done_is_answered_done_even_if_its_primary_keeps_listing_it(
    sm: SecretsManagerService, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Identity.system("test")
    sm.create(root, "us-east-1", "app/db", StoredValue(string="v1"), replicas=[("eu-west-1", "")])
    change = sm._change

    def primary_unreachable(found: SmSecret, edit: Any) -> None:
        if found.region == "us-east-1":
            raise StoreUnavailable("database write failed: OperationalError")
        change(found, edit)

    monkeypatch.setattr(sm, "_change", primary_unreachable)
    promoted = sm.promote_replica(root, "eu-west-1", "app/db")  # no refusal for what was done
    monkeypatch.undo()
    assert promoted.primary_region == ""
    assert sm.get_value(root, "eu-west-1", "app/db")[1].data == {"SecretString": "v1"}
    # The region the primary still lists is no replica of it, and removing it clears it.
    sm.remove_replicas(root, "us-east-1", "app/db", ["eu-west-1"])
    assert sm.get_value(root, "eu-west-1", "app/db")[0].primary_region == ""
    sm.delete(root, "us-east-1", "app/db", window_days=None, force=True)
    assert sm.get_value(root, "eu-west-1", "app/db")[1].data == {"SecretString": "v1"}
