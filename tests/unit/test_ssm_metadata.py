"""A parameter's tags and labels are one record (compat/aws/resource_metadata.py): a tag change
keeps the labels and a label change keeps the tags; a parameter written by a release that kept
them in two records reads as it did and moves into the one at its next change; deleting the
parameter removes both forms."""

from __future__ import annotations

import json

import pytest

from strongroom.auth import Identity
from strongroom.compat.aws.ssm.models import LABELS_KIND, METADATA_KIND, TAGS_KIND
from strongroom.server.runtime import Runtime

ROOT = Identity.system("root")
REGION = "us-east-1"


@pytest.fixture
def runtime(dev_runtime: Runtime) -> Runtime:
    return dev_runtime


def test_tags_and_labels_share_one_record(runtime: Runtime) -> None:
    ssm = runtime.services.aws_ssm
    ssm.put(ROOT, REGION, "/app/db", "one", type_="String")
    ssm.set_tags(ROOT, REGION, "/app/db", {"team": "core"}, [])
    ssm.label(ROOT, REGION, "/app/db", 1, ["prod"])
    ssm.set_tags(ROOT, REGION, "/app/db", {"owner": "me"}, ["team"])
    raw = runtime.store.get_record(METADATA_KIND, f"{REGION}/app/db")
    assert raw is not None
    assert json.loads(raw) == {"tags": {"owner": "me"}, "labels": {"prod": 1}}
    assert ssm.get(ROOT, REGION, "/app/db:prod").labels == ("prod",)
    ssm.delete(ROOT, REGION, "/app/db")
    assert runtime.store.get_record(METADATA_KIND, f"{REGION}/app/db") is None


def test_a_parameter_of_an_older_release_moves_into_the_record(runtime: Runtime) -> None:
    ssm = runtime.services.aws_ssm
    ssm.put(ROOT, REGION, "/app/old", "one", type_="String")
    key = f"{REGION}/app/old"
    runtime.store.put_record(TAGS_KIND, key, json.dumps({"team": "core"}).encode())
    runtime.store.put_record(LABELS_KIND, key, json.dumps({"prod": 1}).encode())
    assert ssm.tags(ROOT, REGION, "/app/old") == {"team": "core"}  # read as it was
    assert ssm.get(ROOT, REGION, "/app/old:prod").version == 1
    ssm.label(ROOT, REGION, "/app/old", 1, ["stable"])
    raw = runtime.store.get_record(METADATA_KIND, key)
    assert raw is not None and json.loads(raw) == {
        "tags": {"team": "core"},
        "labels": {"prod": 1, "stable": 1},
    }
    assert runtime.store.get_record(TAGS_KIND, key) is None
    assert runtime.store.get_record(LABELS_KIND, key) is None
