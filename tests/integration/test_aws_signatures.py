"""SigV4 on a real server, with botocore's signer as the oracle (issue 20, 1, 2 and 5): the key a
signature is verified with is the key the request acts as; a signature binds the operation, the
service and a real region; each service's data stays out of the others' reach; and a request that
cannot authenticate is refused before its body is read."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.helpers import (
    AWS_DEV_KEY,
    StrongroomServer,
    aws_client,
    aws_dev_server,
    issue_aws_key,
)

REGION = "us-east-1"
ROOT = {"Authorization": "Bearer sig-root"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    with aws_dev_server(tmp_path_factory.mktemp("aws-sig") / "data", "sig-root") as started:
        yield started


@pytest.fixture(scope="module")
def attacker(server: StrongroomServer) -> tuple[str, str]:
    """A key that may only describe ``public/*`` secrets."""
    policy = 'path "aws-us-east-1/metadata/public/*" { capabilities = ["read"] }'
    return issue_aws_key(server, "sig-root", "mallory", policy)


@pytest.fixture(scope="module")
def crown_jewel(server: StrongroomServer) -> str:
    sm = aws_client("secretsmanager", server.addr, REGION, AWS_DEV_KEY)
    sm.create_secret(Name="prod/db", SecretString="sig-canary-value")
    return "prod/db"


def _request(server: StrongroomServer, target: str, body: bytes, **headers: str) -> AWSRequest:
    return AWSRequest(
        method="POST",
        url=f"{server.addr}/",
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target, **headers},
    )


def _send(request: AWSRequest) -> httpx.Response:
    prepared = request.prepare()
    return httpx.post(prepared.url, content=prepared.body, headers=dict(prepared.headers))


def _signed(
    server: StrongroomServer,
    key: tuple[str, str],
    target: str,
    body: bytes,
    *,
    service: str = "secretsmanager",
    region: str = REGION,
) -> AWSRequest:
    request = _request(server, target, body)
    SigV4Auth(Credentials(*key), service, region).add_auth(request)
    return request


def _code(response: httpx.Response) -> str:
    return str(response.json().get("__type", "ok")) if response.status_code != 200 else "ok"


def test_a_signature_verified_with_one_key_never_acts_as_another(
    server: StrongroomServer, attacker: tuple[str, str], crown_jewel: str
) -> None:
    body = b'{"SecretId": "prod/db"}'
    request = _signed(server, attacker, "secretsmanager.GetSecretValue", body)
    honest = _send(request)
    assert _code(honest) == "AccessDeniedException"  # mallory may not read it
    authorization = request.headers["Authorization"]
    victim = f"Credential={AWS_DEV_KEY[0]}/{datetime.now(UTC):%Y%m%d}/{REGION}/secretsmanager/"
    victim += "aws4_request"
    forgeries = [
        authorization.replace("Credential=", f"{victim}, Credential=", 1),
        authorization + f", {victim}",
        authorization.replace("AWS4-HMAC-SHA256 ", f"AWS4-HMAC-SHA256 Note={victim}, ", 1),
    ]
    for forged in forgeries:
        request.headers.replace_header("Authorization", forged)
        answer = _send(request)
        assert answer.status_code == 400, answer.text
        assert _code(answer) == "IncompleteSignatureException"
        assert "sig-canary-value" not in answer.text


def test_a_signature_made_for_one_operation_does_not_replay_as_another(
    server: StrongroomServer, crown_jewel: str
) -> None:
    """Signed over host alone (as the attack was), then given another X-Amz-Target."""
    body = b'{"SecretId": "prod/db"}'
    request = AWSRequest(method="POST", url=f"{server.addr}/", data=body)
    SigV4Auth(Credentials(*AWS_DEV_KEY), "secretsmanager", REGION).add_auth(request)
    request.headers["X-Amz-Target"] = "secretsmanager.GetSecretValue"
    request.headers["Content-Type"] = "application/x-amz-json-1.1"
    answer = _send(request)
    assert answer.status_code == 400
    assert "must be signed" in answer.json()["message"]
    assert "sig-canary-value" not in answer.text


def test_a_signature_scoped_to_another_service_is_refused(
    server: StrongroomServer, crown_jewel: str
) -> None:
    body = b'{"SecretId": "prod/db"}'
    answer = _send(
        _signed(server, AWS_DEV_KEY, "secretsmanager.GetSecretValue", body, service="kms")
    )
    assert _code(answer) == "InvalidSignatureException"
    assert "correct service: 'secretsmanager'" in answer.json()["message"]


@pytest.mark.parametrize("region", ["ssm-us-east-1", "kms-us-east-1", "local", "x" * 40])
def test_a_region_that_is_not_aws_s_reaches_nothing(server: StrongroomServer, region: str) -> None:
    ssm = aws_client("ssm", server.addr, REGION, AWS_DEV_KEY)
    ssm.put_parameter(Name="/app/flag", Value="original", Type="String", Overwrite=True)
    sm = aws_client("secretsmanager", server.addr, region, AWS_DEV_KEY)
    with pytest.raises(ClientError) as refused:
        sm.put_secret_value(SecretId="app/flag", SecretString="overwritten")
    assert refused.value.response["Error"]["Code"] == "InvalidSignatureException"
    with pytest.raises(ClientError):
        sm.create_secret(Name="app/flag", SecretString="overwritten")
    assert ssm.get_parameter(Name="/app/flag")["Parameter"]["Value"] == "original"


def test_real_regions_are_separate(server: StrongroomServer) -> None:
    for region in ("eu-west-1", "us-gov-west-1", "cn-north-1"):
        sm = aws_client("secretsmanager", server.addr, region, AWS_DEV_KEY)
        sm.create_secret(Name="regional", SecretString=region)
    for region in ("eu-west-1", "us-gov-west-1", "cn-north-1"):
        sm = aws_client("secretsmanager", server.addr, region, AWS_DEV_KEY)
        assert sm.get_secret_value(SecretId="regional")["SecretString"] == region


def _raw_exchange(server: StrongroomServer, head: bytes, timeout: float = 5.0) -> bytes:
    """Send a request's head announcing a 1 MiB body, send none of the body, and return what
    the server answers in ``timeout`` seconds (b"" if it waits for the body)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(head)
        chunks = b""
        deadline = time.monotonic() + timeout
        while not _complete(chunks) and time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks += chunk
        return chunks


def _complete(answer: bytes) -> bool:
    """The head and the whole body (its content-length) are in."""
    head, sep, body = answer.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return True


def _head(extra: dict[str, str]) -> bytes:
    headers = {
        "Host": "127.0.0.1",
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "secretsmanager.GetSecretValue",
        "Content-Length": str(1024 * 1024),
        **extra,
    }
    lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return f"POST / HTTP/1.1\r\n{lines}\r\n".encode()


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "MissingAuthenticationTokenException"),
        (
            "AWS4-HMAC-SHA256 Credential=AKSRNOSUCHKEY000000/{date}/us-east-1/secretsmanager/"
            "aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
            "Signature=" + "0" * 64,
            "UnrecognizedClientException",
        ),
        ("AWS4-HMAC-SHA256 Credential=x", "IncompleteSignatureException"),
    ],
    ids=["missing", "unknown-key", "malformed"],
)
def test_a_request_that_cannot_authenticate_is_answered_before_its_body(
    server: StrongroomServer, authorization: str | None, code: str
) -> None:
    now = datetime.now(UTC)  # the credential's date is today's: a fixed one expires at midnight
    extra = {"X-Amz-Date": f"{now:%Y%m%dT%H%M%SZ}"}
    if authorization:
        extra["Authorization"] = authorization.replace("{date}", f"{now:%Y%m%d}")
    answer = _raw_exchange(server, _head(extra))
    assert answer.startswith(b"HTTP/1.1 4"), answer[:200]
    assert code.encode() in answer


def test_unverified_bodies_are_bounded(server: StrongroomServer) -> None:
    """Bodies waiting for their signature to be checked are bounded in number: with every slot
    held by a stalled sender, the next request is told to retry, and the server still serves
    once the stalled senders go."""
    from strongroom.server.request_body import MAX_UNVERIFIED_BODIES

    key = AWS_DEV_KEY[0]
    authorization = (
        f"AWS4-HMAC-SHA256 Credential={key}/{datetime.now(UTC):%Y%m%d}/us-east-1/"
        "secretsmanager/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
        "Signature=" + "0" * 64
    )
    head = _head(
        {"X-Amz-Date": f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}", "Authorization": authorization}
    )
    stalled: list[socket.socket] = []
    try:
        for _ in range(MAX_UNVERIFIED_BODIES):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sock.sendall(head)
            stalled.append(sock)
        time.sleep(0.5)
        answer = _raw_exchange(server, head, timeout=15)
        assert b"ThrottlingException" in answer, answer[:300]
    finally:
        for sock in stalled:
            sock.close()
    sm = aws_client("secretsmanager", server.addr, REGION, AWS_DEV_KEY)
    deadline = time.monotonic() + 10
    while True:
        try:
            sm.list_secrets()
            break
        except ClientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.parametrize(
    ("target", "body"),
    [
        ("secretsmanager.GetSecretValue", b'{"SecretId": 7}'),
        ("secretsmanager.DescribeSecret", b"{}"),
        ("secretsmanager.GetSecretValue", b'{"SecretId": "' + b"x" * 2049 + b'"}'),
        ("secretsmanager.BatchGetSecretValue", b'{"SecretIdList": ["a", 7]}'),
        ("TrentService.DescribeKey", b'{"KeyId": ["not", "a", "string"]}'),
        ("AmazonSSM.GetParameter", b'{"Name": 5}'),
        ("AmazonSSM.GetParametersByPath", b"{}"),
    ],
)
def test_ids_of_the_wrong_type_are_refused_on_the_wire(
    server: StrongroomServer, target: str, body: bytes
) -> None:
    """What boto3 would not send, sent anyway: the surface parses ids into strings and refuses
    anything else with a ValidationException, before any backend call."""
    prefix = target.partition(".")[0]
    service = {"TrentService": "kms", "AmazonSSM": "ssm"}.get(prefix, "secretsmanager")
    answer = _send(_signed(server, AWS_DEV_KEY, target, body, service=service))
    assert answer.status_code == 400 and _code(answer) == "ValidationException", answer.text
