"""AWS Systems Manager Parameter Store on a real strongroom server, through boto3, side by side
with moto's server mode, as a view of the same secrets the other APIs see; SecureStrings are
sealed by strongroom's own AWS KMS."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.canary import find_canaries, read_tree
from tests.helpers import (
    AWS_DEV_KEY,
    MotoServer,
    StrongroomServer,
    assert_same_as_moto,
    aws_client,
    aws_dev_server,
)
from tests.helpers import (
    aws_outcome as _code,
)

DEV_KEY = AWS_DEV_KEY
REGION = "eu-central-1"
ROOT = {"Authorization": "Bearer ssm-root", "X-Vault-Token": "ssm-root"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    with aws_dev_server(tmp_path_factory.mktemp("aws-ssm") / "data", "ssm-root") as started:
        yield started


@pytest.fixture
def ssm(server: StrongroomServer) -> Any:
    return aws_client("ssm", server.addr, REGION, DEV_KEY)


def test_the_seeds_hierarchy_read(ssm: Any) -> None:
    """Plain and encrypted values under one hierarchy, read back with
    get_parameters_by_path(..., WithDecryption=True)."""
    root = f"/seed-{secrets.token_hex(3)}"
    ssm.put_parameter(Name=f"{root}/db/host", Value="db.internal", Type="String")
    ssm.put_parameter(Name=f"{root}/db/password", Value="s3cret", Type="SecureString")
    ssm.put_parameter(Name=f"{root}/hosts", Value="a,b,c", Type="StringList")
    found = ssm.get_parameters_by_path(Path=root, Recursive=True, WithDecryption=True)
    values = {p["Name"]: (p["Type"], p["Value"]) for p in found["Parameters"]}
    assert values == {
        f"{root}/db/host": ("String", "db.internal"),
        f"{root}/db/password": ("SecureString", "s3cret"),
        f"{root}/hosts": ("StringList", "a,b,c"),
    }
    one_level = ssm.get_parameters_by_path(Path=root)["Parameters"]
    assert [p["Name"] for p in one_level] == [f"{root}/hosts"]
    sealed = ssm.get_parameter(Name=f"{root}/db/password")["Parameter"]["Value"]
    assert sealed != "s3cret" and sealed.startswith("U1JL")  # a CiphertextBlob ("SRK")
    page = ssm.get_parameters_by_path(Path=root, Recursive=True, MaxResults=2)
    assert len(page["Parameters"]) == 2 and "NextToken" in page
    rest = ssm.get_parameters_by_path(Path=root, Recursive=True, NextToken=page["NextToken"])
    assert len(rest["Parameters"]) == 1


def test_versions_history_overwrite_and_patterns(ssm: Any) -> None:
    name = f"/v-{secrets.token_hex(3)}/x"
    assert ssm.put_parameter(Name=name, Value="1", Type="String")["Version"] == 1
    assert _code(lambda: ssm.put_parameter(Name=name, Value="2", Type="String")) == (
        "ParameterAlreadyExists"
    )
    assert ssm.put_parameter(Name=name, Value="2", Type="String", Overwrite=True)["Version"] == 2
    history = ssm.get_parameter_history(Name=name)["Parameters"]
    assert [(h["Version"], h["Value"]) for h in history] == [(1, "1"), (2, "2")]
    assert ssm.get_parameter(Name=f"{name}:1")["Parameter"]["Value"] == "1"
    assert _code(lambda: ssm.get_parameter(Name=f"{name}:9")) == "ParameterVersionNotFound"
    assert _code(lambda: ssm.get_parameter(Name=name + "-none")) == "ParameterNotFound"
    assert (
        _code(
            lambda: ssm.put_parameter(
                Name=name + "p", Value="abc", Type="String", AllowedPattern="^[0-9]+$"
            )
        )
        == "ParameterPatternMismatchException"
    )
    # Reserved names, refused in AWS's words: a hierarchy under /aws is AWS's own.
    assert _code(lambda: ssm.put_parameter(Name="/aws/reserved", Value="x", Type="String")) == (
        "AccessDeniedException"
    )
    for reserved in ("ssm-x", "AWS_x", "/ssm/a/b"):
        put = partial(ssm.put_parameter, Name=reserved, Value="x", Type="String")
        assert _code(put) == "ValidationException"
    deep = "/" + "/".join("l" * 15) + "/x"
    assert _code(lambda: ssm.put_parameter(Name=deep, Value="x", Type="String")) == (
        "HierarchyLevelLimitExceededException"
    )
    assert _code(lambda: ssm.put_parameter(Name="/a/b-new", Value="x")) == "ValidationException"
    got = ssm.get_parameters(Names=[name, name + "-none"])
    assert [p["Name"] for p in got["Parameters"]] == [name]
    assert got["InvalidParameters"] == [name + "-none"]
    ssm.add_tags_to_resource(
        ResourceType="Parameter", ResourceId=name, Tags=[{"Key": "a", "Value": "b"}]
    )
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"] == [
        {"Key": "a", "Value": "b"}
    ]
    described = ssm.describe_parameters(
        ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}]
    )["Parameters"]
    assert [(p["Name"], p["Version"]) for p in described] == [(name, 2)]
    deleted = ssm.delete_parameters(Names=[name, name + "-none"])
    assert deleted["DeletedParameters"] == [name]
    assert _code(lambda: ssm.get_parameter(Name=name)) == "ParameterNotFound"


def _refusal(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return str(error["Code"]), str(error.get("Message", ""))


def test_refused_input_in_awss_words_never_showing_a_value(ssm: Any) -> None:
    """What moto's suite found: AWS's words for input its model refuses (moto copies them), each
    such error of a request counted in one message; a parameter's value is never shown."""
    name = f"/words-{secrets.token_hex(3)}"
    canary = "CANARY-" + "v" * 5000
    code, message = _refusal(lambda: ssm.put_parameter(Name=name, Value=canary, Type="String"))
    assert code == "ValidationException" and "CANARY" not in message
    assert _refusal(lambda: ssm.put_parameter(Name=name, Value="", Type="String")) == (
        "ValidationException",
        "1 validation error detected: Value '' at 'value' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1.",
    )
    assert _refusal(lambda: ssm.put_parameter(Name=name, Value="x", Type="str")) == (
        "ValidationException",
        "1 validation error detected: Value 'str' at 'type' failed to satisfy constraint: "
        "Member must satisfy enum value set: [SecureString, StringList, String]",
    )
    assert (
        _refusal(lambda: ssm.put_parameter(Name=name, Value="x", Type="String", DataType="x"))[1]
        == "The following data type is not supported: x (Data type names are all lowercase.)"
    )
    names = [f"{name}/{n}" for n in range(11)]
    code, message = _refusal(lambda: ssm.get_parameters(Names=names))
    assert message == (
        f"1 validation error detected: Value '[{', '.join(names)}]' at 'names' failed to "
        "satisfy constraint: Member must have length less than or equal to 10."
    )
    bad = [{"Key": "Name", "Option": "over 10 chars", "Values": ["a"]}, {"Key": "key"}]
    code, message = _refusal(lambda: ssm.describe_parameters(ParameterFilters=bad))
    assert code == "ValidationException" and message.startswith("2 validation errors detected:")
    assert "Value 'key' at 'parameterFilters.2.member.key'" in message
    for path in ("/###", "//", "test"):
        code, message = _refusal(
            lambda p=path: ssm.describe_parameters(
                ParameterFilters=[{"Key": "Path", "Values": [p]}]
            )
        )
        assert code == "ValidationException" and "must begin with a forward slash" in message
    both = {"Filters": [{"Key": "Name", "Values": ["a"]}]}
    code, message = _refusal(
        lambda: ssm.describe_parameters(**both, ParameterFilters=both["Filters"])
    )
    assert message == "You can use either Filters or ParameterFilters in a single request."
    tier = [{"Key": "Tier", "Values": ["Gold"]}]
    assert _refusal(lambda: ssm.describe_parameters(ParameterFilters=tier))[0] == (
        "InvalidFilterValue"
    )
    assert (
        _refusal(
            lambda: ssm.put_parameter(Name=name, Value="x", Type="SecureString", KeyId="alias/none")
        )[0]
        == "InvalidKeyId"
    )
    assert _refusal(lambda: ssm.get_parameter(Name=name))[0] == "ParameterNotFound"  # nothing put


