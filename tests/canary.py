"""Scanning artifacts for planted canaries in every encoding a leak could take."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import quote, quote_plus

__all__ = ["encodings", "find_canaries"]


def _base64_forms(value: bytes) -> list[bytes]:
    # A canary embedded in a larger blob is base64-encoded at one of three alignments;
    # take the stable middle of each so any alignment is found.
    forms = []
    for shift in range(3):
        encoded = base64.b64encode(b"\x00" * shift + value)
        stable = encoded[4 * ((shift + 2) // 3) + 4 : -4]
        forms.extend([stable, stable.replace(b"+", b"-").replace(b"/", b"_")])
    return [f for f in forms if len(f) >= 12]


def encodings(canary: str) -> dict[str, bytes]:
    raw = canary.encode()
    forms = {
        "raw": raw,
        "hex": raw.hex().encode(),
        "HEX": raw.hex().upper().encode(),
        "url": quote(canary).encode(),
        "url+": quote_plus(canary).encode(),
        "json": json.dumps(canary)[1:-1].encode(),
        "utf16": canary.encode("utf-16-le"),
    }
    for index, form in enumerate(_base64_forms(raw)):
        forms[f"base64-{index}"] = form
    return forms


def find_canaries(blobs: dict[str, bytes], canaries: list[str]) -> list[str]:
    """Return "where: canary as encoding" for every hit."""
    hits = []
    for where, blob in blobs.items():
        for canary in canaries:
            for name, form in encodings(canary).items():
                if form in blob:
                    hits.append(f"{where}: {canary} as {name}")
    return hits


def read_tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
