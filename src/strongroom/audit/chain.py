"""The hash chain of an audit sink. Each line is canonical JSON carrying ``seq`` (from 1),
``prev`` (the previous line's ``hash``) and ``hash`` = HMAC-SHA256(sink key, prev ‖ body),
where body is the line without ``hash``. Because the chain is keyed, someone who can edit the
file cannot recompute it; the sink's latest head is also checkpointed in the store, so cutting
entries off the end is detected too.

The canonical form is versioned. Format 1: Python's json with sorted keys and ASCII escapes.
Format 2: orjson with sorted keys (UTF-8, about a tenth of the cost). An entry that carries a
``format`` field is encoded in that format, and so is every entry after it until the next one
that carries it; a log without one is format 1. Each file a sink opens begins with such an
entry (``audit_format``, or the ``audit_log_continued`` link after a rotation), and since it is
chained like any other entry, nobody without the key can change the format a line claims."""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from strongroom.crypto.keyed_mac import KeyedMac

__all__ = [
    "CONTINUED",
    "FORMAT",
    "FORMAT_MARKER",
    "GENESIS",
    "ChainKey",
    "VerifyResult",
    "chain_line",
    "verify_lines",
]

GENESIS = "0" * 64
# The first entry of a file begun after log rotation: a chain entry like any other, whose
# ``prev`` links it to the last entry of the file before. A log may start at one (its older
# files were rotated away); it cannot be forged, since it is HMAC'd like the rest.
CONTINUED = "audit_log_continued"
# The entry that begins a file (or a server's first write to it) and names its format.
FORMAT_MARKER = "audit_format"
FORMAT = 2  # what this version writes

_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)
_SORTED = orjson.OPT_SORT_KEYS
_INT64 = (-(2**63), 2**64 - 1)


def _canonical_v1(doc: dict[str, Any]) -> bytes:
    return _ENCODER.encode(doc).encode()


def _tame(value: Any) -> Any:
    """What orjson cannot encode, as it can: integers beyond 64 bits as their text, strings
    with lone surrogates with those replaced. Applied before writing, so a verifier that
    re-encodes the parsed line gets the same bytes."""
    if isinstance(value, dict):
        return {str(k): _tame(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_tame(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return value if _INT64[0] <= value <= _INT64[1] else str(value)
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    return str(value)


def _canonical_v2(doc: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(doc, option=_SORTED)
    except orjson.JSONEncodeError:
        return orjson.dumps(_tame(doc), option=_SORTED)


_CANONICAL: dict[int, Callable[[dict[str, Any]], bytes]] = {1: _canonical_v1, 2: _canonical_v2}


class ChainKey:
    """The sink key's HMAC state, made once and copied per line."""

    def __init__(self, key: bytes) -> None:
        self._mac = KeyedMac(key)

    def digest(self, prev: str, canonical_body: bytes) -> str:
        return self._mac.hexdigest(prev.encode() + canonical_body)


def chain_line(
    key: bytes | ChainKey, seq: int, prev: str, entry: dict[str, Any], fmt: int = FORMAT
) -> tuple[bytes, str]:
    """The line to append (with its newline) and its hash. The body is encoded once; ``hash``
    goes last, which a verifier does not mind: it re-encodes the body without it."""
    body = _CANONICAL[fmt]({**entry, "seq": seq, "prev": prev})
    chain_key = key if isinstance(key, ChainKey) else ChainKey(key)
    digest = chain_key.digest(prev, body)
    return body[:-1] + b',"hash":"' + digest.encode() + b'"}\n', digest


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    problem: str = ""
    line: int = 0
    first: int = 1  # the first entry present (older ones were rotated away)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "problem": self.problem,
            "line": self.line,
            "first_entry": self.first,
        }


def verify_lines(
    key: bytes, lines: Iterable[bytes], head: tuple[int, str] | None = None, floor: int = 1
) -> VerifyResult:
    """Check a whole log: every line intact, in order, none missing, the log reaching the
    checkpointed ``head`` (seq, hash), and starting no later than ``floor`` (the first entry the
    store says must still be there: older ones were rotated away by renaming the file)."""
    prev, seq, count, first = GENESIS, 0, 0, 1
    chain_key, fmt = ChainKey(key), 1
    seen_head = head is None or head[0] == 0
    for number, raw in enumerate(lines, start=1):
        count = number
        if not raw.endswith(b"\n"):
            return VerifyResult(False, number - 1, "the last line is cut short", number, first)
        try:
            doc = json.loads(raw)
            claimed = doc.pop("hash")
            entry_seq = doc["seq"]
            entry_prev = doc["prev"]
        except (ValueError, KeyError, TypeError, AttributeError):
            return VerifyResult(False, number - 1, "the line is not an audit entry", number, first)
        if number == 1 and doc.get("type") == CONTINUED and isinstance(entry_seq, int):
            prev, seq, first = entry_prev, entry_seq - 1, entry_seq  # older files rotated away
        if entry_seq != seq + 1:
            problem = (
                f"expected entry {seq + 1}, found {entry_seq}: "
                "entries were deleted, inserted or reordered"
            )
            return VerifyResult(False, number - 1, problem, number)
        if entry_prev != prev:
            return VerifyResult(False, number - 1, "the chain is broken before this line", number)
        if "format" in doc:
            fmt = doc["format"] if doc["format"] in _CANONICAL else 0
        if fmt == 0:
            return VerifyResult(False, number - 1, "the entry names an unknown format", number)
        expected = chain_key.digest(prev, _CANONICAL[fmt](doc))
        if not isinstance(claimed, str) or not hmac.compare_digest(claimed, expected):
            return VerifyResult(False, number - 1, "the entry was changed", number)
        prev, seq = claimed, entry_seq
        if head is not None and seq == head[0]:
            if not hmac.compare_digest(prev, head[1]):
                return VerifyResult(False, number, "the entry differs from the checkpoint", number)
            seen_head = True
    if count and first > floor:
        problem = (
            f"entries {floor} to {first - 1} are missing: the audit file was deleted or cut "
            "from its start (a rotated copy is read from beside the file)"
        )
        return VerifyResult(False, 0, problem, 1, first)
    if not seen_head:
        assert head is not None
        return VerifyResult(
            False,
            count,
            f"the log ends at entry {seq} but entry {head[0]} was written: it was truncated",
            count,
        )
    return VerifyResult(True, count, first=first)
