"""parse_json reads what json.loads reads, the same way, and refuses what it refuses."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from strongroom.jsondata import parse_json

AGREED = [
    b'{"data": {"password": "p", "n": 1, "f": 1.5, "ok": true, "none": null}}',
    b'{"big": 123456789012345678901234567890}',  # orjson alone would read a float
    b'{"below": -9223372036854775809, "u64": 18446744073709551615}',
    b"[1e5, -0.0, 4.9e-324, 0.1000000000000000055511151231257827]",
    b'{"a": 1, "a": 2}',  # the last one wins, in both
    b'{"nan": NaN, "inf": Infinity}',  # the standard library reads these; orjson refuses them
    b'{"lone": "\\ud800"}',  # the standard library keeps a lone surrogate escape
    b'\xef\xbb\xbf{"bom": 1}',  # a byte order mark: the standard library skips it
    '{"utf16": 1}'.encode("utf-16"),
    b'"\\ud83d\\ude00 \xe2\x82\xac"',
    b"  [ ]  ",
]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("raw", AGREED)
def test_parse_json_reads_what_the_standard_library_reads(raw: bytes) -> None:
    assert _same(parse_json(raw), json.loads(raw))


@pytest.mark.parametrize("raw", [b"", b"{", b'{"a": 1}x', b"[1, 2,]", b'"\x01"', b"\xff", b"01"])
def test_parse_json_refuses_what_the_standard_library_refuses(raw: bytes) -> None:
    with pytest.raises(ValueError) as ours:
        parse_json(raw)
    with pytest.raises(ValueError) as theirs:
        json.loads(raw)
    assert type(ours.value) is type(theirs.value)
