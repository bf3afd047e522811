"""Tags, one concept for the three AWS APIs (compat/aws/tags.py; issue 23, 3): the same limits
through boto3 on a real server (a key of 1-128 characters, a value of at most 256, 50 on a
resource), a bad tag a ValidationException that changes nothing, and each API's own code for
too many."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.helpers import AWS_DEV_KEY, StrongroomServer, aws_client, aws_dev_server

ROOT = "tags-root"
REGION = "eu-west-1"
LONG_KEY = "k" * 129
LONG_VALUE = "v" * 257


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    with aws_dev_server(tmp_path_factory.mktemp("tags") / "data", ROOT) as running:
        yield running


def _code(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as refused:
        call()
    return str(refused.value.response["Error"]["Code"])


def test_secrets_manager_tags(server: StrongroomServer) -> None:
    sm = aws_client("secretsmanager", server.addr, REGION, AWS_DEV_KEY)
    sm.create_secret(Name="tagged", SecretString="x", Tags=[{"Key": "team", "Value": "a"}])
    for bad in ([{"Key": LONG_KEY, "Value": "v"}], [{"Key": "k", "Value": LONG_VALUE}]):
        tag = functools.partial(sm.tag_resource, SecretId="tagged", Tags=bad)
        assert _code(tag) == "ValidationException"
        create = functools.partial(sm.create_secret, Name="never", SecretString="x", Tags=bad)
        assert _code(create) == "ValidationException"
    assert _code(lambda: sm.describe_secret(SecretId="never")) == "ResourceNotFoundException"
    assert sm.describe_secret(SecretId="tagged")["Tags"] == [{"Key": "team", "Value": "a"}]
    many = [{"Key": f"t{n}", "Value": ""} for n in range(50)]
    assert _code(lambda: sm.tag_resource(SecretId="tagged", Tags=many)) == (
        "LimitExceededException"
    )
    assert (
        _code(lambda: sm.untag_resource(SecretId="tagged", TagKeys=[LONG_KEY]))
        == "ValidationException"
    )
    sm.untag_resource(SecretId="tagged", TagKeys=["team"])
    assert sm.describe_secret(SecretId="tagged")["Tags"] == []


def test_kms_tags(server: StrongroomServer) -> None:
    kms = aws_client("kms", server.addr, REGION, AWS_DEV_KEY)
    key = kms.create_key(Tags=[{"TagKey": "team", "TagValue": "a"}])["KeyMetadata"]["KeyId"]
    for bad in ([{"TagKey": LONG_KEY, "TagValue": "v"}], [{"TagKey": "k", "TagValue": LONG_VALUE}]):
        tag = functools.partial(kms.tag_resource, KeyId=key, Tags=bad)
        assert _code(tag) == "ValidationException"
    duplicate = [{"TagKey": "a", "TagValue": "1"}, {"TagKey": "a", "TagValue": "2"}]
    assert _code(lambda: kms.tag_resource(KeyId=key, Tags=duplicate)) == "TagException"
    many = [{"TagKey": f"t{n}", "TagValue": ""} for n in range(50)]
    assert _code(lambda: kms.tag_resource(KeyId=key, Tags=many)) == "TagException"
    listed = kms.list_resource_tags(KeyId=key)["Tags"]
    assert listed == [{"TagKey": "team", "TagValue": "a"}]


def test_parameter_store_tags_and_a_put_with_a_bad_tag_writes_nothing(
    server: StrongroomServer,
) -> None:
    ssm = aws_client("ssm", server.addr, REGION, AWS_DEV_KEY)
    bad = [{"Key": LONG_KEY, "Value": "v"}]
    assert (
        _code(lambda: ssm.put_parameter(Name="/app/never", Value="v", Type="String", Tags=bad))
        == "ValidationException"
    )
    assert _code(lambda: ssm.get_parameter(Name="/app/never")) == "ParameterNotFound"
    ssm.put_parameter(Name="/app/tagged", Value="v", Type="String")
    assert (
        _code(
            lambda: ssm.add_tags_to_resource(
                ResourceType="Parameter", ResourceId="/app/tagged", Tags=bad
            )
        )
        == "ValidationException"
    )
    many = [{"Key": f"t{n}", "Value": ""} for n in range(51)]
    assert (
        _code(
            lambda: ssm.add_tags_to_resource(
                ResourceType="Parameter", ResourceId="/app/tagged", Tags=many
            )
        )
        == "ValidationException"
    )
    for batch in range(2):
        ssm.add_tags_to_resource(
            ResourceType="Parameter",
            ResourceId="/app/tagged",
            Tags=[{"Key": f"b{batch}-{n}", "Value": ""} for n in range(25)],
        )
    assert (
        _code(
            lambda: ssm.add_tags_to_resource(
                ResourceType="Parameter",
                ResourceId="/app/tagged",
                Tags=[{"Key": "one", "Value": ""}],
            )
        )
        == "TooManyTagsError"
    )
    listed = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/app/tagged")
    assert len(listed["TagList"]) == 50
