"""Tags, one concept for the three AWS APIs: a resource's key -> value map, changed by adding
and removing, with AWS's limits.

On the wire tags are a list of ``{Key, Value}`` (``{TagKey, TagValue}`` in KMS) and removals a
list of keys. Each is checked as botocore's models constrain them: a key of 1-128 characters, a
value of at most 256, at most 50 tags on a resource. A bad tag is a ``ValidationException`` in
every API; "too many" is each API's own code (``too_many``). The record that keeps the map is
the resource's own (a secret's, a KMS key's, a parameter's tag record), changed with
compare-and-set by its backend."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from strongroom.compat.aws.fields import AwsError

__all__ = ["MAX_KEY", "MAX_TAGS", "MAX_VALUE", "retagged", "tag_keys_in", "tag_list", "tags_in"]

MAX_TAGS = 50  # on one resource
MAX_KEY = 128
MAX_VALUE = 256


def _checked_key(key: object, member: str) -> str:
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY:
        raise AwsError("ValidationException", f"{member}: a tag key is 1-{MAX_KEY} characters.")
    return key


def tags_in(
    doc: Mapping[str, Any],
    member: str = "Tags",
    *,
    key: str = "Key",
    value: str = "Value",
    duplicates: tuple[str, str] | None = None,
) -> dict[str, str]:
    """The tags a request names (none when ``member`` is absent). ``duplicates``: the error
    (code, message) for a key named twice; without it the last one wins."""
    tags = doc.get(member) or []
    if not isinstance(tags, list) or not all(
        isinstance(t, dict) and isinstance(t.get(key), str) and isinstance(t.get(value), str)
        for t in tags
    ):
        raise AwsError("ValidationException", f"{member} is a list of {{{key}, {value}}}.")
    if len(tags) > MAX_TAGS:
        raise AwsError("ValidationException", f"{member} has at most {MAX_TAGS} tags.")
    found: dict[str, str] = {}
    for tag in tags:
        name = _checked_key(tag[key], member)
        if len(tag[value]) > MAX_VALUE:
            raise AwsError(
                "ValidationException", f"{member}: a tag value is at most {MAX_VALUE} characters."
            )
        if name in found and duplicates is not None:
            raise AwsError(*duplicates)
        found[name] = tag[value]
    return found


def tag_keys_in(doc: Mapping[str, Any], member: str = "TagKeys") -> list[str]:
    """The keys a request removes."""
    names = doc.get(member)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise AwsError("ValidationException", f"{member} is a list of strings.")
    if len(names) > MAX_TAGS:
        raise AwsError("ValidationException", f"{member} has at most {MAX_TAGS} keys.")
    return [_checked_key(name, member) for name in names]


def tag_list(
    tags: Mapping[str, str], *, key: str = "Key", value: str = "Value"
) -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in tags.items()]


def retagged(
    current: Mapping[str, str],
    add: Mapping[str, str],
    remove: list[str],
    too_many: Callable[[], Exception],
) -> dict[str, str]:
    """``current`` with ``add`` put and ``remove`` taken off; ``too_many()`` is raised when the
    result has more than MAX_TAGS."""
    tags = {**current, **add}
    for name in remove:
        tags.pop(name, None)
    if len(tags) > MAX_TAGS:
        raise too_many()
    return tags
