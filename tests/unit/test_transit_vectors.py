"""The published Transit ciphertext format (docs/transit-ciphertext.md), held to its vectors:
every vector opens with strongroom's own primitives and parser, and every rejected one fails
with its documented error."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from strongroom.compat.vault.transit.fields import parse_ciphertext
from strongroom.compat.vault.transit.models import format_ciphertext
from strongroom.crypto.named_keys import derive_key, hmac_digest, symmetric_cipher, verify
from strongroom.errors import BadRequest, DecryptionError

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "transit_v1.json").read_text())


def _b(text: str) -> bytes:
    return base64.b64decode(text)


@pytest.mark.parametrize("vector", VECTORS["encryption"], ids=lambda v: v["name"])
def test_every_encryption_vector_opens(vector: dict[str, Any]) -> None:
    version, raw = parse_ciphertext(vector["ciphertext"])
    assert version == vector["key_version"]
    assert raw[:12] == _b(vector["nonce"])  # the nonce leads, then ciphertext and tag
    key = _b(vector["key"])
    if vector.get("derived"):
        key = derive_key(key, _b(vector["context"]))
    associated = _b(vector["associated_data"]) if "associated_data" in vector else None
    opened = symmetric_cipher(vector["type"], key).open(raw, associated)
    assert opened == _b(vector["plaintext"])
    assert format_ciphertext(version, raw) == vector["ciphertext"]


@pytest.mark.parametrize("vector", VECTORS["rejected"], ids=lambda v: v["name"])
def test_every_rejected_vector_fails_as_documented(vector: dict[str, Any]) -> None:
    with pytest.raises((BadRequest, DecryptionError)) as failed:
        _, raw = parse_ciphertext(vector["ciphertext"])
        if len(raw) < 28:
            raise BadRequest("invalid ciphertext length")
        symmetric_cipher(vector["type"], _b(vector["key"])).open(raw, None)
    assert failed.value.message == vector["error"]


def test_signature_and_hmac_vectors() -> None:
    for vector in VECTORS["signature"]:
        _, signature = parse_ciphertext(vector["signature"], "signature")
        assert verify(vector["type"], _b(vector["key"]), _b(vector["input"]), signature)
        assert not verify(vector["type"], _b(vector["key"]), b"other input", signature)
    for vector in VECTORS["hmac"]:
        _, mac = parse_ciphertext(vector["hmac"], "hmac")
        assert hmac_digest(_b(vector["key"]), _b(vector["input"]), vector["algorithm"]) == mac


def test_encryption_makes_its_own_nonce_every_time() -> None:
    cipher = symmetric_cipher("aes256-gcm96", bytes(32))
    sealed = {cipher.seal(b"same", None) for _ in range(1000)}
    assert len(sealed) == 1000 and len({s[:12] for s in sealed}) == 1000
