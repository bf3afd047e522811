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

from strongroom.compat.aws.sigv4 import SignatureError, is_region, parse, verify

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


def _verify(
    request: AWSRequest,
    *,
    body: bytes = BODY,
    at: datetime | None = None,
    service: str = "kms",
    extra: tuple[tuple[bytes, bytes], ...] = (),
) -> Any:
    url = urlsplit(request.url)
    headers = [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
    if not any(k == b"host" for k, _ in headers):
        headers.append((b"host", url.netloc.encode()))
    return verify(
        parse(url.query, [*headers, *extra]),
        method=request.method,
        path=url.path or "/",
        body=body,
        service=service,
        secret_of=SECRETS.get,
        now=at or datetime.now(UTC),
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
        "AWS4-HMAC-SHA256 Credential=AKSR/20261129/eu-west-1/kms/aws4_request, "
        "SignedHeaders=x-amz-date, "
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


# -- one parse of the credential, for verification and identity alike (issue 20, 1)
ATTACKER = ("AKSRATTACKERKEY0001", "attackers-own-secret")
VICTIM = "AKSRVICTIMKEY000001"


def _attacker_signed() -> AWSRequest:
    SECRETS[ATTACKER[0]] = ATTACKER[1]
    SECRETS[VICTIM] = "the-victims-secret"
    return _signed(secret=ATTACKER[1], key=ATTACKER[0])


def _with_authorization(request: AWSRequest, authorization: str) -> AWSRequest:
    request.headers.replace_header("Authorization", authorization)
    return request


@pytest.mark.parametrize(
    "forge",
    [
        lambda a: a.replace(
            "Credential=",
            f"Credential={VICTIM}/20261129/eu-west-1/kms/aws4_request, Credential=",
            1,
        ),
        lambda a: a + f", Credential={VICTIM}/20261129/eu-west-1/kms/aws4_request",
        lambda a: a.replace("AWS4-HMAC-SHA256 ", f"AWS4-HMAC-SHA256 X=Credential={VICTIM}/, ", 1),
        lambda a: a + f", Extra=Credential={VICTIM}/",
        lambda a: a + ", SignedHeaders=host",
        lambda a: a + ",",
    ],
    ids=["victim-first", "victim-last", "hidden-field", "unknown-field", "repeated", "empty"],
)
def test_an_authorization_header_with_more_than_its_three_fields_is_refused(forge: Any) -> None:
    request = _attacker_signed()
    _with_authorization(request, forge(request.headers["Authorization"]))
    with pytest.raises(SignatureError) as refused:
        _verify(request)
    assert refused.value.code == "IncompleteSignatureException"


def test_the_verified_key_is_the_key_the_request_acts_as() -> None:
    signed = _verify(_attacker_signed())
    assert signed.access_key_id == ATTACKER[0]


def test_a_second_authorization_header_is_refused() -> None:
    request = _attacker_signed()
    victim = f"AWS4-HMAC-SHA256 Credential={VICTIM}/20261129/eu-west-1/kms/aws4_request, "
    victim += "SignedHeaders=host, Signature=" + "0" * 64
    for extra in ((b"authorization", victim.encode()),):
        with pytest.raises(SignatureError, match="once"):
            _verify(request, extra=(extra,))


def _presigned(**params: str) -> AWSRequest:
    request = _request()
    credentials = Credentials(*ATTACKER)
    SECRETS[ATTACKER[0]] = ATTACKER[1]
    SigV4QueryAuth(credentials, "kms", "eu-west-1", 60).add_auth(request)
    if params:
        request.url += "&" + "&".join(f"{k}={v}" for k, v in params.items())
    return request


def test_a_presigned_request_with_a_repeated_parameter_is_refused() -> None:
    assert _verify(_presigned(), body=b"").access_key_id == ATTACKER[0]
    forged = _presigned(
        **{"X-Amz-Credential": f"{VICTIM}%2F20261129%2Feu-west-1%2Fkms%2Faws4_request"}
    )
    with pytest.raises(SignatureError, match="once") as refused:
        _verify(forged, body=b"")
    assert refused.value.code == "IncompleteSignatureException"


def test_a_header_signature_and_a_presigned_one_together_are_refused() -> None:
    request = _presigned()
    request.headers["Authorization"] = _attacker_signed().headers["Authorization"]
    with pytest.raises(SignatureError, match="Only one authentication mechanism"):
        _verify(request, body=b"")


# -- the signature binds what is done (issue 20, 2)
def _signed_without(header: str) -> AWSRequest:
    """Signed by botocore with ``header`` left out, then added: a replay of another request's
    signature with this header changed."""
    request = _request()
    value = request.headers[header]
    del request.headers[header]
    SigV4Auth(Credentials("AKSRTESTKEY0000001", "secret-of-key-1"), "kms", "eu-west-1").add_auth(
        request
    )
    request.headers[header] = value
    return request


@pytest.mark.parametrize("header", ["X-Amz-Target", "Content-Type"])
def test_a_request_whose_target_or_content_type_is_unsigned_is_refused(header: str) -> None:
    with pytest.raises(SignatureError, match=f"'{header.lower()}' must be signed") as refused:
        _verify(_signed_without(header))
    assert refused.value.code == "IncompleteSignatureException"


def test_a_request_whose_date_is_unsigned_is_refused() -> None:
    request = _signed()
    authorization = request.headers["Authorization"].replace(";x-amz-date", "")
    _with_authorization(request, authorization)
    with pytest.raises(SignatureError, match="'x-amz-date' must be signed"):
        _verify(request)


def test_a_repeated_target_header_is_refused() -> None:
    with pytest.raises(SignatureError, match="x-amz-target header must be sent once"):
        _verify(_signed(), extra=((b"x-amz-target", b"TrentService.Decrypt"),))


def test_a_signature_scoped_to_another_service_is_refused() -> None:
    with pytest.raises(SignatureError, match="correct service: 'secretsmanager'") as refused:
        _verify(_signed(), service="secretsmanager")
    assert refused.value.code == "InvalidSignatureException"


@pytest.mark.parametrize(
    "region",
    ["ssm-us-east-1", "kms-us-east-1", "aws-us-east-1", "local", "US-EAST-1", "eu-west-1 "],
)
def test_a_region_that_is_not_aws_s_is_refused(region: str) -> None:
    request = _request()
    SigV4Auth(Credentials("AKSRTESTKEY0000001", "secret-of-key-1"), "kms", region).add_auth(request)
    with pytest.raises(SignatureError, match="valid region") as refused:
        _verify(request)
    assert refused.value.code == "InvalidSignatureException"


def test_every_region_botocore_knows_is_accepted() -> None:
    """botocore's own endpoint data is the oracle for what a region name looks like."""
    from botocore.loaders import create_loader

    endpoints = create_loader().load_data("endpoints")
    regions = {r for p in endpoints["partitions"] for r in p["regions"]}
    assert len(regions) > 30
    assert [r for r in sorted(regions) if not is_region(r)] == []
    for region in ("us-east-1", "us-gov-west-1", "cn-north-1", "eu-isoe-west-1"):
        request = _request()
        credentials = Credentials("AKSRTESTKEY0000001", "secret-of-key-1")
        SigV4Auth(credentials, "kms", region).add_auth(request)
        assert _verify(request).region == region


def test_a_path_a_query_and_untrimmed_header_values_are_canonical_as_botocore_makes_them() -> None:
    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1:8200/some%20path/x?b=2&a=1&a2=%20v",
        data=BODY,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "TrentService.DescribeKey",
            "X-Amz-Meta-Note": "  several   spaces\tand a tab  ",
        },
    )
    SigV4Auth(Credentials("AKSRTESTKEY0000001", "secret-of-key-1"), "kms", "eu-west-1").add_auth(
        request
    )
    assert "x-amz-meta-note" in request.headers["Authorization"]
    assert _verify(request).access_key_id == "AKSRTESTKEY0000001"


