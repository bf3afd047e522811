"""JSON for answers on the wire: orjson (compact, UTF-8), about five times faster than the
standard library; what orjson refuses (integers beyond 64 bits, lone surrogates) goes through
the standard library instead, so every document still encodes."""

from __future__ import annotations

import json
from typing import Any

import orjson

__all__ = ["encode_json"]


def encode_json(doc: Any) -> bytes:
    try:
        return orjson.dumps(doc)
    except orjson.JSONEncodeError:
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=True).encode()
