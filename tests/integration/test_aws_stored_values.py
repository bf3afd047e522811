"""A value an AWS data model could not read back is refused when written, through every surface,
and one that is stored all the same (written before the check) fails alone, with a precise error,
on a real server through boto3 (issue 20, 10)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from botocore.exceptions import ClientError

from strongroom.config import ServerSettings
from strongroom.policy.grants import system_grant
from strongroom.server.app import create_app
from tests.helpers import AWS_DEV_KEY, aws_client, aws_dev_server

REGION = "us-east-1"
ROOT = "stored-values-root"
AUTH = {"Authorization": f"Bearer {ROOT}"}
POISON_BINARY = {"SecretBinary": "not base64!"}
POISON_PARAMETER = {"Value": "not a ciphertext", "Type": "SecureString"}


def _poison_behind_the_checks(data_dir: Path) -> None:
    """Store what the checks now refuse, as a server before them could: the server's own
    service with its value checks taken away, on the stopped server's data directory."""
    app = create_app(ServerSettings(data_dir, dev=True, root_token=ROOT))
    try:
        runtime = app.node.runtime
        assert runtime is not None
        runtime.secrets.value_checks.clear()
        secrets = runtime.secrets
        secrets.write_granted(system_grant(f"aws-{REGION}", "poisoned", "test"), POISON_BINARY)
        poisoned = system_grant(f"aws-ssm-{REGION}", "app/poisoned", "test")
        secrets.write_granted(poisoned, POISON_PARAMETER)
    finally:
        app.node.close()


def test_poisoned_values_are_refused_at_write_and_fail_alone(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with aws_dev_server(data_dir, ROOT) as server:
        sm = aws_client("secretsmanager", server.addr, REGION, AWS_DEV_KEY)
        ssm = aws_client("ssm", server.addr, REGION, AWS_DEV_KEY)
        sm.create_secret(Name="healthy", SecretBinary=b"\x00\x01binary")
        ssm.put_parameter(Name="/app/healthy", Value="fine", Type="SecureString")
        # every surface's write of a value the AWS model could not read is a 400
        writes = [
            ("PUT", f"/api/v1/secrets/aws-{REGION}/poisoned", {"data": POISON_BINARY}),
            ("POST", f"/v1/aws-{REGION}/data/poisoned", {"data": POISON_BINARY}),
            ("PUT", f"/api/v1/secrets/aws-ssm-{REGION}/app/poisoned", {"data": POISON_PARAMETER}),
            ("POST", f"/v1/aws-ssm-{REGION}/data/app/poisoned", {"data": POISON_PARAMETER}),
        ]
        for method, url, body in writes:
            answer = httpx.request(method, f"{server.addr}{url}", headers=AUTH, json=body)
            assert answer.status_code == 400, (url, answer.text)
        # a JSON document with SecretBinary and another key is a document, and reads back
        fine = httpx.put(
            f"{server.addr}/api/v1/secrets/aws-{REGION}/document",
            headers=AUTH,
            json={"data": {"SecretBinary": "!", "note": "x"}},
        )
        assert fine.status_code == 200
        assert sm.get_secret_value(SecretId="document")["SecretString"]
    _poison_behind_the_checks(data_dir)
    with aws_dev_server(data_dir, ROOT) as server:
        sm = aws_client("secretsmanager", server.addr, REGION, AWS_DEV_KEY)
        ssm = aws_client("ssm", server.addr, REGION, AWS_DEV_KEY)
        with pytest.raises(ClientError) as refused:
            sm.get_secret_value(SecretId="poisoned")
        assert refused.value.response["Error"]["Code"] == "DecryptionFailure"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert sm.get_secret_value(SecretId="healthy")["SecretBinary"] == b"\x00\x01binary"
        batch = sm.batch_get_secret_value(SecretIdList=["healthy", "poisoned"])
        assert [v["Name"] for v in batch["SecretValues"]] == ["healthy"]
        assert [(e["SecretId"], e["ErrorCode"]) for e in batch["Errors"]] == [
            ("poisoned", "DecryptionFailure")
        ]
        with pytest.raises(ClientError) as bad_parameter:
            ssm.get_parameter(Name="/app/poisoned", WithDecryption=True)
        assert bad_parameter.value.response["Error"]["Code"] == "InvalidKeyId"
        assert "/app/poisoned" in bad_parameter.value.response["Error"]["Message"]
        assert (
            ssm.get_parameter(Name="/app/healthy", WithDecryption=True)["Parameter"]["Value"]
            == "fine"
        )
        listed = ssm.get_parameters_by_path(Path="/app", WithDecryption=False)["Parameters"]
        assert sorted(p["Name"] for p in listed) == ["/app/healthy", "/app/poisoned"]
        with pytest.raises(ClientError) as by_path:
            ssm.get_parameters_by_path(Path="/app", WithDecryption=True)
        assert by_path.value.response["Error"]["Code"] == "InvalidKeyId"
