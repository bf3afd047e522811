"""ListSecrets' filters, matched as Secrets Manager matches them (docs/compat-aws.md)."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

from strongroom.compat.aws.fields import AwsError
from strongroom.compat.aws.secretsmanager.models import SmSecret
from strongroom.types import JsonValue

__all__ = ["checked_filters", "matches"]


_FILTER_KEYS = (
    "description",
    "name",
    "tag-key",
    "tag-value",
    "primary-region",
    "owning-service",
    "all",
)


_SEPARATORS = frozenset("/-_+=.@")


_MAX_FILTERS = 10  # filters, and values in a filter, as botocore's model


_MAX_FILTER_VALUE = 512


_WORD_START = re.compile(r"(?=[^a-z][a-z])")


def checked_filters(filters: JsonValue) -> list[tuple[str, list[str]]]:
    """(key, values) of each filter, refused as Secrets Manager refuses them."""
    if not isinstance(filters, list) or len(filters) > _MAX_FILTERS:
        raise AwsError(
            "ValidationException",
            f"Filters is a list of at most {_MAX_FILTERS} {{Key, Values}}.",
        )
    checked = []
    for index, entry in enumerate(filters, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("Key"), str):
            raise AwsError("InvalidParameterException", "Invalid filter key")
        key, values = entry["Key"], entry.get("Values")
        if key not in _FILTER_KEYS:
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{key}' at 'filters.{index}.member.key' "
                "failed to satisfy constraint: Member must satisfy enum value set: "
                f"[{', '.join(_FILTER_KEYS)}]",
            )
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) for v in values)
        ):
            raise AwsError("InvalidParameterException", f"Invalid filter values for key: {key}")
        if len(values) > _MAX_FILTERS or any(len(v) > _MAX_FILTER_VALUE for v in values):
            raise AwsError(
                "ValidationException",
                f"A filter has at most {_MAX_FILTERS} values of at most {_MAX_FILTER_VALUE} "
                "characters.",
            )
        checked.append((key, values))
    return checked


def _words(text: str) -> list[str]:
    """The words AWS matches ``all`` and ``description`` filters against (lower case): split
    at white space, then at the one separator character a term uses (a term with two kinds of
    separators is one word, a separator alone none), then before each capital that starts a
    run of small letters (``AppBeta``: app, beta; ``COMPANYthings``: compan, ythings)."""
    words = []
    for term in text.split():
        used = {c for c in term if c in _SEPARATORS}
        if term in _SEPARATORS:
            continue
        if len(used) > 1:
            words.append(term.lower())
            continue
        for part in term.split(used.pop()) if used else [term]:
            words.extend(w.lower() for w in _WORD_START.split(part) if w)
    return words


def _word_match(pattern: str, attributes: list[str]) -> bool:
    """Every word of ``pattern`` begins a word of one of the attributes."""
    wanted = _words(pattern)
    return bool(wanted) and any(
        all(any(w.startswith(p) for w in _words(attribute)) for p in wanted)
        for attribute in attributes
    )


def _prefix_match(value: str, candidates: list[str]) -> bool:
    return any(c.startswith(value) for c in candidates)


def matches(found: SmSecret, filters: list[tuple[str, list[str]]]) -> bool:
    """Values of one filter are alternatives (``!x``: whatever ``x`` does not match); filters,
    the same key's too, must all be met."""
    tags = list(found.tags)
    for key, values in filters:
        if key in ("all", "description"):
            every = [found.name, found.description, *tags, *found.tags.values()]
            attributes = [a for a in (every if key == "all" else [found.description]) if a]
            hit: Callable[[str], bool] = partial(_word_match, attributes=attributes)
        else:
            candidates = {
                "name": [found.name],
                "tag-key": tags,
                "tag-value": list(found.tags.values()),
                # a replicated secret's (primary or replica); one never replicated has none
                "primary-region": [found.home_region]
                if found.replicas or found.primary_region
                else [],
            }.get(key, [])  # no secret here is owned by another service
            hit = partial(_prefix_match, candidates=candidates)
        # the values are alternatives; "!x" is met by what x does not match
        if not any(not hit(v[1:]) if v.startswith("!") else hit(v) for v in values):
            return False
    return True