def test_securestring_needs_its_kms_key(server: StrongroomServer, ssm: Any) -> None:
    """A SecureString under a customer key: reading it in clear needs decrypt on the key; the
    value is bound to the parameter's ARN (moved elsewhere, it does not open)."""
    kms = aws_client("kms", server.addr, REGION, DEV_KEY)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    name = f"/kms-{secrets.token_hex(3)}/secret"
    ssm.put_parameter(Name=name, Value="card-4111", Type="SecureString", KeyId=key_id)
    parameter = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    assert parameter["Value"] == "card-4111"
    blob = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    arn = f"arn:aws:ssm:{REGION}:000000000000:parameter{name}"
    import base64

    opened = kms.decrypt(
        CiphertextBlob=base64.b64decode(blob), EncryptionContext={"PARAMETER_ARN": arn}
    )
    assert opened["Plaintext"] == b"card-4111"
    policy = f'path "aws-ssm-{REGION}/data/*" {{ capabilities = ["read"] }}'
    httpx.put(
        f"{server.addr}/api/v1/sys/policies/acl/ssm-read", headers=ROOT, json={"policy": policy}
    ).raise_for_status()
    issued = httpx.post(
        f"{server.addr}/api/v1/sys/aws/credentials", headers=ROOT, json={"policies": ["ssm-read"]}
    ).json()["data"]
    reader = aws_client(
        "ssm", server.addr, REGION, (issued["access_key_id"], issued["secret_access_key"])
    )
    assert reader.get_parameter(Name=name)["Parameter"]["Value"] == blob  # sealed: allowed
    assert (
        _code(lambda: reader.get_parameter(Name=name, WithDecryption=True))
        == "AccessDeniedException"
    )
    assert (
        _code(lambda: reader.put_parameter(Name=name, Value="x", Type="String", Overwrite=True))
        == "AccessDeniedException"
    )


