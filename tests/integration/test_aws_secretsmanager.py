"""AWS Secrets Manager on a real strongroom server, through boto3 and the AWS CLI, side by side
with moto's server mode, and as a view of the same secrets the native and Vault APIs see."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.canary import find_canaries, read_tree
from tests.helpers import (
    AWS_DEV_KEY,
    MotoServer,
    StrongroomServer,
    assert_same_as_moto,
    audit_entries,
    aws_client,
    aws_dev_server,
)
from tests.helpers import (
    aws_outcome as _code,
)

DEV_KEY = AWS_DEV_KEY
REGION = "us-east-1"
ROOT = {"Authorization": "Bearer sm-root", "X-Vault-Token": "sm-root"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    with aws_dev_server(tmp_path_factory.mktemp("aws-sm") / "data", "sm-root") as started:
        yield started


def _sm(endpoint: str, key: tuple[str, str] = DEV_KEY) -> Any:
    return aws_client("secretsmanager", endpoint, REGION, key)


@pytest.fixture
def sm(server: StrongroomServer) -> Any:
    return _sm(server.addr)


def _name(label: str) -> str:
    return f"{label}/{secrets.token_hex(4)}"


def test_values_versions_and_stages(sm: Any) -> None:
    name = _name("app")
    text = '{"user": "app",  "password": "s3cret"}'  # kept byte for byte, spaces too
    made = sm.create_secret(
        Name=name, SecretString=text, Description="db", Tags=[{"Key": "t", "Value": "1"}]
    )
    assert made["ARN"].startswith(f"arn:aws:secretsmanager:{REGION}:000000000000:secret:{name}-")
    first = made["VersionId"]
    read = sm.get_secret_value(SecretId=name)
    assert read["SecretString"] == text and read["VersionStages"] == ["AWSCURRENT"]
    assert read["VersionId"] == first
    token = str(uuid.uuid4())
    second = sm.put_secret_value(SecretId=made["ARN"], SecretString="v2", ClientRequestToken=token)
    assert second["VersionId"] == token
    again = sm.put_secret_value(SecretId=name, SecretString="v2", ClientRequestToken=token)
    assert again["VersionId"] == token  # the same request: the same version, nothing written
    assert (
        _code(
            lambda: sm.put_secret_value(SecretId=name, SecretString="v3", ClientRequestToken=token)
        )
        == "ResourceExistsException"
    )
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "v2"
    assert sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")["SecretString"] == text
    assert sm.get_secret_value(SecretId=name, VersionId=first)["SecretString"] == text
    assert (
        _code(
            lambda: sm.get_secret_value(SecretId=name, VersionId=first, VersionStage="AWSCURRENT")
        )
        == "InvalidRequestException"
    )
    partial = made["ARN"].rsplit("-", 1)[0]  # an ARN without the random suffix resolves too
    assert sm.get_secret_value(SecretId=partial)["SecretString"] == "v2"
    stages = sm.describe_secret(SecretId=name)["VersionIdsToStages"]
    assert stages == {first: ["AWSPREVIOUS"], token: ["AWSCURRENT"]}
    versions = sm.list_secret_version_ids(SecretId=name)["Versions"]
    assert [v["VersionId"] for v in versions] == [token, first]
    updated = sm.update_secret(SecretId=name, Description="new", SecretString="v3")
    assert "VersionId" in updated and sm.describe_secret(SecretId=name)["Description"] == "new"
    binary = bytes(range(256))
    sm.create_secret(Name=name + "-bin", SecretBinary=binary)
    assert sm.get_secret_value(SecretId=name + "-bin")["SecretBinary"] == binary
    assert _code(lambda: sm.create_secret(Name=name, SecretString="x")) == "ResourceExistsException"
    assert _code(lambda: sm.create_secret(Name="/lead", SecretString="x")) == "ValidationException"
    assert (
        _code(lambda: sm.get_secret_value(SecretId=_name("missing"))) == "ResourceNotFoundException"
    )


def test_delete_restore_tags_list_and_batch(sm: Any) -> None:
    names = [_name("list") for _ in range(3)]
    for i, name in enumerate(names):
        sm.create_secret(Name=name, SecretString=f"v{i}", Tags=[{"Key": "team", "Value": f"t{i}"}])
    found = sm.list_secrets(Filters=[{"Key": "name", "Values": [names[0]]}])["SecretList"]
    assert [s["Name"] for s in found] == [names[0]]
    by_tag = sm.list_secrets(Filters=[{"Key": "tag-value", "Values": ["t2"]}])["SecretList"]
    assert names[2] in [s["Name"] for s in by_tag]
    page = sm.list_secrets(MaxResults=1)
    assert len(page["SecretList"]) == 1 and "NextToken" in page
    sm.tag_resource(SecretId=names[0], Tags=[{"Key": "env", "Value": "prod"}])
    sm.untag_resource(SecretId=names[0], TagKeys=["team"])
    assert sm.describe_secret(SecretId=names[0])["Tags"] == [{"Key": "env", "Value": "prod"}]
    sm.untag_resource(SecretId=names[0], TagKeys=["env"])
    assert sm.describe_secret(SecretId=names[0])["Tags"] == []  # once tagged: [], as AWS
    untagged = _name("plain")
    sm.create_secret(Name=untagged, SecretString="v")
    assert "Tags" not in sm.describe_secret(SecretId=untagged)  # never tagged: left out
    batch = sm.batch_get_secret_value(SecretIdList=[names[0], names[1], _name("nope")])
    assert sorted(v["SecretString"] for v in batch["SecretValues"]) == ["v0", "v1"]
    assert [e["ErrorCode"] for e in batch["Errors"]] == ["ResourceNotFoundException"]
    deleted = sm.delete_secret(SecretId=names[1], RecoveryWindowInDays=7)
    assert "DeletionDate" in deleted
    assert _code(lambda: sm.get_secret_value(SecretId=names[1])) == "InvalidRequestException"
    assert names[1] not in [s["Name"] for s in sm.list_secrets()["SecretList"]]
    planned = sm.list_secrets(IncludePlannedDeletion=True)["SecretList"]
    assert names[1] in [s["Name"] for s in planned]
    assert (
        _code(lambda: sm.create_secret(Name=names[1], SecretString="x"))
        == "InvalidRequestException"
    )
    sm.restore_secret(SecretId=names[1])
    assert sm.get_secret_value(SecretId=names[1])["SecretString"] == "v1"
    assert (
        _code(lambda: sm.delete_secret(SecretId=names[2], RecoveryWindowInDays=3))
        == "InvalidParameterException"
    )
    assert (
        _code(
            lambda: sm.delete_secret(
                SecretId=names[2], RecoveryWindowInDays=7, ForceDeleteWithoutRecovery=True
            )
        )
        == "InvalidParameterException"
    )
    sm.delete_secret(SecretId=names[2], ForceDeleteWithoutRecovery=True)
    assert _code(lambda: sm.get_secret_value(SecretId=names[2])) == "ResourceNotFoundException"
    sm.create_secret(Name=names[2], SecretString="reborn")  # a name force-deleted is free again
    password = sm.get_random_password(PasswordLength=40, ExcludePunctuation=True)["RandomPassword"]
    assert len(password) == 40 and password.isalnum()


def test_concurrent_changes_to_one_secret_are_all_kept(server: StrongroomServer) -> None:
    """Tags and each version's ClientRequestToken live in one record per secret: writers that
    change it at once must all land (compare-and-set, retried), none overwriting another."""
    name = _name("contended")
    clients = [_sm(server.addr) for _ in range(8)]
    clients[0].create_secret(Name=name, SecretString="v0")
    tokens = [str(uuid.uuid4()) for _ in clients]

    def write(index: int) -> None:
        client = clients[index]
        client.tag_resource(SecretId=name, Tags=[{"Key": f"k{index}", "Value": "v"}])
        client.put_secret_value(
            SecretId=name, SecretString=f"v{index}", ClientRequestToken=tokens[index]
        )

    with ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(write, range(len(clients))))
    described = clients[0].describe_secret(SecretId=name)
    assert sorted(t["Key"] for t in described["Tags"]) == [f"k{i}" for i in range(8)]
    listed = clients[0].list_secret_version_ids(SecretId=name, IncludeDeprecated=True)["Versions"]
    assert set(tokens) <= {v["VersionId"] for v in listed}
    for index, token in enumerate(tokens):
        got = clients[0].get_secret_value(SecretId=name, VersionId=token)
        assert got["SecretString"] == f"v{index}"


def test_one_data_model_across_surfaces(server: StrongroomServer, sm: Any) -> None:
    """boto3 -> the native API, the Vault API and the CLI; the Vault API -> boto3."""
    name = _name("shared")
    sm.create_secret(Name=name, SecretString="from-boto3")
    native = httpx.get(f"{server.addr}/api/v1/secrets/aws-{REGION}/{name}", headers=ROOT)
    assert native.json()["data"] == {"SecretString": "from-boto3"}
    vault = httpx.get(f"{server.addr}/v1/aws-{REGION}/data/{name}", headers=ROOT)
    assert vault.json()["data"]["data"] == {"SecretString": "from-boto3"}
    env = {**os.environ, "STRONGROOM_ADDR": server.addr, "STRONGROOM_TOKEN": "sm-root"}
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "strongroom",
            "kv",
            "get",
            "--field",
            "SecretString",
            f"aws-{REGION}/{name}",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert cli.stdout.strip() == "from-boto3", cli.stderr
    other = _name("from-vault")
    written = httpx.post(
        f"{server.addr}/v1/aws-{REGION}/data/{other}",
        headers=ROOT,
        json={"data": {"user": "u", "pw": "p"}},
    )
    assert written.status_code == 200
    read = sm.get_secret_value(SecretId=other)
    assert json.loads(read["SecretString"]) == {"user": "u", "pw": "p"}
    listed = sm.list_secrets(Filters=[{"Key": "name", "Values": [other]}])["SecretList"]
    assert [s["Name"] for s in listed] == [other]  # written elsewhere, listed here too
    assert sm.describe_secret(SecretId=other)["Name"] == other


def test_an_issued_key_reads_only_what_its_policy_grants(server: StrongroomServer, sm: Any) -> None:
    mine, theirs = _name("team-a"), _name("team-b")
    sm.create_secret(Name=mine, SecretString="a")
    sm.create_secret(Name=theirs, SecretString="b")
    policy = f'path "aws-{REGION}/data/{mine}" {{ capabilities = ["read"] }}'
    httpx.put(
        f"{server.addr}/api/v1/sys/policies/acl/sm-a", headers=ROOT, json={"policy": policy}
    ).raise_for_status()
    issued = httpx.post(
        f"{server.addr}/api/v1/sys/aws/credentials", headers=ROOT, json={"policies": ["sm-a"]}
    ).json()["data"]
    reader = _sm(server.addr, (issued["access_key_id"], issued["secret_access_key"]))
    assert reader.get_secret_value(SecretId=mine)["SecretString"] == "a"
    assert _code(lambda: reader.get_secret_value(SecretId=theirs)) == "AccessDeniedException"
    assert (
        _code(lambda: reader.get_secret_value(SecretId=_name("absent"))) == "AccessDeniedException"
    )
    assert (
        _code(lambda: reader.put_secret_value(SecretId=mine, SecretString="x"))
        == "AccessDeniedException"
    )
    assert [s["Name"] for s in reader.list_secrets()["SecretList"]] == [mine]


def test_the_aws_cli_reads_a_secret(server: StrongroomServer, sm: Any, tmp_path: Path) -> None:
    name = _name("cli")
    sm.create_secret(Name=name, SecretString="from-the-cli")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": DEV_KEY[0],
        "AWS_SECRET_ACCESS_KEY": DEV_KEY[1],
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": server.addr,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    read = subprocess.run(
        [
            "aws",
            "secretsmanager",
            "get-secret-value",
            "--secret-id",
            name,
            "--query",
            "SecretString",
            "--output",
            "text",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )
    assert read.returncode == 0 and read.stdout.strip() == "from-the-cli", read.stderr
    missing = subprocess.run(
        ["aws", "secretsmanager", "get-secret-value", "--secret-id", _name("none")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )
    assert missing.returncode != 0 and "ResourceNotFoundException" in missing.stderr


def _scenario(sm: Any, name: str) -> list[str]:
    token = "a" * 32
    steps: list[Callable[[], object]] = [
        lambda: sm.create_secret(Name=name, SecretString="v1"),
        lambda: sm.create_secret(Name=name, SecretString="v1"),
        lambda: sm.get_secret_value(SecretId=name),
        lambda: sm.put_secret_value(SecretId=name, SecretString="v2", ClientRequestToken=token),
        lambda: sm.put_secret_value(SecretId=name, SecretString="v2", ClientRequestToken=token),
        lambda: sm.put_secret_value(SecretId=name, SecretString="v3", ClientRequestToken=token),
        lambda: sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS"),
        lambda: sm.get_secret_value(SecretId=name, VersionStage="AWSPENDING"),
        lambda: sm.get_secret_value(SecretId=name + "-missing"),
        lambda: sm.describe_secret(SecretId=name),
        lambda: sm.tag_resource(SecretId=name, Tags=[{"Key": "k", "Value": "v"}]),
        lambda: sm.delete_secret(SecretId=name, RecoveryWindowInDays=3),
        lambda: sm.delete_secret(SecretId=name, RecoveryWindowInDays=7),
        lambda: sm.get_secret_value(SecretId=name),
        lambda: sm.put_secret_value(SecretId=name, SecretString="v4"),
        lambda: sm.restore_secret(SecretId=name),
        lambda: sm.get_secret_value(SecretId=name),
        lambda: sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True),
        lambda: sm.get_secret_value(SecretId=name),
    ]
    return [_code(step) for step in steps]


# Where moto departs from AWS, strongroom follows AWS: moto writes a new version of a secret
# scheduled for deletion, which AWS refuses ("You can't perform this operation on the secret
# because it was marked for deletion.").
AWS_NOT_MOTO = {14: ("InvalidRequestException", "ok")}


def test_the_same_calls_against_moto_and_strongroom(
    server: StrongroomServer, moto: MotoServer
) -> None:
    name = _name("diff")
    ours = _scenario(_sm(server.addr), name)
    theirs = _scenario(_sm(moto.endpoint), name)
    assert_same_as_moto(ours, theirs, AWS_NOT_MOTO)


def test_secrets_manager_canaries(tmp_path: Path) -> None:
    extra = ["--aws-access-key", ":".join(DEV_KEY), "--access-log"]
    server = StrongroomServer(tmp_path / "data", "sm-canary", extra=extra).start()
    planted = [f"CANARY-sm-{secrets.token_hex(12)}" for _ in range(3)]
    try:
        sm = _sm(server.addr)
        sm.create_secret(Name="c/one", SecretString=planted[0])
        sm.put_secret_value(SecretId="c/one", SecretBinary=planted[1].encode())
        assert sm.get_secret_value(SecretId="c/one")["SecretBinary"] == planted[1].encode()
        sm.batch_get_secret_value(SecretIdList=["c/one"])
        _code(lambda: sm.put_secret_value(SecretId="c/absent", SecretString=planted[2]))
    finally:
        server.stop()
    artifacts = {**read_tree(tmp_path / "data"), "server.log": server.log_path.read_bytes()}
    assert find_canaries(artifacts, planted) == []


def test_dev_reset_wipes_every_region(server: StrongroomServer, sm: Any) -> None:
    """It wipes what the tests before it made; every test here makes its own secrets."""
    sm.create_secret(Name=_name("reset"), SecretString="x")
    east_kms = aws_client("kms", server.addr, REGION, DEV_KEY)
    west = aws_client("secretsmanager", server.addr, "eu-west-1", DEV_KEY)
    east_kms.create_key()
    west.create_secret(Name=_name("reset"), SecretString="y")
    reset = httpx.post(f"{server.addr}/api/v1/sys/dev/reset", headers=ROOT)
    assert reset.status_code == 200 and reset.json()["data"]["namespaces"] >= 3
    assert sm.list_secrets()["SecretList"] == [] and west.list_secrets()["SecretList"] == []
    assert east_kms.list_keys()["Keys"] == []
    sm.create_secret(Name="after/reset", SecretString="fresh")  # a fresh account, usable at once
    assert sm.get_secret_value(SecretId="after/reset")["SecretString"] == "fresh"
    nobody = httpx.post(f"{server.addr}/api/v1/sys/dev/reset")
    assert nobody.status_code == 401


def test_dev_reset_is_refused_outside_dev_mode(tmp_path: Path) -> None:
    from strongroom.auth import Identity
    from strongroom.config import ServerSettings
    from strongroom.errors import BadRequest
    from strongroom.server.node import Node

    node = Node(ServerSettings(tmp_path / "data", seal="file", seal_key_file=tmp_path / "k"))
    node.seal_manager.initialize()
    node.seal_manager.auto_unseal()
    try:
        runtime = node._open()
        with pytest.raises(BadRequest, match="dev mode only"):
            runtime.services.dev_reset.reset(Identity.system())
    finally:
        node.close()


def test_rotate_secret_with_the_default_rotator(sm: Any) -> None:
    name = _name("rotate")
    sm.create_secret(Name=name, SecretString='{"username": "app", "password": "old"}')
    first = sm.get_secret_value(SecretId=name)["VersionId"]
    rotated = sm.rotate_secret(SecretId=name, RotationRules={"AutomaticallyAfterDays": 30})
    current = sm.get_secret_value(SecretId=name)
    assert current["VersionId"] == rotated["VersionId"] != first
    value = json.loads(current["SecretString"])
    assert (
        value["username"] == "app" and value["password"] != "old" and len(value["password"]) == 32
    )
    previous = sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")
    assert json.loads(previous["SecretString"])["password"] == "old"
    described = sm.describe_secret(SecretId=name)
    assert described["RotationEnabled"] and described["RotationRules"] == {
        "AutomaticallyAfterDays": 30
    }
    assert "NextRotationDate" in described and "LastRotatedDate" in described
    token = str(uuid.uuid4())  # RotateSecret's ClientRequestToken names the new version
    again = sm.rotate_secret(SecretId=name, ClientRequestToken=token)
    assert again["VersionId"] == token == sm.get_secret_value(SecretId=name)["VersionId"]
    repeated = sm.rotate_secret(SecretId=name, ClientRequestToken=token)  # the same request
    assert repeated["VersionId"] == token
    every = sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)["Versions"]
    assert len(every) == 3  # the first value and two rotations: the repeat rotated nothing
    sm.cancel_rotate_secret(SecretId=name)
    assert not sm.describe_secret(SecretId=name)["RotationEnabled"]
    unknown = "arn:aws:lambda:us-east-1:000000000000:function:no-such-rotator"
    assert _code(lambda: sm.rotate_secret(SecretId=name, RotationLambdaARN=unknown)) == (
        "InvalidRequestException"
    )


def test_the_seeds_rotate_secret_example(tmp_path: Path) -> None:
    """The seed's code as it is: rotate_secret naming a Lambda, whose handler calls
    update_secret. Here the "Lambda" is a rotator registered in strongroom under the function's
    name, in a server embedded in this process."""
    import threading
    import time

    import uvicorn

    from strongroom.config import ServerSettings
    from strongroom.rotation.rotators import CallableRotator, RotationContext
    from strongroom.server.app import create_app
    from tests.helpers import free_port

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    secrets_manager = aws_client("secretsmanager", endpoint, REGION, DEV_KEY)

    def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
        # (the seed's function, verbatim in what it does)
        new_secret = "new_secret_value"
        secrets_manager.update_secret(SecretId="my_secret", SecretString=new_secret)
        return {"statusCode": 200, "statusMessage": "OK"}

    def create(ctx: RotationContext) -> dict[str, Any]:
        event = {"Step": "createSecret", "SecretId": "my_secret", "ClientRequestToken": ctx.token}
        assert lambda_handler(event, None)["statusCode"] == 200
        return ctx.read_secret(f"{ctx.namespace}/{ctx.path}")  # what the function wrote

    settings = ServerSettings(
        tmp_path / "data", port=port, dev=True, root_token="seed-root", aws_dev_key=DEV_KEY
    )
    app = create_app(settings, rotators=[CallableRotator("rotate_secret", create=create)])
    embedded = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=embedded.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not embedded.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        secrets_manager.create_secret(Name="my_secret", SecretString="old_secret_value")
        # Rotate a secret (the seed's call)
        secrets_manager.rotate_secret(
            SecretId="my_secret",
            RotationLambdaARN="arn:aws:lambda:region:account-id:function:rotate_secret",
        )
        assert secrets_manager.get_secret_value(SecretId="my_secret")["SecretString"] == (
            "new_secret_value"
        )
    finally:
        embedded.should_exit = True
        thread.join(timeout=30)
        app.node.close()


def test_a_rotation_functions_steps_by_hand(sm: Any) -> None:
    """What a Secrets Manager rotation function does: createSecret puts the new value under
    AWSPENDING; readers keep AWSCURRENT; finishSecret moves AWSCURRENT to it."""
    name = _name("by-hand")
    first = sm.create_secret(Name=name, SecretString="old")["VersionId"]
    token = str(uuid.uuid4())
    sm.put_secret_value(
        SecretId=name, ClientRequestToken=token, SecretString="new", VersionStages=["AWSPENDING"]
    )
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "old"
    assert sm.get_secret_value(SecretId=name, VersionStage="AWSPENDING")["SecretString"] == "new"
    assert (
        _code(
            lambda: sm.update_secret_version_stage(
                SecretId=name, VersionStage="AWSCURRENT", MoveToVersionId=token
            )
        )
        == "InvalidParameterException"
    )  # it names the version holding AWSCURRENT, or nothing moves
    sm.update_secret_version_stage(
        SecretId=name, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=first
    )
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "new"
    stages = sm.describe_secret(SecretId=name)["VersionIdsToStages"]
    assert stages == {first: ["AWSPREVIOUS"], token: ["AWSCURRENT", "AWSPENDING"]}  # as AWS
    sm.update_secret_version_stage(SecretId=name, VersionStage="blue", MoveToVersionId=first)
    assert sm.get_secret_value(SecretId=name, VersionStage="blue")["SecretString"] == "old"
    # a stage that is no strongroom label (upper case here) is kept by the AWS API itself
    sm.update_secret_version_stage(SecretId=name, VersionStage="Blue", MoveToVersionId=first)
    sm.update_secret_version_stage(SecretId=name, VersionStage="current", MoveToVersionId=token)
    assert sm.get_secret_value(SecretId=name, VersionStage="Blue")["SecretString"] == "old"
    stages = sm.describe_secret(SecretId=name)["VersionIdsToStages"]
    assert stages == {
        first: ["blue", "AWSPREVIOUS", "Blue"],
        token: ["AWSCURRENT", "AWSPENDING", "current"],
    }
    sm.update_secret_version_stage(SecretId=name, VersionStage="Blue", RemoveFromVersionId=first)
    assert (
        _code(lambda: sm.get_secret_value(SecretId=name, VersionStage="Blue"))
        == "ResourceNotFoundException"
    )
    assert (
        _code(
            lambda: sm.update_secret_version_stage(
                SecretId=name, VersionStage="tab\there", MoveToVersionId=first
            )
        )
        == "ValidationException"
    )


def _staging_scenario(sm: Any, name: str) -> list[str]:
    first = sm.create_secret(Name=name, SecretString="old")["VersionId"]
    token = "b" * 32
    steps: list[Callable[[], object]] = [
        lambda: sm.put_secret_value(
            SecretId=name,
            ClientRequestToken=token,
            SecretString="new",
            VersionStages=["AWSPENDING"],
        ),
        lambda: sm.get_secret_value(SecretId=name, VersionStage="AWSPENDING"),
        lambda: sm.update_secret_version_stage(
            SecretId=name, VersionStage="AWSCURRENT", MoveToVersionId=token
        ),
        lambda: sm.update_secret_version_stage(
            SecretId=name,
            VersionStage="AWSCURRENT",
            MoveToVersionId=token,
            RemoveFromVersionId=first,
        ),
        lambda: sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS"),
        lambda: sm.get_secret_value(SecretId=name, VersionStage="AWSPENDING"),
        lambda: sm.update_secret_version_stage(
            SecretId=name, VersionStage="AWSCURRENT", MoveToVersionId="c" * 32
        ),
    ]
    return [_code(step) for step in steps]


def test_staging_against_moto_and_strongroom(server: StrongroomServer, moto: MotoServer) -> None:
    name = _name("stages")
    ours = _staging_scenario(_sm(server.addr), name)
    theirs = _staging_scenario(_sm(moto.endpoint), name)
    assert_same_as_moto(ours, theirs, {})


def test_batch_get_by_filters(sm: Any) -> None:
    prefix = _name("batch")
    for i in range(3):
        sm.create_secret(Name=f"{prefix}/{i}", SecretString=f"v{i}")
    first = sm.batch_get_secret_value(
        Filters=[{"Key": "name", "Values": [prefix + "/"]}], MaxResults=2
    )
    assert [v["SecretString"] for v in first["SecretValues"]] == ["v0", "v1"]
    rest = sm.batch_get_secret_value(
        Filters=[{"Key": "name", "Values": [prefix + "/"]}], NextToken=first["NextToken"]
    )
    assert [v["SecretString"] for v in rest["SecretValues"]] == ["v2"] and "NextToken" not in rest
    both = lambda: sm.batch_get_secret_value(  # noqa: E731
        SecretIdList=[f"{prefix}/0"], Filters=[{"Key": "name", "Values": [prefix]}]
    )
    assert _code(both) == "InvalidParameterException"


def test_a_value_read_is_audited_with_its_version_metadata_in_clear(
    server: StrongroomServer, sm: Any
) -> None:
    """As a KV read's version number and times: the secret's names, its version and when that
    version was made are kept in clear; the value is HMAC'd."""
    name = _name("audited-read")
    value = f"audited-{secrets.token_hex(8)}"
    sm.create_secret(Name=name, SecretString=value)
    read = sm.get_secret_value(SecretId=name)
    entries = audit_entries(server.data_dir / "audit.log")
    [answered] = [
        e
        for e in entries
        if e.get("type") == "response"
        and e.get("operation") == "secretsmanagerGetSecretValue"
        and e.get("response_metadata", {}).get("Name") == name
    ]
    clear = answered["response_metadata"]
    assert clear["ARN"] == read["ARN"] and clear["VersionId"] == read["VersionId"]
    assert clear["VersionStages"] == ["AWSCURRENT"]
    assert clear["CreatedDate"] == read["CreatedDate"].timestamp()
    assert answered["data"]["SecretString"].startswith("hmac-sha256:")
    assert value not in (server.data_dir / "audit.log").read_text()
