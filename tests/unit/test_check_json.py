"""check_json refuses a lone surrogate wherever it sits and JSON nested too deep; it accepts
any other text, ASCII or not."""

from __future__ import annotations

from typing import Any

import pytest

from strongroom.errors import BadRequest, LimitExceeded
from strongroom.jsondata import check_json

ACCEPTED: list[Any] = [
    {"data": {"password": "bench-password-value", "user": "app"}},
    {"clé": "välue €", "emoji": "\U0001f600", "cjk": ["秘密"]},  # text beyond ASCII, valid
    {"nested": {"list": [1, 2.5, True, None, "x"]}},
    "plain",
    [],
]

REFUSED: list[Any] = [
    {"value": "a\ud800b"},  # in a value
    {"x\udc00": 1},  # in a key
    {"deep": [{"list": ["ok", "\udfff"]}]},  # below lists and objects
    "\ud83d",  # the document itself
]


@pytest.mark.parametrize("doc", ACCEPTED)
def test_valid_text_passes_ascii_or_not(doc: Any) -> None:
    check_json(doc, 10)


@pytest.mark.parametrize("doc", REFUSED)
def test_a_lone_surrogate_is_refused_wherever_it_is(doc: Any) -> None:
    with pytest.raises(BadRequest, match="lone surrogate"):
        check_json(doc, 10)


def test_depth_is_counted_through_objects_and_lists() -> None:
    check_json({"a": [{"b": 1}]}, 3)
    with pytest.raises(LimitExceeded, match="deeper than 2 levels"):
        check_json({"a": [{"b": 1}]}, 2)
