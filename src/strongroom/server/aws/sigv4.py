"""AWS Signature Version 4, verified: the header form (``Authorization: AWS4-HMAC-SHA256 …``) and
the presigned form (``X-Amz-Signature`` in the query), for the JSON services (KMS, Secrets
Manager, SSM). The payload is always signed: ``UNSIGNED-PAYLOAD`` is refused, as these services
refuse it. Each failure is AWS's own code and words (``SignatureError``)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote

__all__ = ["MAX_PRESIGNED_SECONDS", "MAX_SKEW", "SignatureError", "Signed", "verify"]

MAX_SKEW = timedelta(minutes=5)
MAX_PRESIGNED_SECONDS = 7 * 24 * 3600
_ALGORITHM = "AWS4-HMAC-SHA256"
_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_MAX_AUTHORIZATION = 4096
_AMZ_DATE = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")
_SIGNING_KEY_ENTRIES = 1024
_SIGNING_KEYS: dict[tuple[str, str, str, str], bytes] = {}


class SignatureError(Exception):
    """A request whose signature does not hold: ``code`` and ``message`` are AWS's."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Signed:
    """What a verified signature proves: the caller's access key, and the scope it signed."""

    access_key_id: str
    region: str
    service: str


@dataclass(frozen=True)
class _Claim:
    access_key_id: str
    date: str  # YYYYMMDD of the scope
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str
    expires: int | None  # presigned only


def verify(
    method: str,
    path: str,
    query: str,
    headers: Sequence[tuple[bytes, bytes]],
    body: bytes,
    secret_of: Callable[[str], str | None],
    now: datetime,
) -> Signed:
    """The request's signature, checked; raises SignatureError. ``secret_of(access_key_id)`` is
    the secret key of an access key strongroom issued (None: no such key)."""
    by_name: dict[str, list[str]] = {}
    for name, value in headers:  # ASGI servers give lower-case names
        by_name.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
    params = parse_qsl(query, keep_blank_values=True) if query else []
    claim = _claim(by_name, dict(params))
    _check_time(claim, now)
    secret = secret_of(claim.access_key_id)
    if secret is None:
        raise SignatureError(
            "UnrecognizedClientException", "The security token included in the request is invalid."
        )
    payload = by_name.get("x-amz-content-sha256", [""])[0]
    body_hash = _sha256(body)
    if payload == "UNSIGNED-PAYLOAD" or (payload and payload != body_hash):
        raise SignatureError(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided.",
        )
    canonical = "\n".join(
        [
            method,
            _canonical_path(path),
            _canonical_query(params, presigned=claim.expires is not None),
            "".join(f"{h}:{_trimmed(by_name.get(h, []))}\n" for h in claim.signed_headers),
            ";".join(claim.signed_headers),
            body_hash,
        ]
    )
    scope = f"{claim.date}/{claim.region}/{claim.service}/aws4_request"
    to_sign = "\n".join([_ALGORITHM, claim.amz_date, scope, _sha256(canonical.encode())])
    key = _signing_key(secret, claim.date, claim.region, claim.service)
    expected = hmac.digest(key, to_sign.encode(), "sha256").hex()
    if not hmac.compare_digest(expected, claim.signature):
        raise SignatureError(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service "
            "documentation for details.",
        )
    return Signed(claim.access_key_id, claim.region, claim.service)


def _claim(headers: Mapping[str, list[str]], params: Mapping[str, str]) -> _Claim:
    authorization = headers.get("authorization", [""])[0]
    if authorization:
        return _header_claim(authorization, headers)
    if "X-Amz-Signature" in params:
        return _presigned_claim(params)
    raise SignatureError("MissingAuthenticationTokenException", "Missing Authentication Token")


