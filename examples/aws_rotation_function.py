"""A Secrets Manager rotation function served as a webhook: what strongroom's RotateSecret calls
for ``RotationLambdaARN`` ``arn:aws:lambda:REGION:ACCOUNT:function:NAME`` once the webhook is
registered under NAME (docs/compat-aws.md, "Rotation functions").

    export AWS_ENDPOINT_URL=http://127.0.0.1:8200 AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=…
    export ROTATION_SIGNING_KEY=…          # the "key" field of the signing secret
    python examples/aws_rotation_function.py --port 8300
    strongroom aws-lambda create rotate-db --url http://127.0.0.1:8300/ \\
        --signing-secret secret/ops/rotation-hmac

Each request is one step of AWS's event, ``{"Step", "SecretId", "ClientRequestToken"}``, signed
with ``X-Strongroom-Signature``; an unsigned or badly signed one is refused. ``handle`` is the
function itself, written as AWS's rotation template writes one: it checks the version's stage,
puts a new password under AWSPENDING in createSecret, reads it back in testSecret, and moves
AWSCURRENT in finishSecret unless it is there already. setSecret is where a real function would
change the password in the database."""

from __future__ import annotations

import argparse
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
from botocore.exceptions import ClientError

from strongroom.rotation.signing import SIGNATURE_HEADER, verify_signature


def handle(sm: Any, event: dict[str, Any]) -> None:
    """One rotation step for the secret ``event["SecretId"]``, through Secrets Manager's API."""
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    metadata = sm.describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled"):
        raise ValueError(f"rotation is not enabled for {arn}")
    versions = metadata["VersionIdsToStages"]
    if token not in versions:
        raise ValueError(f"version {token} has no stage for the rotation of {arn}")
    if "AWSCURRENT" in versions[token]:
        return  # already current: the rotation is done
    if "AWSPENDING" not in versions[token]:
        raise ValueError(f"version {token} is not AWSPENDING for {arn}")
    if step == "createSecret":
        current = json.loads(
            sm.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]
        )
        try:
            sm.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            password = sm.get_random_password(ExcludePunctuation=True)["RandomPassword"]
            sm.put_secret_value(
                SecretId=arn,
                ClientRequestToken=token,
                SecretString=json.dumps({**current, "password": password}),
                VersionStages=["AWSPENDING"],
            )
    elif step == "setSecret":
        pass  # here: ALTER USER … PASSWORD, with the AWSPENDING value
    elif step == "testSecret":
        pending = sm.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        if "password" not in json.loads(pending["SecretString"]):
            raise ValueError("the pending value has no password")
    elif step == "finishSecret":
        current_version = next(v for v, s in versions.items() if "AWSCURRENT" in s)
        sm.update_secret_version_stage(
            SecretId=arn,
            VersionStage="AWSCURRENT",
            MoveToVersionId=token,
            RemoveFromVersionId=current_version,
        )
    else:
        raise ValueError(f"unknown step {step!r}")


def serve(port: int, signing_key: bytes) -> None:
    sm = boto3.client("secretsmanager")

    class Step(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if not verify_signature(signing_key, body, self.headers.get(SIGNATURE_HEADER, "")):
                self._answer(401)  # not strongroom's: nothing is done
                return
            try:
                handle(sm, json.loads(body))
            except (ClientError, ValueError, KeyError) as exc:
                print(f"step failed: {type(exc).__name__}: {exc}", flush=True)
                self._answer(500)
                return
            self._answer(200)

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Step)
    print(f"rotation function on http://127.0.0.1:{server.server_address[1]}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="A rotation function as a webhook.")
    parser.add_argument("--port", type=int, default=8300)
    args = parser.parse_args()
    serve(args.port, os.environ["ROTATION_SIGNING_KEY"].encode())
