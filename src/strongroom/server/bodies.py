"""Typed fields of JSON request bodies, with precise 400s: shared by every surface."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from strongroom.errors import BadRequest
from strongroom.limits import MAX_INTEGER, is_version

__all__ = [
    "base64_field",
    "body_int",
    "optional_str",
    "string_list",
    "string_map",
    "text",
    "versions_field",
]


def body_int(doc: dict[str, Any], name: str) -> int | None:
    value = doc.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INTEGER:
        raise BadRequest(f"{name!r} must be an integer from 0 to {MAX_INTEGER}")
    return value


def optional_str(doc: dict[str, Any], name: str) -> str | None:
    value = doc.get(name)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{name!r} must be a string")
    return value


def text(doc: dict[str, Any], name: str, problem: str, default: str | None = None) -> str:
    """A string field (null is missing); ``problem`` is the 400's words when it is missing
    without a default, or not a string."""
    value = doc.get(name)
    if value is None:
        value = default
    if not isinstance(value, str):
        raise BadRequest(problem)
    return value


def versions_field(doc: dict[str, Any]) -> list[int]:
    versions = doc.get("versions")
    if not isinstance(versions, list) or not versions:
        raise BadRequest('body must name versions: {"versions": [1, 2]}')
    if not all(is_version(v) for v in versions):
        raise BadRequest(f"versions must be integers from 1 to {MAX_INTEGER}")
    return versions


def base64_field(doc: dict[str, Any], name: str) -> bytes:
    try:
        return base64.b64decode(str(doc.get(name, "")), validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f"{name!r} must be standard base64") from None


def string_list(doc: dict[str, Any], name: str, problem: str) -> list[str]:
    """A list of strings (missing: empty); ``problem`` is the 400's words otherwise."""
    value = doc.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BadRequest(problem)
    return value


def string_map(doc: dict[str, Any], name: str) -> dict[str, str]:
    value = doc.get(name, {})
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise BadRequest(f"{name} must be an object of string values")
    return value
