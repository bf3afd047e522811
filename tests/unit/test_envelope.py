from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.crypto import canonical_context, open_envelope, parse_envelope, seal
from strongroom.crypto.envelope import DataKeySource
from strongroom.errors import DecryptionError, UnsupportedFormat
from strongroom.keys import KeyringTerm

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "vectors" / "envelope_v1.json").read_text()
)
TERM = KeyringTerm(
    VECTORS["term_namespace"], VECTORS["term_number"], bytes.fromhex(VECTORS["term_key"]), 0.0
)
CTX = {"namespace": "n", "path": "a/b", "version": "1"}


def resolve(ref: str) -> DataKeySource:
    if ref != TERM.key_ref:
        raise DecryptionError()
    return TERM


@pytest.mark.parametrize("vector", VECTORS["positive"], ids=lambda v: v["name"])
def test_positive_vectors_open(vector: dict[str, str]) -> None:
    plaintext = open_envelope(
        bytes.fromhex(vector["envelope"]), resolve=resolve, context=VECTORS["context"]
    )
    assert plaintext == bytes.fromhex(vector["plaintext"])


@pytest.mark.parametrize("vector", VECTORS["negative"], ids=lambda v: v["name"])
def test_negative_vectors_fail_with_the_one_error(vector: dict[str, Any]) -> None:
    expected = UnsupportedFormat if vector["error"] == "UnsupportedFormat" else DecryptionError
    with pytest.raises(expected) as caught:
        open_envelope(bytes.fromhex(vector["envelope"]), resolve=resolve, context=vector["context"])
    if expected is DecryptionError:
        assert type(caught.value) is DecryptionError
        assert str(caught.value) == "decryption failed"


def test_header_layout_matches_the_spec() -> None:
    blob = seal(b"x", keys=TERM, context=CTX)
    assert blob[:4] == b"SR\x01\x01"
    ref_len = int.from_bytes(blob[4:6], "big")
    assert blob[6 : 6 + ref_len] == TERM.key_ref.encode()
    parsed = parse_envelope(blob)
    assert parsed.key_ref == TERM.key_ref and len(parsed.nonce) == 12
    assert len(parsed.ciphertext) == 1 + 16


def test_every_single_byte_flip_is_rejected() -> None:
    blob = seal(b'{"password":"hunter2"}', keys=TERM, context=CTX)
    for index in range(len(blob)):
        for mask in (0x01, 0x80):
            tampered = bytearray(blob)
            tampered[index] ^= mask
            with pytest.raises(DecryptionError):
                open_envelope(bytes(tampered), resolve=resolve, context=CTX)


def test_each_seal_uses_a_fresh_key_and_nonce() -> None:
    first, second = seal(b"same", keys=TERM, context=CTX), seal(b"same", keys=TERM, context=CTX)
    a, b = parse_envelope(first), parse_envelope(second)
    assert a.wrapped_dek != b.wrapped_dek and a.nonce != b.nonce


def test_canonical_context_is_order_independent_and_unambiguous() -> None:
    assert canonical_context({"a": "1", "b": "2"}) == canonical_context({"b": "2", "a": "1"})
    assert canonical_context({"ab": "c"}) != canonical_context({"a": "bc"})
    assert canonical_context({}) == b""


@settings(max_examples=50, deadline=None)
@given(
    plaintext=st.binary(max_size=2048),
    context=st.dictionaries(st.text(max_size=20), st.text(max_size=20), max_size=5),
    other=st.dictionaries(st.text(max_size=20), st.text(max_size=20), max_size=5),
)
def test_round_trip_and_context_binding(
    plaintext: bytes, context: dict[str, str], other: dict[str, str]
) -> None:
    blob = seal(plaintext, keys=TERM, context=context)
    assert open_envelope(blob, resolve=resolve, context=context) == plaintext
    if canonical_context(other) != canonical_context(context):
        with pytest.raises(DecryptionError):
            open_envelope(blob, resolve=resolve, context=other)


@settings(max_examples=200, deadline=None)
@given(namespace=st.text(max_size=30), path=st.text(max_size=60), version=st.integers(1, 10**9))
def test_the_fast_version_context_encoding_is_canonical(
    namespace: str, path: str, version: int
) -> None:
    from strongroom.service.secret_core import encoded_version_context, version_context

    expected = canonical_context(version_context(namespace, path, version))
    assert encoded_version_context(namespace, path, version) == expected
