"""The published AWS KMS CiphertextBlob format (docs/aws-kms-ciphertext.md), held to its vectors:
each opens with its key material and context, names its key and version, and fails with any
other context, any flipped byte or another version's key."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from strongroom.crypto.kms_blob import HEADER_BYTES, open_blob, parse_blob
from strongroom.errors import DecryptionError

_VECTORS = Path(__file__).parent.parent / "vectors"
# format 1: a single-region key's UUID; format 2: a multi-Region key's mrk- id
CASES = [
    (form, case)
    for form in (1, 2)
    for case in json.loads((_VECTORS / f"aws_kms_v{form}.json").read_text())["cases"]
]


def _b(text: str) -> bytes:
    return base64.b64decode(text)


@pytest.mark.parametrize(
    ("form", "case"), CASES, ids=[f"format{f}-v{c['key_version']}" for f, c in CASES]
)
def test_every_vector_opens_and_names_its_key(form: int, case: dict[str, Any]) -> None:
    blob, material = _b(case["ciphertext_blob"]), _b(case["key_material"])
    header = parse_blob(blob)
    assert (header.key_id, header.version) == (case["key_id"], case["key_version"])
    assert (
        blob[:4] == b"SRK" + bytes([form])
        and len(blob) == HEADER_BYTES + 12 + len(_b(case["plaintext"])) + 16
    )
    context = case["encryption_context"]
    assert open_blob(blob, material, dict(reversed(list(context.items())))) == _b(case["plaintext"])
    for other in ({**context, "extra": ""}, {k: v + "x" for k, v in context.items()} or {"a": ""}):
        with pytest.raises(DecryptionError):
            open_blob(blob, material, other)
    for index in (0, 3, 5, 21, HEADER_BYTES, len(blob) - 1):
        flipped = bytearray(blob)
        flipped[index] ^= 1
        with pytest.raises(DecryptionError):
            parse_blob(bytes(flipped))
            open_blob(bytes(flipped), material, context)
    with pytest.raises(DecryptionError):
        open_blob(blob, bytes(32), context)


def test_blobs_too_short_or_of_another_format_are_refused() -> None:
    for blob in (
        b"",
        b"SRK",
        b"SRK\x02" + bytes(60),  # key version 0
        b"SRK\x03" + bytes(16) + b"\x00\x00\x00\x01" + bytes(28),  # no such format
        b"SRK\x01" + bytes(16) + bytes(4) + bytes(28),
    ):
        with pytest.raises(DecryptionError):
            parse_blob(blob)