def test_one_data_model(server: StrongroomServer, ssm: Any) -> None:
    name = f"/shared-{secrets.token_hex(3)}/param"
    ssm.put_parameter(Name=name, Value="from-boto3", Type="String")
    vault = httpx.get(f"{server.addr}/v1/aws-ssm-{REGION}/data{name}", headers=ROOT)
    assert vault.json()["data"]["data"]["Value"] == "from-boto3"
    httpx.post(
        f"{server.addr}/v1/aws-ssm-{REGION}/data/from-vault{name}",
        headers=ROOT,
        json={"data": {"k": "v"}},
    ).raise_for_status()
    read = ssm.get_parameter(Name=f"/from-vault{name}")["Parameter"]
    assert read["Value"] == '{"k":"v"}' and read["Type"] == "String"


def _scenario(ssm: Any, root: str) -> list[str]:
    steps: list[Callable[[], object]] = [
        lambda: ssm.put_parameter(Name=f"{root}/a", Value="1", Type="String"),
        lambda: ssm.put_parameter(Name=f"{root}/a", Value="2", Type="String"),
        lambda: ssm.put_parameter(Name=f"{root}/a", Value="2", Type="String", Overwrite=True),
        lambda: ssm.get_parameter(Name=f"{root}/a"),
        lambda: ssm.get_parameter(Name=f"{root}/a:1"),
        lambda: ssm.get_parameter(Name=f"{root}/missing"),
        lambda: ssm.put_parameter(Name=f"{root}/s", Value="x", Type="SecureString"),
        lambda: ssm.get_parameter(Name=f"{root}/s", WithDecryption=True),
        lambda: ssm.put_parameter(
            Name=f"{root}/b", Value="abc", Type="String", AllowedPattern="^[0-9]+$"
        ),
        lambda: ssm.put_parameter(Name=f"{root}/c", Value="x", Type="Nope"),
        lambda: ssm.get_parameters_by_path(Path=root, Recursive=True),
        lambda: ssm.delete_parameter(Name=f"{root}/a"),
        lambda: ssm.delete_parameter(Name=f"{root}/a"),
    ]
    return [_code(step) for step in steps]


# Where moto departs from AWS, strongroom follows AWS: moto stores a value its AllowedPattern
# refuses, which AWS answers with ParameterPatternMismatchException.
AWS_NOT_MOTO = {8: ("ParameterPatternMismatchException", "ok")}


def test_the_same_calls_against_moto_and_strongroom(
    server: StrongroomServer, moto: MotoServer
) -> None:
    root = f"/diff-{secrets.token_hex(3)}"
    ours = _scenario(aws_client("ssm", server.addr, REGION, DEV_KEY), root)
    theirs = _scenario(aws_client("ssm", moto.endpoint, REGION, DEV_KEY), root)
    assert_same_as_moto(ours, theirs, AWS_NOT_MOTO)


