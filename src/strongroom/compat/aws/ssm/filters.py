"""ParameterFilters of DescribeParameters and GetParametersByPath, checked and matched as
Parameter Store does (docs/compat-aws.md)."""

from __future__ import annotations

import re

from strongroom.compat.aws.fields import AwsError, validation_errors
from strongroom.compat.aws.ssm.models import Parameter
from strongroom.compat.aws.ssm.parameters import SsmService
from strongroom.compat.aws.validation import model_error
from strongroom.types import JsonValue

__all__ = ["checked_filters", "filtered"]


_FILTER_OPTIONS = {
    "Name": ("Equals", "BeginsWith", "Contains"),
    "Type": ("Equals", "BeginsWith"),
    "KeyId": ("Equals", "BeginsWith"),
    "Tier": ("Equals", "BeginsWith"),
    "Path": ("Recursive", "OneLevel"),
    "Label": ("Equals",),
    "tag": ("Equals", "BeginsWith"),
}
_FILTER_VALUES = {
    "Tier": ("Standard", "Advanced", "Intelligent-Tiering"),
    "Type": ("String", "StringList", "SecureString"),
}

_MAX_FILTERS = 20  # filters in one request (each key once; tag: keys may be many)

_BY_PATH_KEYS = ("Type", "KeyId", "Label", "tag")

_DESCRIBE_KEYS = ("Path", "Name", "Type", "KeyId", "Tier", "tag")

_KEY_PATTERN = re.compile(r"tag:.+|Name|Type|KeyId|Path|Label|Tier", re.S)
_PATH_VALUE = re.compile(r"/[a-zA-Z0-9_.\-/]*")
_PATH_RULES = (
    "The parameter doesn't meet the parameter name requirements. The parameter name must begin "
    'with a forward slash "/". It can\'t be prefixed with "aws" or "ssm" (case-insensitive). It '
    "must use only letters, numbers, or the following symbols: . (period), - (hyphen), "
    "_ (underscore). Special characters are not allowed. All sub-paths, if specified, must use "
    'the forward slash symbol "/". Valid example: /get/parameters2-/by1./path0_.'
)


def checked_filters(filters: JsonValue, *, by_path: bool) -> list[tuple[str, str, list[str]]]:
    """(key, option, values) of each ParameterFilter, refused as SSM refuses them: first every
    member against the API's model (all such errors in one message, as AWS words them), then
    each filter's meaning."""
    if not isinstance(filters, list) or len(filters) > _MAX_FILTERS:
        raise AwsError(
            "ValidationException",
            f"ParameterFilters is a list of at most {_MAX_FILTERS} {{Key, Option, Values}}.",
        )
    given: list[tuple[str, str, list[str]]] = []  # (key, option or "", values)
    for entry in filters:
        key = entry.get("Key") if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or not isinstance(key, str):
            raise AwsError("InvalidFilterKey", "A filter is {Key, Option, Values}.")
        values = entry.get("Values") or []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise AwsError("InvalidFilterValue", f"The values of filter {key} are strings.")
        option = entry.get("Option") or ""
        if not isinstance(option, str):
            raise AwsError("InvalidFilterOption", "A filter's Option is a string.")
        given.append((key, option, [str(v) for v in values]))
    validation_errors(_model_errors(given))
    checked, seen = [], set()
    for key, given_option, values in given:
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
        option = given_option or ("OneLevel" if kind == "Path" else "Equals")
        if option not in _FILTER_OPTIONS[kind]:
            raise AwsError(
                "InvalidFilterOption",
                f"The following filter option is not valid: {option}. Valid options include: "
                f"[{', '.join(_FILTER_OPTIONS[kind])}].",
            )
        if not values and kind != "tag":
            raise AwsError(
                "InvalidFilterValue",
                f"The following filter values are missing : null for filter key {key}.",
            )
        _check_values(kind, values)
        checked.append((key, option, values))
    return checked


def _model_errors(filters: list[tuple[str, str, list[str]]]) -> list[str]:
    """What the API's model refuses in the filters, in AWS's words (Coral's)."""
    errors = []
    for number, (key, option, values) in enumerate(filters, start=1):
        at = f"parameterFilters.{number}.member"
        if not _KEY_PATTERN.fullmatch(key):
            errors.append(
                model_error(
                    key,
                    f"{at}.key",
                    "Member must satisfy regular expression pattern: "
                    "tag:.+|Name|Type|KeyId|Path|Label|Tier",
                )
            )
        if len(key) > 132:
            errors.append(
                model_error(key, f"{at}.key", "Member must have length less than or equal to 132")
            )
        if len(option) > 10:
            errors.append(
                model_error(
                    option, f"{at}.option", "Member must have length less than or equal to 10"
                )
            )
        if len(values) > 50:
            errors.append(
                model_error(
                    values, f"{at}.values", "Member must have length less than or equal to 50"
                )
            )
        if any(not 1 <= len(v) <= 1024 for v in values):
            errors.append(
                model_error(
                    values,
                    f"{at}.values",
                    "Member must satisfy constraint: [Member must have length less than or "
                    "equal to 1024, Member must have length greater than or equal to 1]",
                )
            )
    return errors


def _check_values(kind: str, values: list[str]) -> None:
    for value in values:
        if kind in _FILTER_VALUES and value not in _FILTER_VALUES[kind]:
            raise AwsError(
                "InvalidFilterValue",
                f"The following filter value is not valid: {value}. Valid values include: "
                f"[{', '.join(_FILTER_VALUES[kind])}].",
            )
        if kind != "Path":
            continue
        if value.lower().startswith(("/aws", "/ssm")):
            raise AwsError(
                "ValidationException",
                'Filters for common parameters can\'t be prefixed with "aws" or "ssm" '
                "(case-insensitive). When using global parameters, please specify within a "
                "global namespace.",
            )
        if "//" in value or not _PATH_VALUE.fullmatch(value):
            raise AwsError("ValidationException", _PATH_RULES)


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
