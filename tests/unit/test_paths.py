"""Canonical paths: the fast regex path and the full check agree on every input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.errors import BadRequest
from strongroom.limits import DEFAULT_LIMITS
from strongroom.paths import _check_segments, check_namespace, check_path, check_prefix

ALPHABET = st.sampled_from([*"ab.-_/%\\@~:", "é", "\x00", "\u202e", "e\u0301", " "])


def _full_check_accepts(path: str) -> bool:
    try:
        if not path:
            return False
        _check_segments(path, DEFAULT_LIMITS)
    except BadRequest:
        return False
    return True


@settings(max_examples=2000, deadline=None)
@given(st.lists(ALPHABET, max_size=24).map("".join))
def test_fast_and_full_checks_agree(path: str) -> None:
    try:
        check_path(path)
        accepted = True
    except BadRequest:
        accepted = False
    assert accepted == _full_check_accepts(path)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", ".", "..", ""]), min_size=1, max_size=6).map("/".join))
def test_dot_and_empty_segments_are_always_refused(path: str) -> None:
    segments = path.split("/")
    if any(s in ("", ".", "..") for s in segments):
        with pytest.raises(BadRequest):
            check_path(path)
    else:
        assert check_path(path) == path


def test_limits_on_length_and_segments() -> None:
    check_path("a" * DEFAULT_LIMITS.max_segment_bytes)
    with pytest.raises(BadRequest):
        check_path("a" * (DEFAULT_LIMITS.max_segment_bytes + 1))
    longest = DEFAULT_LIMITS.max_segment_bytes
    check_path(f"{'a' * longest}/{'b' * longest}")  # a path longer than a segment may be
    with pytest.raises(BadRequest, match="segment is longer"):
        check_path(f"a/{'b' * (longest + 1)}")  # a long segment after a short one
    check_path("/".join(["a"] * DEFAULT_LIMITS.max_path_segments))
    with pytest.raises(BadRequest):
        check_path("/".join(["a"] * (DEFAULT_LIMITS.max_path_segments + 1)))


def test_namespaces_and_prefixes() -> None:
    assert check_namespace("prod-eu_1") == "prod-eu_1"
    for bad in ("", "Prod", "-x", "a/b", "a" * 65):
        with pytest.raises(BadRequest):
            check_namespace(bad)
    assert check_prefix("app/") == "app" and check_prefix("") == ""
    with pytest.raises(BadRequest):
        check_prefix("app//")
