"""Wycheproof AES-GCM vectors through strongroom's AES-GCM layer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from strongroom.crypto._aead import Aead
from strongroom.errors import DecryptionError

DOC: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "vectors" / "wycheproof" / "aes_gcm_test.json").read_text()
)
OURS = [
    t
    for g in DOC["testGroups"]
    if (g["keySize"], g["ivSize"], g["tagSize"]) == (256, 96, 128)
    for t in g["tests"]
]
OTHERS = [
    t
    for g in DOC["testGroups"]
    if (g["keySize"], g["ivSize"], g["tagSize"]) != (256, 96, 128)
    for t in g["tests"]
]


def test_the_file_is_the_full_suite() -> None:
    assert DOC["numberOfTests"] == sum(len(g["tests"]) for g in DOC["testGroups"]) == 316
    assert len(OURS) > 20


@pytest.mark.parametrize("case", OURS, ids=lambda t: f"tc{t['tcId']}")
def test_aes256_gcm_vectors(case: dict[str, Any]) -> None:
    aead = Aead(bytes.fromhex(case["key"]))
    iv, aad, msg = bytes.fromhex(case["iv"]), bytes.fromhex(case["aad"]), bytes.fromhex(case["msg"])
    sealed = bytes.fromhex(case["ct"]) + bytes.fromhex(case["tag"])
    if case["result"] == "valid":
        assert aead.decrypt(iv, sealed, aad) == msg
        assert aead.encrypt(iv, msg, aad) == sealed
    else:
        with pytest.raises(DecryptionError):
            aead.decrypt(iv, sealed, aad)


@pytest.mark.parametrize("case", OTHERS[::7], ids=lambda t: f"tc{t['tcId']}")
def test_other_key_and_nonce_sizes_are_refused(case: dict[str, Any]) -> None:
    """Our layer accepts only 256-bit keys and 96-bit nonces; anything else never decrypts."""
    key, iv = bytes.fromhex(case["key"]), bytes.fromhex(case["iv"])
    sealed = bytes.fromhex(case["ct"]) + bytes.fromhex(case["tag"])
    with pytest.raises(DecryptionError):
        Aead(key).decrypt(iv, sealed, bytes.fromhex(case["aad"]))
