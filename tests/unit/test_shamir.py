"""Shamir sharing over GF(2^8): arithmetic against a textbook table, and split/combine."""

from __future__ import annotations

import itertools
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.errors import BadRequest
from strongroom.seal.shamir import combine, gf_inverse, gf_multiply, split


def _slow_multiply(a: int, b: int) -> int:
    """Carry-less multiplication then reduction: the textbook definition, for comparison."""
    product = 0
    for bit in range(8):
        if b >> bit & 1:
            product ^= a << bit
    for bit in range(14, 7, -1):
        if product >> bit & 1:
            product ^= 0x11B << (bit - 8)
    return product


def test_multiply_and_inverse_over_the_whole_field() -> None:
    for a in range(256):
        for b in range(256):
            assert gf_multiply(a, b) == _slow_multiply(a, b)
    assert gf_inverse(0) == 0
    assert all(gf_multiply(a, gf_inverse(a)) == 1 for a in range(1, 256))
    assert gf_multiply(0x57, 0x83) == 0xC1  # FIPS-197 section 4.2


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=1, max_size=40), st.integers(2, 7), st.data())
def test_any_threshold_of_shares_rebuilds_the_secret(
    secret: bytes, n: int, data: st.DataObject
) -> None:
    t = data.draw(st.integers(2, n))
    shares = split(secret, n, t)
    for subset in itertools.combinations(shares, t):
        assert combine(list(subset)) == secret
    fewer = data.draw(st.permutations(shares))[: t - 1]
    if len(secret) >= 16:
        assert combine(fewer) != secret  # t-1 shares give an unrelated value


def test_bad_share_sets_are_refused() -> None:
    shares = split(os.urandom(32), 5, 3)
    with pytest.raises(BadRequest):
        combine([shares[0], shares[0], shares[1]])
    with pytest.raises(BadRequest):
        combine([shares[0], shares[1][:-1]])
    with pytest.raises(BadRequest):
        split(b"k", 3, 1)
    with pytest.raises(BadRequest):
        split(b"k", 2, 3)