def _header_claim(authorization: str, headers: Mapping[str, list[str]]) -> _Claim:
    if len(authorization) > _MAX_AUTHORIZATION:
        raise _incomplete("Authorization header is too long.")
    algorithm, _, rest = authorization.partition(" ")
    if algorithm != _ALGORITHM:
        raise _incomplete(f"Unsupported authorization algorithm; use {_ALGORITHM}.")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, equals, value = part.strip().partition("=")
        if equals:
            fields[name] = value
    missing = [n for n in ("Credential", "SignedHeaders", "Signature") if n not in fields]
    if missing:
        raise _incomplete(
            f"Authorization header requires '{missing[0]}' parameter. Authorization={_ALGORITHM}"
        )
    amz_date = headers.get("x-amz-date", [""])[0]
    if not amz_date:
        raise _incomplete(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    return _build(
        fields["Credential"], fields["SignedHeaders"], fields["Signature"], amz_date, None
    )


def _presigned_claim(params: Mapping[str, str]) -> _Claim:
    if params.get("X-Amz-Algorithm") != _ALGORITHM:
        raise _incomplete(f"X-Amz-Algorithm must be {_ALGORITHM}.")
    try:
        expires = int(params.get("X-Amz-Expires", ""))
    except ValueError:
        raise _incomplete("X-Amz-Expires must be a number of seconds.") from None
    if not 1 <= expires <= MAX_PRESIGNED_SECONDS:
        raise _incomplete(f"X-Amz-Expires must be 1 to {MAX_PRESIGNED_SECONDS} seconds.")
    return _build(
        params.get("X-Amz-Credential", ""),
        params.get("X-Amz-SignedHeaders", ""),
        params.get("X-Amz-Signature", ""),
        params.get("X-Amz-Date", ""),
        expires,
    )


def _build(
    credential: str, signed: str, signature: str, amz_date: str, expires: int | None
) -> _Claim:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise _incomplete(
            f"Credential should be scoped to a valid region, not '{'/'.join(parts[2:3])}'."
        )
    names = tuple(signed.split(";"))
    if list(names) != sorted(set(names)) or "host" not in names:
        raise _incomplete("SignedHeaders must be sorted, distinct and include host.")
    if not _SIGNATURE.fullmatch(signature):
        raise _incomplete("Signature must be 64 lowercase hexadecimal characters.")
    if not amz_date.startswith(parts[1]):
        raise SignatureError(
            "InvalidSignatureException",
            f"Credential should be scoped to a valid date, not '{parts[1]}'.",
        )
    return _Claim(parts[0], parts[1], parts[2], parts[3], names, signature, amz_date, expires)


def _check_time(claim: _Claim, now: datetime) -> None:
    stamp = claim.amz_date
    try:
        if not _AMZ_DATE.fullmatch(stamp):
            raise ValueError(stamp)
        signed_at = datetime(
            int(stamp[0:4]),
            int(stamp[4:6]),
            int(stamp[6:8]),
            int(stamp[9:11]),
            int(stamp[11:13]),
            int(stamp[13:15]),
            tzinfo=UTC,
        )
    except ValueError:
        raise _incomplete("X-Amz-Date must be in the form 20261129T120000Z.") from None
    if claim.expires is not None:
        if now > signed_at + timedelta(seconds=claim.expires) or signed_at > now + MAX_SKEW:
            raise SignatureError("InvalidSignatureException", "Signature expired.")
        return
    if abs(now - signed_at) > MAX_SKEW:
        earliest = (now - MAX_SKEW).strftime(_DATE_FORMAT)
        raise SignatureError(
            "InvalidSignatureException",
            f"Signature expired: {claim.amz_date} is now earlier than {earliest} "
            f"({now.strftime(_DATE_FORMAT)} - 5 min.)",
        )


def _canonical_path(path: str) -> str:
    return quote(path or "/", safe="/-_.~")


def _canonical_query(params: Sequence[tuple[str, str]], *, presigned: bool) -> str:
    pairs = [
        (quote(k, safe="-_.~"), quote(v, safe="-_.~"))
        for k, v in params
        if not (presigned and k == "X-Amz-Signature")
    ]
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _trimmed(values: list[str]) -> str:
    return ",".join(" ".join(value.split()) for value in values)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The day's signing key (four HMACs), kept for the day: most requests reuse it."""
    cache_key = (secret, date, region, service)
    key = _SIGNING_KEYS.get(cache_key)
    if key is None:
        key = f"AWS4{secret}".encode()
        for part in (date, region, service, "aws4_request"):
            key = hmac.digest(key, part.encode(), "sha256")
        if len(_SIGNING_KEYS) >= _SIGNING_KEY_ENTRIES:
            _SIGNING_KEYS.clear()
        _SIGNING_KEYS[cache_key] = key
    return key


def _incomplete(message: str) -> SignatureError:
    return SignatureError("IncompleteSignatureException", message)
