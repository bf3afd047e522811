"""RotateSecret with a rotation function: a webhook registered under the Lambda function's name
receives createSecret/setSecret/testSecret/finishSecret as Lambda's events and does its work
through strongroom's AWS API, as a Secrets Manager rotation function does; and rotation
schedules (rate and cron expressions)."""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from strongroom.rotation.signing import SIGNATURE_HEADER, verify_signature
from tests.helpers import AWS_DEV_KEY, StrongroomServer, aws_client
from tests.helpers import aws_outcome as _code

REGION = "us-west-2"
_EXAMPLE_PATH = Path(__file__).parents[2] / "examples" / "aws_rotation_function.py"
_spec = importlib.util.spec_from_file_location("aws_rotation_function", _EXAMPLE_PATH)
assert _spec is not None and _spec.loader is not None
EXAMPLE = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(EXAMPLE)
ROOT = {"Authorization": "Bearer fn-root"}
SIGNING_KEY = secrets.token_hex(32)


def _function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:000000000000:function:{name}"


class RotationFunction:
    """The example's rotation function (examples/aws_rotation_function.py, written as AWS's
    rotation template writes one) behind a webhook in this process, with faults to inject:
    ``fail_at`` answers that step with a 400; ``skip_create`` leaves createSecret without a new
    value."""

    def __init__(self, endpoint: str) -> None:
        self.sm = aws_client("secretsmanager", endpoint, REGION, AWS_DEV_KEY)
        self.events: list[dict[str, Any]] = []
        self.bad_signatures = 0
        self.fail_at = ""
        self.skip_create = False
        function = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                signature = self.headers.get(SIGNATURE_HEADER, "")
                if not verify_signature(SIGNING_KEY.encode(), body, signature):
                    function.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                event = json.loads(body)
                function.events.append(event)
                status = 200
                if event["Step"] == function.fail_at:
                    status = 400
                else:
                    try:
                        function.handle(event)
                    except (ClientError, ValueError, AssertionError):
                        status = 500
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/rotate"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def handle(self, event: dict[str, Any]) -> None:
        if self.skip_create and event["Step"] == "createSecret":
            return  # answers 2xx, having put nothing
        EXAMPLE.handle(self.sm, event)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    started = StrongroomServer(
        tmp_path_factory.mktemp("aws-fn") / "data",
        "fn-root",
        # the function listens on loopback, which the egress policy refuses unless allowed
        ["--aws-access-key", ":".join(AWS_DEV_KEY), "--egress-allow", "127.0.0.1/32"],
    ).start()
    httpx.put(
        f"{started.addr}/api/v1/secrets/secret/ops/rotation-hmac",
        headers=ROOT,
        json={"data": {"key": SIGNING_KEY}},
    ).raise_for_status()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def function(server: StrongroomServer) -> Iterator[RotationFunction]:
    running = RotationFunction(server.addr)
    name = f"rotate-{secrets.token_hex(3)}"
    httpx.post(
        f"{server.addr}/api/v1/sys/aws/lambda-functions",
        headers=ROOT,
        json={
            "name": name,
            "url": running.url,
            "signing_secret": "secret/ops/rotation-hmac",
            "retries": 0,
        },
    ).raise_for_status()
    running.name = name  # type: ignore[attr-defined]
    yield running
    running.close()


def test_a_rotation_function_rotates_a_secret(
    server: StrongroomServer, function: RotationFunction
) -> None:
    sm = aws_client("secretsmanager", server.addr, REGION, AWS_DEV_KEY)
    name = f"db/{secrets.token_hex(4)}"
    made = sm.create_secret(Name=name, SecretString='{"password": "old"}')
    arn = _function_arn(function.name)  # type: ignore[attr-defined]
    answer = sm.rotate_secret(SecretId=name, RotationLambdaARN=arn)
    steps = [e["Step"] for e in function.events]
    assert steps == ["createSecret", "setSecret", "testSecret", "finishSecret"]
    tokens = {e["ClientRequestToken"] for e in function.events}
    assert len(tokens) == 1 and {e["SecretId"] for e in function.events} == {made["ARN"]}
    token = tokens.pop()
    assert answer["VersionId"] == token and function.bad_signatures == 0
    current = sm.get_secret_value(SecretId=name)
    assert current["VersionId"] == token and current["SecretString"] != '{"password": "old"}'
    previous = sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")
    assert previous["SecretString"] == '{"password": "old"}'
    described = sm.describe_secret(SecretId=name)
    assert described["RotationEnabled"] and described["RotationLambdaARN"] == arn
    assert described["VersionIdsToStages"][token][0] == "AWSCURRENT"

    # a second rotation names no function: the secret's own is called again
    function.events.clear()
    again = sm.rotate_secret(SecretId=name)
    assert [e["Step"] for e in function.events][-1] == "finishSecret"
    assert sm.get_secret_value(SecretId=name)["VersionId"] == again["VersionId"] != token


