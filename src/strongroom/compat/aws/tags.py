"""Tags, one concept for the three AWS APIs: a resource's key -> value map, changed by adding
and removing, with AWS's limits.

On the wire tags are a list of ``{Key, Value}`` (``{TagKey, TagValue}`` in KMS) and removals a
list of keys, parsed by compat/aws/fields.py (``tags_in``, ``tag_keys_in``) as botocore's models
constrain them: a key of 1-128 characters, a value of at most 256, at most 50 in a request; a
bad tag is a ``ValidationException`` in every API. At most 50 tags on a resource; "too many" is
each API's own code (``too_many``). The record that keeps the map is
the resource's own (a secret's, a KMS key's, a parameter's tag record), changed with
compare-and-set by its backend."""

from __future__ import annotations

from collections.abc import Callable, Mapping

__all__ = ["MAX_KEY", "MAX_TAGS", "MAX_VALUE", "retagged"]

MAX_TAGS = 50  # on one resource
MAX_KEY = 128
MAX_VALUE = 256


def retagged(
    current: Mapping[str, str],
    add: Mapping[str, str],
    remove: list[str],
    too_many: Callable[[], Exception],
) -> Mapping[str, str]:
    """``current`` with ``add`` put and ``remove`` taken off; ``too_many()`` is raised when the
    result has more than MAX_TAGS."""
    tags = {**current, **add}
    for name in remove:
        tags.pop(name, None)
    if len(tags) > MAX_TAGS:
        raise too_many()
    return tags
