"""AWS Signature Version 4, verified: the header form (``Authorization: AWS4-HMAC-SHA256 …``) and
the presigned form (``X-Amz-Signature`` in the query), for the JSON services (KMS, Secrets
Manager, SSM). Each failure is AWS's own code and words (``SignatureError``).

A request is parsed once (``parse``) into a ``Claim``, and that one claim both names the key the
signature is checked with and the identity the request acts as: no second reading of the header
can disagree with the first. The parse is strict where botocore's signer is regular: one
Authorization header and exactly its three fields, no repeated query parameter or meaningful
header, every header the server reads signed (``host``, ``x-amz-date``, and ``content-type``,
``x-amz-target``, ``x-amz-content-sha256`` where sent), a real region name, and the scope's
service must be the endpoint's. The payload is always signed: ``UNSIGNED-PAYLOAD`` is refused,
as these services refuse it."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote

from strongroom.crypto.keyed_mac import KeyedMac

__all__ = [
    "MAX_PRESIGNED_SECONDS",
    "MAX_SKEW",
    "Claim",
    "SignatureError",
    "Signed",
    "is_region",
    "parse",
    "verify",
]

MAX_SKEW = timedelta(minutes=5)
MAX_PRESIGNED_SECONDS = 7 * 24 * 3600
_ALGORITHM = "AWS4-HMAC-SHA256"
_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_MAX_AUTHORIZATION = 4096
_AMZ_DATE = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")
_ACCESS_KEY_ID = re.compile(r"[A-Za-z0-9_+=.@-]{1,128}")
# AWS's region names, the union of botocore's partition patterns (endpoints.json): a partition
# prefix, its optional sub-partition, a direction, a number. No service's name can start one, so
# no region string reaches another service's namespace (aws-<region>, aws-ssm-<region>, ...).
_REGION = re.compile(
    r"(?:us|eu|ap|sa|ca|me|af|il|mx|cn|eusc)(?:-gov|-iso[bef]?|-de)?-[a-z]+-[0-9]{1,2}"
)
_HEADER_FIELDS = ("Credential", "SignedHeaders", "Signature")
_PRESIGN_PARAMS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders")
# Headers the server reads a meaning from: sent twice, the signed value and the read one differ.
_SINGLE_HEADERS = frozenset(
    {"authorization", "host", "content-type", "x-amz-date", "x-amz-target"}
    | {"x-amz-content-sha256", "x-amz-security-token"}
)
_SIGNING_KEY_ENTRIES = 1024
_SIGNING_KEYS: dict[tuple[str, str, str, str], KeyedMac] = {}


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
class Claim:
    """One request's signature as sent, parsed once: who it says signed, and over what."""

    access_key_id: str
    date: str  # YYYYMMDD of the scope
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str = field(repr=False)
    amz_date: str
    expires: int | None  # presigned only
    headers: dict[str, list[str]] = field(repr=False)
    params: list[tuple[str, str]] = field(repr=False)


def is_region(name: str) -> bool:
    return _REGION.fullmatch(name) is not None


def parse(query: str, raw_headers: Sequence[tuple[bytes, bytes]]) -> Claim:
    """The request's signature claim; raises SignatureError for anything a signer would not send."""
    headers: dict[str, list[str]] = {}
    for name, value in raw_headers:  # ASGI servers give lower-case names
        headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
    if len(headers) < len(raw_headers):  # some name came more than once
        repeated = sorted(n for n in _SINGLE_HEADERS if len(headers.get(n, ())) > 1)
        if repeated:
            raise _incomplete(f"The {repeated[0]} header must be sent once.")
    params = parse_qsl(query, keep_blank_values=True) if query else []
    names = [k for k, _ in params]
    if len(set(names)) != len(names):
        raise _incomplete("A query parameter must be sent once.")
    authorization = headers.get("authorization", [""])[0]
    presigned = "X-Amz-Signature" in names or "X-Amz-Algorithm" in names
    if authorization and presigned:
        raise _incomplete(
            "Only one authentication mechanism is allowed: the Authorization header or the "
            "X-Amz-Signature query parameter."
        )
    if authorization:
        claim = _header_claim(authorization, headers, params)
    elif presigned:
        claim = _presigned_claim(headers, params)
    else:
        raise SignatureError("MissingAuthenticationTokenException", "Missing Authentication Token")
    _check_signed_headers(claim)
    return claim


