"""Reading, validating and merging the JSON object that is a secret's data (and request bodies)."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from strongroom.errors import BadRequest, LimitExceeded
from strongroom.limits import Limits

__all__ = ["check_json", "encode_data", "merge_patch", "parse_json"]

# An integer of 19 digits or more may lie beyond 64 bits, where orjson reads a float instead.
_LONG_DIGITS = re.compile(rb"[0-9]{19}")

# What json.dumps would make per call with these options, made once.
_DATA_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def parse_json(raw: bytes) -> Any:
    """What ``json.loads(raw)`` gives, or raises, read by orjson (about a sixth of the time)
    wherever the two agree: anything orjson refuses (NaN, a byte order mark, a lone surrogate,
    another encoding than UTF-8) and any run of 19 digits go to the standard library."""
    if _LONG_DIGITS.search(raw) is None:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(raw)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(
            "the JSON holds an invalid Unicode character (a lone surrogate escape such as"
            " \\ud800); send valid UTF-8 text"
        ) from None


def check_json(value: Any, limit: int) -> None:
    """Refuse JSON nested deeper than ``limit``, or holding a lone surrogate in any key or string
    (it could be stored but never encoded again). Iterative, so it cannot blow the stack; only
    objects and arrays go on it, each string is looked at where it is found."""
    if not isinstance(value, dict | list):
        if isinstance(value, str) and not value.isascii():
            _check_text(value)
        return
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            raise LimitExceeded(f"JSON is nested deeper than {limit} levels")
        if isinstance(item, dict):
            for key in item:
                if not key.isascii():  # ASCII text holds no surrogate: most strings stop here
                    _check_text(key)
            children = item.values()
        else:
            children = item
        for child in children:
            if isinstance(child, str):
                if not child.isascii():
                    _check_text(child)
            elif isinstance(child, dict | list):
                stack.append((child, depth + 1))


def encode_data(data: Any, limits: Limits) -> bytes:
    """The bytes that get sealed: a JSON object with string keys, within the limits."""
    if not isinstance(data, dict):
        raise BadRequest("secret data must be a JSON object of key/value pairs")
    if len(data) > limits.max_keys_per_secret:
        raise LimitExceeded(f"secret data has more than {limits.max_keys_per_secret} keys")
    check_json(data, limits.max_json_depth)
    try:
        encoded = _DATA_ENCODER.encode(data)
    except (TypeError, ValueError):
        raise BadRequest("secret data must be plain JSON (no NaN or Infinity)") from None
    raw = encoded.encode("utf-8", "surrogatepass")
    if len(raw) > limits.max_value_bytes:
        raise LimitExceeded(
            f"secret data is {len(raw)} bytes encoded; the limit is {limits.max_value_bytes}"
        )
    return raw


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge, null removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
