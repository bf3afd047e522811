"""The SigV4 verifier against signatures made by botocore itself (the signer boto3 and the AWS
CLI use), in the header and the presigned forms, and every way a signature fails."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from strongroom.server.aws.sigv4 import SignatureError, verify

SECRETS = {"AKSRTESTKEY0000001": "secret-of-key-1"}
BODY = json.dumps({"KeyId": "alias/app"}).encode()


def _request(**headers: str) -> AWSRequest:
    return AWSRequest(
        method="POST",
        url="http://127.0.0.1:8200/",
        data=BODY,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "TrentService.DescribeKey",
            **headers,
        },
    )


def _signed(
    secret: str = "secret-of-key-1",  # noqa: S107 (the tests' own)
    key: str = "AKSRTESTKEY0000001",
    **headers: str,
) -> AWSRequest:
    request = _request(**headers)
    SigV4Auth(Credentials(key, secret), "kms", "eu-west-1").add_auth(request)
    return request


def _verify(request: AWSRequest, *, body: bytes = BODY, at: datetime | None = None) -> Any:
    url = urlsplit(request.url)
    headers = [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
    if not any(k == b"host" for k, _ in headers):
        headers.append((b"host", url.netloc.encode()))
    return verify(
        request.method,
        url.path or "/",
        url.query,
        headers,
        body,
        SECRETS.get,
        at or datetime.now(UTC),
    )


def test_a_botocore_signature_verifies_and_names_its_scope() -> None:
    signed = _verify(_signed())
    assert (signed.access_key_id, signed.region, signed.service) == (
        "AKSRTESTKEY0000001",
        "eu-west-1",
        "kms",
    )


def test_a_presigned_request_verifies_until_it_expires() -> None:
    request = _request()
    credentials = Credentials("AKSRTESTKEY0000001", "secret-of-key-1")
    SigV4QueryAuth(credentials, "kms", "eu-west-1", 60).add_auth(request)
    assert "X-Amz-Signature=" in request.url and "Authorization" not in request.headers
    # botocore moves a presigned request's parameters into the query: the body is empty.
    assert _verify(request, body=b"").region == "eu-west-1"
    with pytest.raises(SignatureError, match="Signature expired"):
        _verify(request, body=b"", at=datetime.now(UTC) + timedelta(seconds=120))


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda r: _verify(_signed(secret="wrong")), "InvalidSignatureException"),
        (lambda r: _verify(_signed(key="AKSRUNKNOWN0000000")), "UnrecognizedClientException"),
        (lambda r: _verify(r, body=BODY + b" "), "InvalidSignatureException"),
        (lambda r: _verify(_request()), "MissingAuthenticationTokenException"),
        (
            lambda r: _verify(r, at=datetime.now(UTC) + timedelta(minutes=6)),
            "InvalidSignatureException",
        ),
        (
            lambda r: _verify(_signed(**{"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})),
            "InvalidSignatureException",
        ),
    ],
    ids=["wrong-secret", "unknown-key", "body-changed", "unsigned", "skew", "unsigned-payload"],
)
def test_every_failure_has_awss_code(change: Any, code: str) -> None:
    with pytest.raises(SignatureError) as refused:
        change(_signed())
    assert refused.value.code == code


def test_a_changed_signed_header_fails() -> None:
    request = _signed()
    request.headers.replace_header("X-Amz-Target", "TrentService.Decrypt")
    with pytest.raises(SignatureError, match="does not match"):
        _verify(request)


def test_clock_skew_names_the_times() -> None:
    with pytest.raises(SignatureError, match=r"is now earlier than .* - 5 min\.\)"):
        _verify(_signed(), at=datetime.now(UTC) + timedelta(minutes=10))


@pytest.mark.parametrize(
    "authorization",
    [
        "AWS4-HMAC-SHA1 Credential=a/b/c/d/aws4_request, SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKSR/20261129/eu-west-1/kms/aws4_request",
        "AWS4-HMAC-SHA256 Credential=AKSR/x, SignedHeaders=host, Signature=" + "0" * 64,
        "AWS4-HMAC-SHA256 Credential=AKSR/20261129/r/kms/aws4_request, SignedHeaders=x-amz-date, "
        "Signature=" + "0" * 64,
        "AWS4-HMAC-SHA256 " + "x" * 5000,
    ],
    ids=["algorithm", "no-signature", "short-scope", "host-unsigned", "too-long"],
)
def test_malformed_authorization_is_incomplete(authorization: str) -> None:
    request = _request(Authorization=authorization, **{"X-Amz-Date": "20261129T000000Z"})
    with pytest.raises(SignatureError) as refused:
        _verify(request, at=datetime(2026, 11, 29, tzinfo=UTC))
    assert refused.value.code == "IncompleteSignatureException"
