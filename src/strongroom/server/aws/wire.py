"""The AWS JSON 1.1 wire: answers as ``application/x-amz-json-1.1`` with an
``x-amzn-RequestId``, errors as ``{"__type": <Code>, "message": <text>}`` with AWS's status
codes (400 for a client's error, 500 for the server's), and the SigV4 authenticator."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from strongroom.auth.authenticators import Scope
from strongroom.auth.aws_keys import AccessKeyRegistry
from strongroom.auth.identity import Identity
from strongroom.compat.aws.sigv4 import Claim, SignatureError, parse, verify
from strongroom.errors import (
    AccessDenied,
    AuditIncomplete,
    AuditUnavailable,
    BadRequest,
    KeyProviderUnavailable,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    RecordDamaged,
    Sealed,
    StorageFull,
    StoreUnavailable,
    StrongroomError,
    Unauthenticated,
)
from strongroom.server.json_out import encode_json
from strongroom.server.routes import PROOF, Answer, RouteNotFound
from strongroom.server.surface import Rendered

__all__ = [
    "CONTENT_TYPE",
    "SigV4",
    "render",
    "render_error",
    "service_of",
    "target_of",
]

CONTENT_TYPE = "application/x-amz-json-1.1"
_HEADERS = ((b"content-type", CONTENT_TYPE.encode()),)
_CLAIM = "strongroom.sigv4"
_KEY = "strongroom.sigv4.key"  # (access key id, its secret and identity), looked up once
# X-Amz-Target's prefix -> the service name a signature must be scoped to
_SERVICES = {"TrentService": "kms", "secretsmanager": "secretsmanager", "AmazonSSM": "ssm"}


class _SignatureRefused(Unauthenticated):
    def __init__(self, aws_code: str, message: str) -> None:
        super().__init__(message)
        self.aws_code = aws_code


class SigV4:
    """The AWS surface's authenticator: the access key a SigV4 signature names, verified over
    the request and its body with the key's secret. The claim is parsed once, in
    ``credential``; ``identify`` checks that same claim and acts as the key it names."""

    def __init__(self, registry: Callable[[], AccessKeyRegistry]) -> None:
        self._registry = registry

    def credential(self, scope: Scope) -> str | None:
        claim = _claim_of(scope)
        if isinstance(claim, SignatureError):
            if claim.code == "MissingAuthenticationTokenException":
                return None  # no signature at all: not mine
            return "-"  # a malformed one: mine, and refused by identify
        return claim.access_key_id

    def refusal_before_body(self, scope: Scope) -> StrongroomError | None:
        """The answer to a request that cannot authenticate whatever its body (no signature, a
        malformed one, an unknown access key): given before the body is read, so a caller
        without a key cannot make the server read one."""
        claim = _claim_of(scope)
        if isinstance(claim, SignatureError):
            if claim.code == "MissingAuthenticationTokenException":
                return Unauthenticated()
            return _SignatureRefused(claim.code, claim.message)
        if _key_of(scope, self._registry, claim.access_key_id) is None:
            return _SignatureRefused(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )
        return None

    def remembered(self, credential: str, scope: Scope) -> Identity | None:
        """``identify``, when this request's access key was looked up already (by
        ``refusal_before_body``): verifying the signature is then work in memory alone."""
        claim = _claim_of(scope)
        cached = scope.get(_KEY)
        if isinstance(claim, SignatureError) or cached is None:
            return None
        if cached[0] != claim.access_key_id or cached[1] is None:
            return None
        return self.identify(credential, scope)

    def identify(self, credential: str, scope: Scope) -> Identity:
        claim = _claim_of(scope)
        if isinstance(claim, SignatureError):
            raise _SignatureRefused(claim.code, claim.message)
        registry = self._registry()
        try:
            signed = verify(
                claim,
                method="POST",
                path="/",  # the path as sent: the surface routes on X-Amz-Target, not on it
                body=scope.get("strongroom.body", b""),
                service=service_of(scope) or claim.service,
                secret_of=lambda key_id: (_key_of(scope, self._registry, key_id) or (None,))[0],
                now=datetime.now(UTC),
            )
        except SignatureError as exc:
            raise _SignatureRefused(exc.code, exc.message) from None
        scope[PROOF] = signed  # type: ignore[index]
        found = _key_of(scope, self._registry, claim.access_key_id)
        if found is None:
            return registry.identity(claim.access_key_id)  # raises: the key is not there
        return found[1]


def _key_of(
    scope: Scope, registry: Callable[[], AccessKeyRegistry], access_key_id: str
) -> tuple[str, Identity] | None:
    """The access key's (secret, identity), looked up once per request and kept in the
    scope with the claim it belongs to."""
    cached = scope.get(_KEY)
    if cached is not None and cached[0] == access_key_id:
        found: tuple[str, Identity] | None = cached[1]
        return found
    found = registry().lookup(access_key_id)
    scope[_KEY] = (access_key_id, found)  # type: ignore[index]
    return found


def _claim_of(scope: Scope) -> Claim | SignatureError:
    """The request's one parse of its signature, kept in the scope for every later step."""
    found = scope.get(_CLAIM)
    if found is None:
        try:
            found = parse(scope.get("query_string", b"").decode("latin-1"), scope["headers"])
        except SignatureError as exc:
            found = exc
        scope[_CLAIM] = found  # type: ignore[index]
    assert isinstance(found, Claim | SignatureError)
    return found


def target_of(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"x-amz-target":
            return value.decode("latin-1")
    return None


def service_of(scope: Scope) -> str | None:
    """The signing name of the service the request's ``X-Amz-Target`` addresses."""
    target = target_of(scope["headers"]) or ""
    return _SERVICES.get(target.partition(".")[0])


# -- output
def render(answer: Answer) -> Rendered:
    extra = answer.header_pairs()
    body = encode_json(answer.doc if answer.doc is not None else {})
    return Rendered(answer.status, body, _HEADERS + extra)


def _code(exc: StrongroomError) -> tuple[int, str, str]:
    """(status, AWS code, message) for any error, in the words AWS uses."""
    aws_code = getattr(exc, "aws_code", None)
    if aws_code is not None:
        return getattr(exc, "aws_status", 400), str(aws_code), exc.message
    if isinstance(exc, Unauthenticated):  # no signature at all: a failed one has its code
        return 400, "MissingAuthenticationTokenException", "Missing Authentication Token"
    if isinstance(exc, AccessDenied):
        return 400, "AccessDeniedException", exc.message
    if isinstance(exc, RouteNotFound):
        return 400, "UnknownOperationException", ""
    if isinstance(exc, NotFound):
        return 400, "NotFoundException", exc.message
    if isinstance(exc, PayloadTooLarge):
        return 413, "RequestEntityTooLargeException", exc.message
    if isinstance(exc, BadRequest):
        return 400, "ValidationException", exc.message
    if isinstance(exc, RateLimited):
        return 400, "ThrottlingException", exc.message
    if isinstance(exc, Sealed | AuditUnavailable | StoreUnavailable | RecordDamaged | StorageFull):
        return 503, "ServiceUnavailableException", exc.message
    if isinstance(exc, AuditIncomplete):
        return 500, "InternalFailure", exc.message
    if isinstance(exc, KeyProviderUnavailable):
        return 500, "KMSInternalException", exc.message
    return 500, "InternalFailure", "internal error; see the server log"


def render_error(exc: StrongroomError, request_id: str) -> Rendered:
    status, code, message = _code(exc)
    body = json.dumps({"__type": code, "message": message}, separators=(",", ":")).encode()
    return Rendered(status, body, (*_HEADERS, (b"x-amzn-requestid", request_id.encode())))
