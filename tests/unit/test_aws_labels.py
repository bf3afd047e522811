"""Labels, one concept for the AWS APIs that name versions (compat/aws/labels.py): a label is on
one version at a time, a limit refuses and changes nothing, and only labels on the named version
come off."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from strongroom.compat.aws.labels import labels_on, relabelled, unlabelled


def test_a_label_moves_to_the_version_it_is_put_on() -> None:
    current = {"blue": 1, "green": 2}
    moved = relabelled(current, ["blue", "new"], 3)
    assert moved == {"blue": 3, "green": 2, "new": 3}
    assert current == {"blue": 1, "green": 2}  # the caller's map is not changed
    assert labels_on(moved, 3) == ["blue", "new"]


def test_a_limit_refuses_the_whole_change() -> None:
    def at_most_two(moved: Mapping[str, int]) -> Exception | None:
        return ValueError("too many") if len(labels_on(moved, 1)) > 2 else None

    with pytest.raises(ValueError, match="too many"):
        relabelled({"a": 1, "b": 1}, ["c"], 1, too_many=at_most_two)
    assert relabelled({"a": 1, "b": 1}, ["c"], 2, too_many=at_most_two) == {"a": 1, "b": 1, "c": 2}


def test_only_labels_on_the_named_version_come_off() -> None:
    kept, removed = unlabelled({"a": 1, "b": 2}, ["a", "b", "a", "zzz"], 1)
    assert kept == {"b": 2} and removed == ["a"]
    kept, removed = unlabelled({"a": 1, "b": 2}, ["b"])
    assert kept == {"a": 1} and removed == ["b"]