def verify(
    claim: Claim,
    *,
    method: str,
    path: str,
    body: bytes,
    service: str,
    secret_of: Callable[[str], str | None],
    now: datetime,
) -> Signed:
    """``claim`` checked over the request and its body, for an endpoint of ``service``; raises
    SignatureError. ``secret_of(access_key_id)`` is the secret key of an access key strongroom
    issued (None: no such key)."""
    if claim.service != service:
        raise SignatureError(
            "InvalidSignatureException",
            f"Credential should be scoped to correct service: '{service}'.",
        )
    _check_time(claim, now)
    secret = secret_of(claim.access_key_id)
    if secret is None:
        raise SignatureError(
            "UnrecognizedClientException", "The security token included in the request is invalid."
        )
    payload = claim.headers.get("x-amz-content-sha256", [""])[0]
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
            _canonical_query(claim.params, presigned=claim.expires is not None),
            _canonical_headers(claim),
            ";".join(claim.signed_headers),
            body_hash,
        ]
    )
    scope = f"{claim.date}/{claim.region}/{claim.service}/aws4_request"
    to_sign = "\n".join([_ALGORITHM, claim.amz_date, scope, _sha256(canonical.encode())])
    key = _signing_key(secret, claim.date, claim.region, claim.service)
    expected = key.hexdigest(to_sign.encode())
    if not hmac.compare_digest(expected, claim.signature):
        raise SignatureError(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service "
            "documentation for details.",
        )
    return Signed(claim.access_key_id, claim.region, claim.service)


def _header_claim(
    authorization: str, headers: dict[str, list[str]], params: list[tuple[str, str]]
) -> Claim:
    if len(authorization) > _MAX_AUTHORIZATION:
        raise _incomplete("Authorization header is too long.")
    algorithm, _, rest = authorization.partition(" ")
    if algorithm != _ALGORITHM:
        raise _incomplete(f"Unsupported authorization algorithm; use {_ALGORITHM}.")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, equals, value = part.strip().partition("=")
        if name in fields:
            raise _incomplete(f"Authorization header has '{name}' more than once.")
        if name not in _HEADER_FIELDS or not equals:
            raise _incomplete(
                "Authorization header must be "
                f"'{_ALGORITHM} Credential=…, SignedHeaders=…, Signature=…' and nothing else."
            )
        fields[name] = value
    missing = [n for n in _HEADER_FIELDS if n not in fields]
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
        fields["Credential"],
        fields["SignedHeaders"],
        fields["Signature"],
        amz_date,
        None,
        headers,
        params,
    )


def _presigned_claim(headers: dict[str, list[str]], params: list[tuple[str, str]]) -> Claim:
    values = dict(params)
    missing = [n for n in (*_PRESIGN_PARAMS, "X-Amz-Signature") if n not in values]
    if missing:
        raise _incomplete(f"A presigned request requires the {missing[0]} query parameter.")
    if values["X-Amz-Algorithm"] != _ALGORITHM:
        raise _incomplete(f"X-Amz-Algorithm must be {_ALGORITHM}.")
    try:
        expires = int(values.get("X-Amz-Expires", ""))
    except ValueError:
        raise _incomplete("X-Amz-Expires must be a number of seconds.") from None
    if not 1 <= expires <= MAX_PRESIGNED_SECONDS:
        raise _incomplete(f"X-Amz-Expires must be 1 to {MAX_PRESIGNED_SECONDS} seconds.")
    return _build(
        values["X-Amz-Credential"],
        values["X-Amz-SignedHeaders"],
        values["X-Amz-Signature"],
        values["X-Amz-Date"],
        expires,
        headers,
        params,
    )


