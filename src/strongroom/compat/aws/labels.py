"""Labels, one concept for the AWS APIs that name versions: a resource's label -> version map,
each label on one version at a time, moved by putting it on another.

Parameter Store calls them labels (at most 10 on a version), Secrets Manager stages (AWSCURRENT
and the others are strongroom's own labels, service/staging.py; a custom stage that is no
strongroom label name is kept here, at most 20 on a secret). The limits and their error codes
are each API's; the record that keeps the map is the resource's own, changed with
compare-and-set by its backend."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

__all__ = ["labels_on", "relabelled", "unlabelled"]


def relabelled(
    current: Mapping[str, int],
    labels: Iterable[str],
    version: int,
    *,
    too_many: Callable[[Mapping[str, int]], Exception | None] = lambda moved: None,
) -> Mapping[str, int]:
    """``current`` with ``labels`` on ``version`` (moved off any version that had them);
    ``too_many(result)`` names the error a limit of the API's makes of the result, if any."""
    moved = {**current, **dict.fromkeys(labels, version)}
    refused = too_many(moved)
    if refused is not None:
        raise refused
    return moved


def unlabelled(
    current: Mapping[str, int], labels: Iterable[str], version: int | None = None
) -> tuple[Mapping[str, int], list[str]]:
    """(``current`` without those of ``labels`` that were on ``version``, or on any version when
    None; the labels taken off)."""
    removed = [
        label
        for label in dict.fromkeys(labels)
        if label in current and (version is None or current[label] == version)
    ]
    return {k: v for k, v in current.items() if k not in removed}, removed


def labels_on(current: Mapping[str, int], version: int) -> list[str]:
    """The labels on ``version``, sorted."""
    return sorted(label for label, on in current.items() if on == version)
