"""ParameterFilters of DescribeParameters and GetParametersByPath, checked and matched as
Parameter Store does (docs/compat-aws.md)."""

from __future__ import annotations

from typing import Any

from strongroom.compat.aws.fields import AwsError
from strongroom.compat.aws.ssm.models import Parameter
from strongroom.compat.aws.ssm.parameters import SsmService

__all__ = ["checked_filters", "filtered"]


_FILTER_OPTIONS = {
    "Name": ("Equals", "BeginsWith", "Contains"),
    "Type": ("Equals", "BeginsWith"),
    "KeyId": ("Equals", "BeginsWith"),
    "Tier": ("Equals", "BeginsWith"),
    "Path": ("OneLevel", "Recursive"),
    "Label": ("Equals",),
    "tag": ("Equals", "BeginsWith"),
}


_MAX_FILTERS = 20  # filters in one request (each key once; tag: keys may be many)


_BY_PATH_KEYS = ("Type", "KeyId", "Label", "tag")


_DESCRIBE_KEYS = ("Path", "Name", "Type", "KeyId", "Tier", "tag")


def checked_filters(filters: Any, *, by_path: bool) -> list[tuple[str, str, list[str]]]:
    """(key, option, values) of each ParameterFilter, refused as SSM refuses them."""
    if not isinstance(filters, list) or len(filters) > _MAX_FILTERS:
        raise AwsError(
            "ValidationException",
            f"ParameterFilters is a list of at most {_MAX_FILTERS} {{Key, Option, Values}}.",
        )
    checked, seen = [], set()
    for entry in filters:
        if not isinstance(entry, dict) or not isinstance(entry.get("Key"), str):
            raise AwsError("InvalidFilterKey", "A filter is {Key, Option, Values}.")
        key = entry["Key"]
        kind = "tag" if key.startswith("tag:") and len(key) > 4 else key
        valid = _BY_PATH_KEYS if by_path else _DESCRIBE_KEYS
        if kind not in valid:
            names = ", ".join(k for k in valid if k != "tag")
            raise AwsError(
                "InvalidFilterKey",
                f"The following filter key is not valid: {key}. Valid filter keys include: "
                f"[{names}].",
            )
        if key in seen:
            raise AwsError(
                "InvalidFilterKey",
                f"The following filter is duplicated in the request: {key}. A request can "
                "contain only one occurrence of a specific filter.",
            )
        seen.add(key)
        option = entry.get("Option") or ("OneLevel" if kind == "Path" else "Equals")
        if option not in _FILTER_OPTIONS[kind]:
            raise AwsError(
                "InvalidFilterOption",
                f"The following filter option is not valid: {option}. Valid options include: "
                f"[{', '.join(_FILTER_OPTIONS[kind])}].",
            )
        values = entry.get("Values") or []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise AwsError("InvalidFilterValue", f"The values of filter {key} are strings.")
        if len(values) > 50 or any(not 1 <= len(v) <= 1024 for v in values) or len(key) > 132:
            raise AwsError(
                "ValidationException",
                "A filter key is at most 132 characters, with at most 50 values of 1-1024 "
                "characters.",
            )
        if not values and kind != "tag":
            raise AwsError(
                "InvalidFilterValue",
                f"The following filter values are missing : null for filter key {key}.",
            )
        checked.append((key, str(option), values))
    return checked


def _matches(option: str, candidates: list[str], values: list[str]) -> bool:
    if option == "BeginsWith":
        return any(c.startswith(v) for c in candidates for v in values)
    if option == "Contains":
        return any(v in c for c in candidates for v in values)
    return any(c in values for c in candidates)


def filtered(
    service: SsmService,
    region: str,
    parameters: list[Parameter],
    filters: list[tuple[str, str, list[str]]],
) -> list[Parameter]:
    for key, option, values in filters:
        if key == "Label":  # applied by the service, which finds the labelled version
            continue
        if key == "Path":
            base = (values[0] if values else "/").strip("/")
            base = f"/{base}/" if base else "/"
            parameters = [
                p
                for p in parameters
                if p.name.startswith(base)
                and not (option == "OneLevel" and "/" in p.name[len(base) :])
            ]
        elif key.startswith("tag:"):
            tag = key[4:]
            kept = []
            for parameter in parameters:
                tags = service.tags_of(region, parameter)
                if tag in tags and (not values or _matches(option, [tags[tag]], values)):
                    kept.append(parameter)
            parameters = kept
        else:

            def field(p: Parameter, key: str = key) -> str:
                if key == "Name":
                    return p.name.removeprefix("/")
                return str({"Type": p.type, "KeyId": p.key_id, "Tier": p.tier}[key])

            wanted = [v.removeprefix("/") for v in values] if key == "Name" else values
            parameters = [p for p in parameters if _matches(option, [field(p)], wanted)]
    return parameters