def test_a_signed_header_sent_twice_is_canonical_as_botocore_makes_it() -> None:
    request = _request()
    request.headers["X-Amz-Meta-Note"] = "first  one"
    request.headers["X-Amz-Meta-Note"] = " second"  # a second value, as a second header line
    assert len(request.headers.get_all("X-Amz-Meta-Note")) == 2
    SigV4Auth(Credentials("AKSRTESTKEY0000001", "secret-of-key-1"), "kms", "eu-west-1").add_auth(
        request
    )
    assert _verify(request).access_key_id == "AKSRTESTKEY0000001"
    # the values' order is signed too
    url = urlsplit(request.url)
    headers = [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
    notes = [h for h in headers if h[0] == b"x-amz-meta-note"]
    others = [h for h in headers if h[0] != b"x-amz-meta-note"]
    with pytest.raises(SignatureError, match="signature we calculated does not match"):
        verify(
            parse(url.query, [*others, *reversed(notes), (b"host", url.netloc.encode())]),
            method="POST",
            path="/",
            body=BODY,
            service="kms",
            secret_of=SECRETS.get,
            now=datetime.now(UTC),
        )


def test_a_signed_header_that_was_not_sent_is_named() -> None:
    request = _signed(**{"X-Amz-Meta-B": "b", "X-Amz-Meta-A": "a"})
    url = urlsplit(request.url)
    sent = [
        (k.lower().encode(), v.encode())
        for k, v in request.headers.items()
        if not k.lower().startswith("x-amz-meta-")
    ]
    with pytest.raises(SignatureError, match="signed header 'x-amz-meta-a' was not sent"):
        parse(url.query, [*sent, (b"host", url.netloc.encode())])