def _build(
    credential: str,
    signed: str,
    signature: str,
    amz_date: str,
    expires: int | None,
    headers: dict[str, list[str]],
    params: list[tuple[str, str]],
) -> Claim:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise _incomplete("Credential must be ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request.")
    key_id, date, region, service, _ = parts
    if not _ACCESS_KEY_ID.fullmatch(key_id):
        raise _incomplete("Credential names no valid access key id.")
    if not _REGION.fullmatch(region):
        raise SignatureError(
            "InvalidSignatureException",
            f"Credential should be scoped to a valid region, not '{region[:64]}'.",
        )
    names = tuple(signed.split(";"))
    if list(names) != sorted(set(names)) or not all(names):
        raise _incomplete("SignedHeaders must be lowercase header names, sorted and distinct.")
    if not _SIGNATURE.fullmatch(signature):
        raise _incomplete("Signature must be 64 lowercase hexadecimal characters.")
    if not amz_date.startswith(date):
        raise SignatureError(
            "InvalidSignatureException",
            f"Credential should be scoped to a valid date, not '{date[:16]}'.",
        )
    return Claim(
        key_id, date, region, service, names, signature, amz_date, expires, headers, params
    )


def _check_signed_headers(claim: Claim) -> None:
    """Every header that says what the request does must be under the signature: a signature
    made for one operation cannot be replayed as another."""
    signed = set(claim.signed_headers)
    required = {"host"} | (_SINGLE_HEADERS.intersection(claim.headers) - {"authorization"})
    if claim.expires is None:
        required.add("x-amz-date")
    else:
        required.discard("x-amz-date")  # the presigned form signs it in the query
    unsigned = sorted(required - signed)
    if unsigned:
        raise _incomplete(
            f"The header '{unsigned[0]}' must be signed; sign host, x-amz-date, and "
            "content-type, x-amz-target and x-amz-content-sha256 where sent.",
        )
    unsent = signed.difference(claim.headers)
    if unsent:
        raise _incomplete(f"The signed header '{min(unsent)[:64]}' was not sent.")


@functools.lru_cache(maxsize=256)  # clients sign many requests within one second
def _signed_at(stamp: str) -> datetime:
    """``stamp`` (20261129T120000Z) as a time; ValueError when it is not one."""
    if not _AMZ_DATE.fullmatch(stamp):
        raise ValueError(stamp)
    return datetime(
        int(stamp[0:4]),
        int(stamp[4:6]),
        int(stamp[6:8]),
        int(stamp[9:11]),
        int(stamp[11:13]),
        int(stamp[13:15]),
        tzinfo=UTC,
    )


def _check_time(claim: Claim, now: datetime) -> None:
    stamp = claim.amz_date
    try:
        signed_at = _signed_at(stamp)
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
    if path == "/" or not path:  # every request to a JSON service
        return "/"
    return quote(path, safe="/-_.~")


def _canonical_query(params: Sequence[tuple[str, str]], *, presigned: bool) -> str:
    if not params:  # every request signed in its header
        return ""
    pairs = [
        (quote(k, safe="-_.~"), quote(v, safe="-_.~"))
        for k, v in params
        if not (presigned and k == "X-Amz-Signature")
    ]
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _canonical_headers(claim: Claim) -> str:
    """Each signed header as ``name:value`` on its own line, its values' whitespace trimmed."""
    lines = []
    for name in claim.signed_headers:
        values = claim.headers.get(name, [])
        if len(values) == 1:  # the usual case, without a generator
            lines.append(f"{name}:{' '.join(values[0].split())}\n")
        else:
            lines.append(f"{name}:{_trimmed(values)}\n")
    return "".join(lines)


def _trimmed(values: list[str]) -> str:
    return ",".join(" ".join(value.split()) for value in values)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _signing_key(secret: str, date: str, region: str, service: str) -> KeyedMac:
    """The day's signing key (four HMACs), kept for the day, keyed: most requests reuse it."""
    cache_key = (secret, date, region, service)
    keyed = _SIGNING_KEYS.get(cache_key)
    if keyed is None:
        key = f"AWS4{secret}".encode()
        for part in (date, region, service, "aws4_request"):
            key = hmac.digest(key, part.encode(), "sha256")
        keyed = KeyedMac(key)
        if len(_SIGNING_KEYS) >= _SIGNING_KEY_ENTRIES:
            _SIGNING_KEYS.clear()
        _SIGNING_KEYS[cache_key] = keyed
    return keyed


def _incomplete(message: str) -> SignatureError:
    return SignatureError("IncompleteSignatureException", message)