def test_ssm_canaries(tmp_path: Path) -> None:
    extra = ["--aws-access-key", ":".join(DEV_KEY), "--access-log"]
    server = StrongroomServer(tmp_path / "data", "ssm-canary", extra=extra).start()
    planted = [f"CANARY-ssm-{secrets.token_hex(12)}" for _ in range(2)]
    try:
        ssm = aws_client("ssm", server.addr, REGION, DEV_KEY)
        ssm.put_parameter(Name="/c/plain", Value=planted[0], Type="String")
        ssm.put_parameter(Name="/c/secure", Value=planted[1], Type="SecureString")
        ssm.get_parameters_by_path(Path="/c", WithDecryption=True)
        ssm.get_parameter_history(Name="/c/secure", WithDecryption=True)
    finally:
        server.stop()
    artifacts = {**read_tree(tmp_path / "data"), "server.log": server.log_path.read_bytes()}
    assert find_canaries(artifacts, planted) == []


def test_allowed_patterns_run_in_linear_time(ssm: Any) -> None:
    """A pattern that makes a backtracking engine run for ever ((a+)+$ against 'aaa…b') is
    answered at once; one RE2 cannot check is refused, not run."""
    import time

    name = f"/redos-{secrets.token_hex(3)}"
    started = time.monotonic()
    refused = _code(
        lambda: ssm.put_parameter(
            Name=name, Value="a" * 4000 + "b", Type="String", AllowedPattern="(a+)+$"
        )
    )
    assert refused == "ParameterPatternMismatchException" and time.monotonic() - started < 5
    backref = _code(
        lambda: ssm.put_parameter(Name=name, Value="aa", Type="String", AllowedPattern=r"(a)\1")
    )
    assert backref == "ValidationException"


def _label_scenario(ssm: Any, name: str) -> list[str]:
    steps: list[Callable[[], object]] = [
        lambda: ssm.put_parameter(Name=name, Value="1", Type="String"),
        lambda: ssm.put_parameter(Name=name, Value="2", Type="String", Overwrite=True),
        lambda: ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["stable"]),
        lambda: ssm.get_parameter(Name=f"{name}:stable"),
        lambda: ssm.label_parameter_version(Name=name, Labels=["stable"]),
        lambda: ssm.get_parameter(Name=f"{name}:nolabel"),
        lambda: ssm.label_parameter_version(Name=name, ParameterVersion=9, Labels=["x"]),
        lambda: ssm.unlabel_parameter_version(Name=name, ParameterVersion=2, Labels=["stable"]),
        lambda: ssm.get_parameter(Name=f"{name}:stable"),
    ]
    return [_code(step) for step in steps]


def test_labels(server: StrongroomServer, moto: MotoServer, ssm: Any) -> None:
    name = f"/labels-{secrets.token_hex(3)}/p"
    ssm.put_parameter(Name=name, Value="v1", Type="String")
    ssm.put_parameter(Name=name, Value="v2", Type="String", Overwrite=True)
    labelled = ssm.label_parameter_version(
        Name=name, ParameterVersion=1, Labels=["stable", "1bad", "awsReserved"]
    )
    assert labelled["ParameterVersion"] == 1
    assert sorted(labelled["InvalidLabels"]) == ["1bad", "awsReserved"]
    assert ssm.get_parameter(Name=f"{name}:stable")["Parameter"]["Value"] == "v1"
    ssm.label_parameter_version(Name=name, Labels=["stable"])  # moves to the newest version
    assert ssm.get_parameter(Name=f"{name}:stable")["Parameter"]["Value"] == "v2"
    history = ssm.get_parameter_history(Name=name)["Parameters"]
    assert [h["Labels"] for h in history] == [[], ["stable"]]
    removed = ssm.unlabel_parameter_version(Name=name, ParameterVersion=2, Labels=["stable", "x"])
    assert removed["RemovedLabels"] == ["stable"] and removed["InvalidLabels"] == ["x"]
    other = f"/labels-diff-{secrets.token_hex(3)}/p"
    ours = _label_scenario(aws_client("ssm", server.addr, REGION, DEV_KEY), other)
    theirs = _label_scenario(aws_client("ssm", moto.endpoint, REGION, DEV_KEY), other)
    assert_same_as_moto(ours, theirs, {})


