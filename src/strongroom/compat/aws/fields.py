"""AWS's JSON 1.1 request members, checked as botocore's models describe them, and ``AwsError``,
an answer in an AWS service's own words."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, Literal, overload

from strongroom.compat.aws.sigv4 import Signed
from strongroom.compat.aws.tags import MAX_KEY, MAX_TAGS, MAX_VALUE
from strongroom.compat.aws.validation import validation_message
from strongroom.errors import BadRequest
from strongroom.server.routes import Call

__all__ = [
    "AwsError",
    "blob",
    "integer",
    "region_of",
    "string",
    "string_map",
    "tag_keys_in",
    "tag_list",
    "tags_in",
    "validation_errors",
]


class AwsError(BadRequest):
    """An answer in an AWS service's own words: its code, message and status."""

    def __init__(self, aws_code: str, message: str = "", status: int = 400) -> None:
        super().__init__(message or aws_code)
        self.aws_code, self.message, self.aws_status = aws_code, message, status


def region_of(call: Call) -> str:
    """The region of the request's signing scope, as the authenticator verified it (a real
    region name: sigv4.is_region)."""
    if not isinstance(call.proof, Signed):
        raise AwsError("UnrecognizedClientException", "The request names no region.")
    return call.proof.region


# -- input, checked as botocore's models describe it
@overload
def string(
    doc: Mapping[str, Any], name: str, *, required: Literal[True], max_len: int = 2048
) -> str: ...


@overload
def string(
    doc: Mapping[str, Any], name: str, *, required: bool = False, max_len: int = 2048
) -> str | None: ...


def string(
    doc: Mapping[str, Any], name: str, *, required: bool = False, max_len: int = 2048
) -> str | None:
    """A string member of at most ``max_len`` characters (None when absent and optional)."""
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


def validation_errors(errors: list[str]) -> None:
    """Raise every model error of a request at once (compat/aws/validation.py)."""
    if errors:
        raise AwsError("ValidationException", validation_message(errors))


# -- tags (compat/aws/tags.py)
def _checked_key(key: object, member: str) -> str:
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY:
        raise AwsError("ValidationException", f"{member}: a tag key is 1-{MAX_KEY} characters.")
    return key


def tags_in(
    doc: Mapping[str, Any],
    member: str = "Tags",
    *,
    key: str = "Key",
    value: str = "Value",
    duplicates: tuple[str, str] | None = None,
) -> dict[str, str]:
    """The tags a request names (none when ``member`` is absent). ``duplicates``: the error
    (code, message) for a key named twice; without it the last one wins."""
    tags = doc.get(member) or []
    if not isinstance(tags, list) or not all(
        isinstance(t, dict) and isinstance(t.get(key), str) and isinstance(t.get(value), str)
        for t in tags
    ):
        raise AwsError("ValidationException", f"{member} is a list of {{{key}, {value}}}.")
    if len(tags) > MAX_TAGS:
        raise AwsError("ValidationException", f"{member} has at most {MAX_TAGS} tags.")
    found: dict[str, str] = {}
    for tag in tags:
        name = _checked_key(tag[key], member)
        if len(tag[value]) > MAX_VALUE:
            raise AwsError(
                "ValidationException", f"{member}: a tag value is at most {MAX_VALUE} characters."
            )
        if name in found and duplicates is not None:
            raise AwsError(*duplicates)
        found[name] = tag[value]
    return found


def tag_keys_in(doc: Mapping[str, Any], member: str = "TagKeys") -> list[str]:
    """The keys a request removes."""
    names = doc.get(member)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise AwsError("ValidationException", f"{member} is a list of strings.")
    if len(names) > MAX_TAGS:
        raise AwsError("ValidationException", f"{member} has at most {MAX_TAGS} keys.")
    return [_checked_key(name, member) for name in names]


def tag_list(
    tags: Mapping[str, str], *, key: str = "Key", value: str = "Value"
) -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in tags.items()]
