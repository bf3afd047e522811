"""The AWS JSON 1.1 wire: answers as ``application/x-amz-json-1.1`` with an
``x-amzn-RequestId``, errors as ``{"__type": <Code>, "message": <text>}`` with AWS's status
codes (400 for a client's error, 500 for the server's), and the SigV4 authenticator."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from strongroom.auth.authenticators import Scope
from strongroom.auth.aws_keys import AccessKeyRegistry
from strongroom.auth.identity import Identity
from strongroom.errors import (
    AccessDenied,
    AuditUnavailable,
    BadRequest,
    KeyProviderUnavailable,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Sealed,
    StrongroomError,
    Unauthenticated,
)
from strongroom.server.aws.sigv4 import SignatureError, verify
from strongroom.server.routes import Answer, Call, RouteNotFound
from strongroom.server.surface import Rendered

__all__ = [
    "CONTENT_TYPE",
    "AwsError",
    "SigV4",
    "blob",
    "integer",
    "region_of",
    "render",
    "render_error",
    "string",
    "string_map",
]

CONTENT_TYPE = "application/x-amz-json-1.1"
_HEADERS = ((b"content-type", CONTENT_TYPE.encode()),)
_SCOPE = re.compile(r"Credential=[^/,\s]+/[0-9]{8}/([a-z0-9-]+)/[a-z0-9-]+/aws4_request")


class AwsError(BadRequest):
    """An answer in an AWS service's own words: its code, message and status."""

    def __init__(self, aws_code: str, message: str = "", status: int = 400) -> None:
        super().__init__(message or aws_code)
        self.aws_code, self.message, self.aws_status = aws_code, message, status


class _SignatureRefused(Unauthenticated):
    def __init__(self, aws_code: str, message: str) -> None:
        super().__init__(message)
        self.aws_code = aws_code


class SigV4:
    """The AWS surface's authenticator: the access key a SigV4 signature names, verified over
    the request and its body with the key's secret."""

    def __init__(self, registry: Callable[[], AccessKeyRegistry]) -> None:
        self._registry = registry

    def credential(self, scope: Scope) -> str | None:
        for name, value in scope["headers"]:
            if name == b"authorization":
                found = re.search(r"Credential=([^/,\s]+)/", value.decode("latin-1"))
                return found.group(1) if found else "-"
        query = scope.get("query_string", b"").decode("latin-1")
        found = re.search(r"(?:^|&)X-Amz-Credential=([^%/&]+)", query)
        if found:
            return found.group(1)
        return None

    def identify(self, credential: str, scope: Scope) -> Identity:
        registry = self._registry()
        try:
            verify(
                "POST",
                "/",  # the path as sent: the surface routes on X-Amz-Target, not on it
                scope.get("query_string", b"").decode("latin-1"),
                scope["headers"],
                scope.get("strongroom.body", b""),
                registry.secret,
                datetime.now(UTC),
            )
        except SignatureError as exc:
            raise _SignatureRefused(exc.code, exc.message) from None
        return registry.identity(credential)


def region_of(call: Call) -> str:
    """The region of the request's signing scope (verified by the authenticator)."""
    source = call.header("authorization") or call.query_string.decode("latin-1")
    found = _SCOPE.search(source.replace("%2F", "/"))
    if found is None:
        raise AwsError("UnrecognizedClientException", "The request names no region.")
    return found.group(1)


# -- input, checked as botocore's models describe it
def string(
    doc: Mapping[str, Any], name: str, *, required: bool = False, max_len: int = 2048
) -> Any:
    value = doc.get(name)
    if value is None:
        if required:
            raise _validation(name, "Member must not be null")
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise _validation(name, f"Member must be a string of at most {max_len} characters")
    return value


def integer(doc: Mapping[str, Any], name: str) -> int | None:
    value = doc.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise _validation(name, "Member must be an integer")
    return value


def blob(
    doc: Mapping[str, Any],
    name: str,
    *,
    required: bool = False,
    max_len: int,
    field: str | None = None,
) -> bytes | None:
    """A base64 member, 1 to ``max_len`` bytes decoded; ``field`` names it in length errors as
    the service does (KMS says 'plaintext' but 'Message')."""
    value = doc.get(name)
    if value is None:
        if required:
            raise _validation(name, "Member must not be null")
        return None
    if not isinstance(value, str):
        raise _validation(name, "Member must be base64-encoded bytes")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise AwsError("SerializationException", f"{name} is not valid base64.") from None
    if not raw:
        raise _validation(name, "Member must have length greater than or equal to 1", field)
    if len(raw) > max_len:
        raise _validation(name, f"Member must have length less than or equal to {max_len}", field)
    return raw


def string_map(doc: Mapping[str, Any], name: str) -> dict[str, str]:
    value = doc.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise _validation(name, "Member must be a map of strings to strings")
    return dict(value)


def _validation(name: str, constraint: str, field: str | None = None) -> AwsError:
    field = field or name[:1].lower() + name[1:]
    return AwsError(
        "ValidationException",
        f"1 validation error detected: Value at '{field}' failed to satisfy constraint: "
        f"{constraint}",
    )


# -- output
def render(answer: Answer) -> Rendered:
    extra = tuple((k.lower().encode(), v.encode()) for k, v in answer.headers)
    body = json.dumps(answer.doc if answer.doc is not None else {}, separators=(",", ":"))
    return Rendered(answer.status, body.encode(), (*_HEADERS, *extra))


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
    if isinstance(exc, Sealed | AuditUnavailable):
        return 503, "ServiceUnavailableException", exc.message
    if isinstance(exc, KeyProviderUnavailable):
        return 500, "KMSInternalException", exc.message
    return 500, "InternalFailure", "internal error; see the server log"


def render_error(exc: StrongroomError, request_id: str) -> Rendered:
    status, code, message = _code(exc)
    body = json.dumps({"__type": code, "message": message}, separators=(",", ":")).encode()
    return Rendered(status, body, (*_HEADERS, (b"x-amzn-requestid", request_id.encode())))