def _filter_scenario(ssm: Any, root: str) -> list[str]:
    """Filtered reads by path and description, each answered with the names found or the
    error code."""
    ssm.put_parameter(Name=f"{root}/app/url", Value="u", Type="String")
    ssm.put_parameter(Name=f"{root}/app/token", Value="t", Type="SecureString")
    ssm.put_parameter(Name=f"{root}/app/list", Value="a,b", Type="StringList")
    ssm.put_parameter(Name=f"{root}/db/pw", Value="p", Type="SecureString")
    ssm.add_tags_to_resource(
        ResourceType="Parameter",
        ResourceId=f"{root}/app/url",
        Tags=[{"Key": "team", "Value": "pay"}],
    )

    def by_path(filters: list[dict[str, Any]], recursive: bool = True) -> str:
        def call() -> object:
            found = ssm.get_parameters_by_path(
                Path=root, Recursive=recursive, ParameterFilters=filters
            )["Parameters"]
            return sorted(p["Name"].removeprefix(root) for p in found)

        return _named(call)

    def described(filters: list[dict[str, Any]]) -> str:
        def call() -> object:
            found = ssm.describe_parameters(
                ParameterFilters=[
                    {"Key": "Path", "Option": "Recursive", "Values": [root]},
                    *filters,
                ]
            )["Parameters"]
            return sorted(p["Name"].removeprefix(root) for p in found)

        return _named(call)

    return [
        by_path([{"Key": "Type", "Values": ["SecureString"]}]),
        by_path([{"Key": "Type", "Option": "Equals", "Values": ["String", "StringList"]}]),
        by_path([{"Key": "tag:team", "Values": ["pay"]}]),
        by_path([{"Key": "tag:team"}]),
        by_path([{"Key": "Name", "Values": ["x"]}]),
        by_path([{"Key": "Path", "Values": [root]}]),
        by_path([{"Key": "Type", "Option": "Sideways", "Values": ["String"]}]),
        by_path([{"Key": "Type", "Values": ["String"]}, {"Key": "Type", "Values": ["String"]}]),
        by_path([{"Key": "Type"}]),
        described([{"Key": "Type", "Values": ["SecureString"]}]),
        described([{"Key": "Name", "Option": "BeginsWith", "Values": [f"{root}/app/t"]}]),
        described([{"Key": "Label", "Values": ["x"]}]),
    ]


def _named(call: Callable[[], object]) -> str:
    from botocore.exceptions import ClientError

    try:
        return repr(call())
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])


def test_parameter_filters_against_moto_and_strongroom(
    server: StrongroomServer, moto: MotoServer, ssm: Any
) -> None:
    root = f"/filters-{secrets.token_hex(3)}"
    ours = _filter_scenario(ssm, root)
    theirs = _filter_scenario(aws_client("ssm", moto.endpoint, REGION, DEV_KEY), root)
    assert ours == theirs
    assert ours[0] == repr(["/app/token", "/db/pw"]) and ours[4] == "InvalidFilterKey"
    # a label filter returns the labelled version, as it was
    ssm.put_parameter(Name=f"{root}/app/url", Value="u2", Type="String", Overwrite=True)
    ssm.label_parameter_version(Name=f"{root}/app/url", ParameterVersion=1, Labels=["stable"])
    found = ssm.get_parameters_by_path(
        Path=root, Recursive=True, ParameterFilters=[{"Key": "Label", "Values": ["stable"]}]
    )["Parameters"]
    assert [(p["Name"], p["Value"], p["Version"]) for p in found] == [(f"{root}/app/url", "u", 1)]


def test_parameter_policies_are_refused_not_ignored(ssm: Any) -> None:
    name = f"/policy-{secrets.token_hex(3)}"
    policy = (
        '[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2030-01-01T00:00:00Z"}}]'
    )
    assert (
        _code(
            lambda: ssm.put_parameter(
                Name=name, Value="v", Type="String", Tier="Advanced", Policies=policy
            )
        )
        == "InvalidPolicyTypeException"
    )
    assert _code(lambda: ssm.get_parameter(Name=name)) == "ParameterNotFound"  # nothing written


