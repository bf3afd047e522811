"""AWS Systems Manager Parameter Store (``X-Amz-Target: AmazonSSM.<Operation>``) over
service/aws_ssm.py: shapes and names as botocore's model has them."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from strongroom.server.aws.wire import AwsError, integer, region_of, string
from strongroom.server.routes import Answer, Call, Route
from strongroom.service.aws_ssm import Parameter, SsmError, SsmService

__all__ = [
    "SSM_ROUTES",
    "add_tags",
    "delete_parameter",
    "delete_parameters",
    "describe_parameters",
    "get_parameter",
    "get_parameter_history",
    "get_parameters",
    "get_parameters_by_path",
    "label_parameter_version",
    "list_tags",
    "put_parameter",
    "remove_tags",
    "unlabel_parameter_version",
]

_MAX_NAMES = 10


def _ssm(call: Call) -> tuple[SsmService, str, dict[str, Any]]:
    return call.services.aws_ssm, region_of(call), call.json()


def _parameter_doc(
    service: SsmService, call: Call, region: str, parameter: Parameter, decrypt: bool
) -> dict[str, Any]:
    value = service.reveal(call.identity, region, parameter) if decrypt else parameter.value
    return {
        "Name": parameter.name,
        "Type": parameter.type,
        "Value": value,
        "Version": parameter.version,
        "LastModifiedDate": parameter.modified,
        "ARN": service.arn(region, parameter.name),
        "DataType": parameter.data_type,
    }


def _metadata_doc(service: SsmService, region: str, parameter: Parameter) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "Name": parameter.name,
        "ARN": service.arn(region, parameter.name),
        "Type": parameter.type,
        "LastModifiedDate": parameter.modified,
        "Version": parameter.version,
        "Tier": parameter.tier,
        "Policies": [],
        "DataType": parameter.data_type,
    }
    for key, value in (
        ("KeyId", parameter.key_id),
        ("Description", parameter.description),
        ("AllowedPattern", parameter.allowed_pattern),
    ):
        if value:
            doc[key] = value
    return doc


def _names(doc: dict[str, Any]) -> list[str]:
    names = doc.get("Names")
    if not isinstance(names, list) or not 1 <= len(names) <= _MAX_NAMES:
        raise AwsError("ValidationException", f"Names is a list of 1 to {_MAX_NAMES} names.")
    if not all(isinstance(n, str) for n in names):
        raise AwsError("ValidationException", "Names is a list of strings.")
    return names


def _page(doc: dict[str, Any], top: int) -> tuple[int, int]:
    size = integer(doc, "MaxResults")
    if size is not None and not 1 <= size <= top:
        raise AwsError(
            "ValidationException",
            f"1 validation error detected: Value '{size}' at 'maxResults' failed to satisfy "
            f"constraint: Member must have value less than or equal to {top}",
        )
    token = doc.get("NextToken")
    start = 0
    if token is not None:
        try:
            start = int(base64.urlsafe_b64decode(str(token).encode()).decode())
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise AwsError("InvalidNextToken", "The specified token isn't valid.") from None
    return start, size or top


def _next(answer: dict[str, Any], start: int, size: int, total: int) -> None:
    if start + size < total:
        answer["NextToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()


def put_parameter(call: Call) -> Answer:
    service, region, doc = _ssm(call)
    tags = doc.get("Tags")
    if tags is not None and doc.get("Overwrite"):
        raise AwsError(
            "ValidationException",
            "Invalid request: tags and overwrite can't be used together. To create a parameter "
            "with tags, please remove overwrite flag. To update tags for an existing parameter, "
            "please use AddTagsToResource or RemoveTagsFromResource.",
        )
    if doc.get("Policies") not in (None, "", "[]"):
        # refused, not ignored: an expiration that never happens would be worse than none
        raise AwsError(
            "InvalidPolicyTypeException",
            "Parameter policies (Expiration, ExpirationNotification, NoChangeNotification) are "
            "not supported by this server; leave Policies out (docs/compat-aws.md).",
        )
    version, tier = service.put(
        call.identity,
        region,
        doc.get("Name"),
        doc.get("Value"),
        type_=doc.get("Type"),
        overwrite=bool(doc.get("Overwrite")),
        key_id=doc.get("KeyId"),
        description=string(doc, "Description", max_len=1024),
        allowed_pattern=string(doc, "AllowedPattern", max_len=1024),
        tier=string(doc, "Tier"),
        data_type=string(doc, "DataType"),
    )
    if tags:
        service.set_tags(call.identity, region, doc.get("Name"), _tags(tags), [])
    return Answer({"Version": version, "Tier": tier}, clear=("Version", "Tier"))


def get_parameter(call: Call) -> Answer:
    service, region, doc = _ssm(call)
    parameter = service.get(call.identity, region, doc.get("Name"))
    decrypt = bool(doc.get("WithDecryption"))
    return Answer({"Parameter": _parameter_doc(service, call, region, parameter, decrypt)})


def get_parameters(call: Call) -> Answer:
    service, region, doc = _ssm(call)
    decrypt = bool(doc.get("WithDecryption"))
    found, invalid = [], []
    for name in _names(doc):
        try:
            parameter = service.get(call.identity, region, name)
        except SsmError as exc:
            if exc.aws_code not in ("ParameterNotFound", "ParameterVersionNotFound"):
                raise
            invalid.append(name)
            continue
        found.append(_parameter_doc(service, call, region, parameter, decrypt))
    return Answer({"Parameters": found, "InvalidParameters": invalid})


def get_parameters_by_path(call: Call) -> Answer:
    service, region, doc = _ssm(call)
    filters = _checked_filters(doc.get("ParameterFilters") or [], by_path=True)
    labels = next((tuple(values) for key, _, values in filters if key == "Label"), ())
    found = service.by_path(
        call.identity,
        region,
        doc.get("Path"),
        recursive=bool(doc.get("Recursive")),
        labels=labels,
    )
    found = _filtered(service, region, found, filters)
    start, size = _page(doc, 10)
    decrypt = bool(doc.get("WithDecryption"))
    page = [_parameter_doc(service, call, region, p, decrypt) for p in found[start : start + size]]
    answer: dict[str, Any] = {"Parameters": page}
    _next(answer, start, size, len(found))
    return Answer(answer)


def delete_parameter(call: Call) -> Answer:
    service, region, doc = _ssm(call)
    service.delete(call.identity, region, doc.get("Name"))
    return Answer({})


def delete_parameters(call: Call) -> Answer:
    service, region, doc = _ssm(call)
    deleted, invalid = [], []
    for name in _names(doc):
        try:
            service.delete(call.identity, region, name)
            deleted.append(name)
        except SsmError:
            invalid.append(name)
    return Answer({"DeletedParameters": deleted, "InvalidParameters": invalid})


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


def _checked_filters(filters: Any, *, by_path: bool) -> list[tuple[str, str, list[str]]]:
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


def _filtered(
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


def describe_parameters(call: Call) -> Answer:
    service, region, doc = _ssm(call)
    filters = _checked_filters(
        [*(doc.get("Filters") or []), *(doc.get("ParameterFilters") or [])], by_path=False
    )
    found = _filtered(service, region, service.describe(call.identity, region), filters)
    start, size = _page(doc, 50)
    answer: dict[str, Any] = {
        "Parameters": [_metadata_doc(service, region, p) for p in found[start : start + size]]
    }
    _next(answer, start, size, len(found))
    return Answer(answer)


def get_parameter_history(call: Call) -> Answer:
    service, region, doc = _ssm(call)
    versions = service.history(call.identity, region, doc.get("Name"))
    start, size = _page(doc, 50)
    decrypt = bool(doc.get("WithDecryption"))
    page = []
    for parameter in versions[start : start + size]:
        entry = _metadata_doc(service, region, parameter)
        entry.pop("ARN")
        entry["Value"] = (
            service.reveal(call.identity, region, parameter) if decrypt else parameter.value
        )
        entry["Labels"] = list(parameter.labels)
        page.append(entry)
    answer: dict[str, Any] = {"Parameters": page}
    _next(answer, start, size, len(versions))
    return Answer(answer)


def _tags(tags: Any) -> dict[str, str]:
    if not isinstance(tags, list) or not all(
        isinstance(t, dict) and isinstance(t.get("Key"), str) and isinstance(t.get("Value"), str)
        for t in tags
    ):
        raise AwsError("ValidationException", "Tags is a list of {Key, Value}.")
    return {t["Key"]: t["Value"] for t in tags}


def _resource(doc: dict[str, Any]) -> Any:
    if doc.get("ResourceType") != "Parameter":
        raise AwsError(
            "InvalidResourceType", "Only parameters (ResourceType Parameter) are served here."
        )
    return doc.get("ResourceId")


def add_tags(call: Call) -> Answer:
    service, region, doc = _ssm(call)
    service.set_tags(call.identity, region, _resource(doc), _tags(doc.get("Tags")), [])
    return Answer({})


def remove_tags(call: Call) -> Answer:
    service, region, doc = _ssm(call)
    names = doc.get("TagKeys")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise AwsError("ValidationException", "TagKeys is a list of strings.")
    service.set_tags(call.identity, region, _resource(doc), {}, names)
    return Answer({})


def list_tags(call: Call) -> Answer:
    service, region, doc = _ssm(call)
    tags = service.tags(call.identity, region, _resource(doc))
    return Answer({"TagList": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]})


def _labels(doc: dict[str, Any]) -> list[str]:
    labels = doc.get("Labels")
    if not isinstance(labels, list) or not 1 <= len(labels) <= 10:
        raise AwsError("ValidationException", "Labels is a list of 1 to 10 labels.")
    if not all(isinstance(label, str) for label in labels):
        raise AwsError("ValidationException", "Labels is a list of strings.")
    return labels


def label_parameter_version(call: Call) -> Answer:
    service, region, doc = _ssm(call)
    version, invalid = service.label(
        call.identity, region, doc.get("Name"), integer(doc, "ParameterVersion"), _labels(doc)
    )
    return Answer({"InvalidLabels": invalid, "ParameterVersion": version})


def unlabel_parameter_version(call: Call) -> Answer:
    service, region, doc = _ssm(call)
    version = integer(doc, "ParameterVersion")
    if version is None:
        raise AwsError("ValidationException", "ParameterVersion is required.")
    removed, invalid = service.unlabel(
        call.identity, region, doc.get("Name"), version, _labels(doc)
    )
    return Answer({"RemovedLabels": removed, "InvalidLabels": invalid})


_OPERATIONS: dict[str, Callable[[Call], Answer]] = {
    "PutParameter": put_parameter,
    "GetParameter": get_parameter,
    "GetParameters": get_parameters,
    "GetParametersByPath": get_parameters_by_path,
    "DeleteParameter": delete_parameter,
    "DeleteParameters": delete_parameters,
    "DescribeParameters": describe_parameters,
    "GetParameterHistory": get_parameter_history,
    "AddTagsToResource": add_tags,
    "RemoveTagsFromResource": remove_tags,
    "ListTagsForResource": list_tags,
    "LabelParameterVersion": label_parameter_version,
    "UnlabelParameterVersion": unlabel_parameter_version,
}

SSM_ROUTES = tuple(
    Route("POST", f"/AmazonSSM.{name}", handler, f"ssm{name}", f"Parameter Store {name}")
    for name, handler in _OPERATIONS.items()
)