@pytest.mark.parametrize("failure", ["testSecret", "skip_create"])
def test_a_failed_function_leaves_the_current_value(
    server: StrongroomServer, function: RotationFunction, failure: str
) -> None:
    sm = aws_client("secretsmanager", server.addr, REGION, AWS_DEV_KEY)
    name = f"db/{secrets.token_hex(4)}"
    sm.create_secret(Name=name, SecretString="unchanged")
    if failure == "skip_create":
        function.skip_create = True
    else:
        function.fail_at = failure
    arn = _function_arn(function.name)  # type: ignore[attr-defined]
    try:
        sm.rotate_secret(SecretId=name, RotationLambdaARN=arn)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "InvalidRequestException"
        if failure == "skip_create":
            assert "AWSPENDING" in exc.response["Error"]["Message"]
    else:
        raise AssertionError("the rotation should have failed")
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "unchanged"
    assert function.events[0]["Step"] == "createSecret"


def test_functions_are_registered_with_sudo_and_named_exactly(
    server: StrongroomServer, tmp_path: Path
) -> None:
    sm = aws_client("secretsmanager", server.addr, REGION, AWS_DEV_KEY)
    name = f"db/{secrets.token_hex(4)}"
    sm.create_secret(Name=name, SecretString="v")
    assert (
        _code(lambda: sm.rotate_secret(SecretId=name, RotationLambdaARN=_function_arn("nobody")))
        == "InvalidRequestException"
    )
    assert (
        _code(lambda: sm.rotate_secret(SecretId=name, RotationLambdaARN="arn:aws:s3:::bucket"))
        == "InvalidParameterException"
    )
    bad = [
        {"name": "no spaces", "url": "https://x.example", "signing_secret": "secret/ops/k"},
        {"name": "f", "url": "ftp://x.example", "signing_secret": "secret/ops/k"},
        {"name": "f", "url": "https://x.example", "signing_secret": "nokey"},
        {"name": "f", "url": "https://x.example", "signing_secret": "secret/k", "timeout": 99},
    ]
    for body in bad:
        answer = httpx.post(
            f"{server.addr}/api/v1/sys/aws/lambda-functions", headers=ROOT, json=body
        )
        assert answer.status_code == 400, body
    # the CLI, as an operator would use it
    env = {"STRONGROOM_ADDR": server.addr, "STRONGROOM_TOKEN": "fn-root", "PATH": "/usr/bin"}
    cli = [sys.executable, "-m", "strongroom"]
    made = subprocess.run(
        [
            *cli,
            "aws-lambda",
            "create",
            "cli-fn",
            "--url",
            "https://rotator.example/hook",
            "--signing-secret",
            "secret/ops/rotation-hmac",
            "--format",
            "json",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(made.stdout)["name"] == "cli-fn"
    listed = subprocess.run(
        [*cli, "aws-lambda", "list", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "cli-fn" in {f["name"] for f in json.loads(listed.stdout)["functions"]}
    subprocess.run(
        [*cli, "aws-lambda", "delete", "cli-fn"], env=env, check=True, capture_output=True
    )
    gone = subprocess.run(
        [*cli, "aws-lambda", "delete", "cli-fn", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert gone.returncode != 0 and "error" in json.loads(gone.stdout or gone.stderr)
    # an issued key without sudo cannot register one
    policy = 'path "sys/aws/lambda-functions" { capabilities = ["create", "update", "read"] }'
    httpx.put(
        f"{server.addr}/api/v1/sys/policies/acl/fn-nosudo", headers=ROOT, json={"policy": policy}
    ).raise_for_status()
    token = httpx.post(
        f"{server.addr}/api/v1/auth/token/create", headers=ROOT, json={"policies": ["fn-nosudo"]}
    ).json()["auth"]["client_token"]
    refused = httpx.post(
        f"{server.addr}/api/v1/sys/aws/lambda-functions",
        headers={"Authorization": f"Bearer {token}"},
        json={"name": "x", "url": "https://x.example", "signing_secret": "secret/ops/k"},
    )
    assert refused.status_code == 403


def test_rotation_schedules(server: StrongroomServer) -> None:
    sm = aws_client("secretsmanager", server.addr, REGION, AWS_DEV_KEY)
    name = f"sched/{secrets.token_hex(4)}"
    sm.create_secret(Name=name, SecretString="v")
    sm.rotate_secret(
        SecretId=name,
        RotationRules={"ScheduleExpression": "cron(0 8 ? * MON-FRI *)", "Duration": "2h"},
        RotateImmediately=False,
    )
    described = sm.describe_secret(SecretId=name)
    assert described["RotationRules"] == {
        "ScheduleExpression": "cron(0 8 ? * MON-FRI *)",
        "Duration": "2h",
    }
    following = described["NextRotationDate"].astimezone(UTC)
    assert following.weekday() < 5 and (following.hour, following.minute) == (8, 0)
    sm.rotate_secret(
        SecretId=name,
        RotationRules={"ScheduleExpression": "rate(6 hours)"},
        RotateImmediately=False,
    )
    assert sm.describe_secret(SecretId=name)["RotationRules"] == {
        "ScheduleExpression": "rate(6 hours)"
    }
    sm.rotate_secret(
        SecretId=name, RotationRules={"AutomaticallyAfterDays": 7}, RotateImmediately=False
    )
    assert sm.describe_secret(SecretId=name)["RotationRules"] == {"AutomaticallyAfterDays": 7}
    for rules in (
        {"ScheduleExpression": "cron(0 8 L * ? *)"},
        {"ScheduleExpression": "cron(0 8 ? * MON 2030)"},
        {"ScheduleExpression": "rate(1 hours)"},
        {"ScheduleExpression": "every day"},
        {"ScheduleExpression": "rate(3 days)", "AutomaticallyAfterDays": 3},
        {"ScheduleExpression": "rate(3 days)", "Duration": "30h"},
    ):
        assert (
            _code(
                lambda r=rules: sm.rotate_secret(  # type: ignore[misc]
                    SecretId=name, RotationRules=r, RotateImmediately=False
                )
            )
            == "InvalidParameterException"
        ), rules
    assert sm.describe_secret(SecretId=name)["RotationRules"] == {"AutomaticallyAfterDays": 7}


def test_the_example_rotation_function_as_a_process(server: StrongroomServer) -> None:
    """examples/aws_rotation_function.py as an operator runs it: its own process, boto3 pointed
    at strongroom, registered with the CLI, called by RotateSecret."""
    from tests.helpers import free_port

    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STRONGROOM_"))},
        "AWS_ENDPOINT_URL": server.addr,
        "AWS_ACCESS_KEY_ID": AWS_DEV_KEY[0],
        "AWS_SECRET_ACCESS_KEY": AWS_DEV_KEY[1],
        "AWS_DEFAULT_REGION": REGION,
        "ROTATION_SIGNING_KEY": SIGNING_KEY,
    }
    function = subprocess.Popen(
        [sys.executable, str(_EXAMPLE_PATH), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert function.stdout is not None
        assert function.stdout.readline().startswith("rotation function on")
        name = f"example-{secrets.token_hex(3)}"
        cli_env = {
            "STRONGROOM_ADDR": server.addr,
            "STRONGROOM_TOKEN": "fn-root",
            "PATH": "/usr/bin",
        }
        subprocess.run(
            [
                sys.executable,
                "-m",
                "strongroom",
                "aws-lambda",
                "create",
                name,
                "--url",
                f"http://127.0.0.1:{port}/",
                "--signing-secret",
                "secret/ops/rotation-hmac",
            ],
            env=cli_env,
            check=True,
            capture_output=True,
        )
        sm = aws_client("secretsmanager", server.addr, REGION, AWS_DEV_KEY)
        secret = f"example/{secrets.token_hex(4)}"
        sm.create_secret(Name=secret, SecretString='{"username": "app", "password": "old"}')
        rotated = sm.rotate_secret(SecretId=secret, RotationLambdaARN=_function_arn(name))
        current = sm.get_secret_value(SecretId=secret)
        assert current["VersionId"] == rotated["VersionId"]
        value = json.loads(current["SecretString"])
        assert value["username"] == "app" and value["password"] != "old"
        # a request not signed with the key is refused, and changes nothing
        event = {"Step": "finishSecret", "SecretId": current["ARN"], "ClientRequestToken": "x"}
        forged = httpx.post(f"http://127.0.0.1:{port}/", json=event)
        assert forged.status_code == 401
    finally:
        function.terminate()
        function.wait(timeout=30)
        if function.stdout is not None:
            function.stdout.close()