def test_concurrent_tags_and_labels_are_all_kept(server: StrongroomServer) -> None:
    """A parameter's tags and labels are one record each: writers that change them at once all
    land (compare-and-set, retried), none overwriting another."""
    name = f"/contended/{uuid.uuid4().hex[:8]}"
    clients = [aws_client("ssm", server.addr, REGION, DEV_KEY) for _ in range(8)]
    clients[0].put_parameter(Name=name, Value="1", Type="String")
    clients[0].put_parameter(Name=name, Value="2", Type="String", Overwrite=True)

    def change(index: int) -> None:
        tag = [{"Key": f"k{index}", "Value": "v"}]
        clients[index].add_tags_to_resource(ResourceType="Parameter", ResourceId=name, Tags=tag)
        version = 1 + index % 2
        clients[index].label_parameter_version(
            Name=name, ParameterVersion=version, Labels=[f"l{index}"]
        )

    with ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(change, range(len(clients))))
    tags = clients[0].list_tags_for_resource(ResourceType="Parameter", ResourceId=name)
    assert sorted(t["Key"] for t in tags["TagList"]) == [f"k{i}" for i in range(8)]
    history = clients[0].get_parameter_history(Name=name)["Parameters"]
    labels = {h["Version"]: sorted(h.get("Labels", [])) for h in history}
    assert labels == {1: ["l0", "l2", "l4", "l6"], 2: ["l1", "l3", "l5", "l7"]}


def test_what_moto_suite_found_missing(server: StrongroomServer) -> None:
    """Cases moto's own test suite found (docs/compat-aws.md): a region where nothing was ever
    put, an ARN as the name, a name asked twice, DataType, LastModifiedUser, unlabelling a
    version that does not exist, and the 100 versions Parameter Store keeps."""
    from botocore.exceptions import ClientError

    def code(call: Callable[[], object]) -> str:
        with pytest.raises(ClientError) as raised:
            call()
        return str(raised.value.response["Error"]["Code"])

    fresh = aws_client("ssm", server.addr, "ap-southeast-2", DEV_KEY)
    # nothing ever put in this region: SSM's own answer, never the store's words
    assert code(lambda: fresh.get_parameter(Name="/never/put")) == "ParameterNotFound"
    missing = fresh.get_parameters(Names=["/never/put"])
    assert missing["InvalidParameters"] == ["/never/put"]

    ssm = aws_client("ssm", server.addr, REGION, DEV_KEY)
    name = f"/moto-found/{uuid.uuid4().hex[:8]}"
    ssm.put_parameter(Name=name, Value="v1", Type="String")
    arn = ssm.get_parameter(Name=name)["Parameter"]["ARN"]
    assert ssm.get_parameter(Name=arn)["Parameter"]["Value"] == "v1"
    assert ssm.get_parameter(Name=f"{arn}:1")["Parameter"]["Version"] == 1
    other_account = arn.replace(arn.split(":")[4], "999999999999")
    assert code(lambda: ssm.get_parameter(Name=other_account)) == "ParameterNotFound"
    twice = ssm.get_parameters(Names=[name, name])
    assert [p["Name"] for p in twice["Parameters"]] == [name]
    put = partial(ssm.put_parameter, Name=f"{name}-d", Value="x", Type="String")
    for data_type in ("not_text", "aws:ec2:image2", "TEXT"):
        assert code(partial(put, DataType=data_type)) == "ValidationException"
    ssm.put_parameter(Name=f"{name}-d", Value="ami-12345678", Type="String", DataType="text")
    described = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])
    assert described["Parameters"][0]["LastModifiedUser"].startswith("arn:aws:iam::")
    assert (
        code(lambda: ssm.unlabel_parameter_version(Name=name, ParameterVersion=9, Labels=["a"]))
        == "ParameterVersionNotFound"
    )
    too_long = ["a" * 101]
    label = partial(ssm.label_parameter_version, Name=name, ParameterVersion=1)
    assert code(partial(label, Labels=too_long)) == "ValidationException"
    assert label(Labels=["9abc"])["InvalidLabels"] == ["9abc"]

    # 100 versions are kept; the oldest goes, unless a label holds it
    for value in range(2, 101):
        ssm.put_parameter(Name=name, Value=f"v{value}", Overwrite=True)
    ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["first"])
    assert (
        code(lambda: ssm.put_parameter(Name=name, Value="v101", Overwrite=True))
        == "ParameterMaxVersionLimitExceeded"
    )
    ssm.label_parameter_version(Name=name, ParameterVersion=50, Labels=["first"])
    ssm.put_parameter(Name=name, Value="v101", Overwrite=True)
    history = ssm.get_paginator("get_parameter_history").paginate(Name=name)
    versions = [p["Version"] for page in history for p in page["Parameters"]]
    assert len(versions) == 100 and min(versions) == 2 and max(versions) == 101
