"""Parameter Store on the wire (``X-Amz-Target: AmazonSSM.<Operation>``): shapes and names
as botocore's model has them."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from strongroom.compat.aws.fields import (
    AwsError,
    integer,
    region_of,
    string,
    tag_keys_in,
    tag_list,
    tags_in,
    validation_errors,
)
from strongroom.compat.aws.ssm.errors import SsmError
from strongroom.compat.aws.ssm.fields import parameter_type_in, value_in
from strongroom.compat.aws.ssm.filters import (
    checked_filters,
    filtered,
)
from strongroom.compat.aws.ssm.models import Parameter
from strongroom.compat.aws.ssm.parameters import SsmService
from strongroom.compat.aws.validation import model_error
from strongroom.server.routes import Answer, Call

__all__ = [
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
_MAX_NAME = 2048


def _name(doc: dict[str, Any]) -> str:
    """The request's parameter Name (or ARN), 1-2048 characters as botocore's model has it."""
    return string(doc, "Name", required=True, max_len=_MAX_NAME)


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
        ("LastModifiedUser", parameter.modified_by),
    ):
        if value:
            doc[key] = value
    return doc


def _names(doc: dict[str, Any]) -> list[str]:
    names = doc.get("Names")
    if not isinstance(names, list) or not names:
        raise AwsError("ValidationException", f"Names is a list of 1 to {_MAX_NAMES} names.")
    if not all(isinstance(n, str) for n in names):
        raise AwsError("ValidationException", "Names is a list of strings.")
    if len(names) > _MAX_NAMES:
        limit = f"Member must have length less than or equal to {_MAX_NAMES}."
        validation_errors([model_error(names, "names", limit)])
    return list(dict.fromkeys(names))  # a name asked twice is answered once, as SSM does


def _page(doc: dict[str, Any], top: int) -> tuple[int, int]:
    size = integer(doc, "MaxResults")
    if size is not None and not 1 <= size <= top:
        bound = f"less than or equal to {top}" if size > top else "greater than or equal to 1"
        validation_errors(
            [model_error(str(size), "maxResults", f"Member must have value {bound}.")]
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
    wanted = tags_in(doc)  # checked before anything is written
    version, tier = service.put(
        call.identity,
        region,
        _name(doc),
        value_in(doc),
        type_=parameter_type_in(doc),
        overwrite=bool(doc.get("Overwrite")),
        key_id=string(doc, "KeyId"),
        description=string(doc, "Description", max_len=1024),
        allowed_pattern=string(doc, "AllowedPattern", max_len=1024),
        tier=string(doc, "Tier"),
        data_type=string(doc, "DataType"),
    )
    if wanted:
        service.set_tags(call.identity, region, _name(doc), wanted, [])
    return Answer({"Version": version, "Tier": tier}, clear=("Version", "Tier"))


def get_parameter(call: Call) -> Answer:
    service, region, doc = _ssm(call)
    parameter = service.get(call.identity, region, _name(doc))
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
    filters = checked_filters(doc.get("ParameterFilters") or [], by_path=True)
    labels = next((tuple(values) for key, _, values in filters if key == "Label"), ())
    found = service.by_path(
        call.identity,
        region,
        string(doc, "Path", required=True, max_len=_MAX_NAME),
        recursive=bool(doc.get("Recursive")),
        labels=labels,
    )
    found = filtered(service, region, found, filters)
    start, size = _page(doc, 10)
    decrypt = bool(doc.get("WithDecryption"))
    page = [_parameter_doc(service, call, region, p, decrypt) for p in found[start : start + size]]
    answer: dict[str, Any] = {"Parameters": page}
    _next(answer, start, size, len(found))
    return Answer(answer)


def delete_parameter(call: Call) -> Answer:
    service, region, doc = _ssm(call)
    service.delete(call.identity, region, _name(doc))
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


def describe_parameters(call: Call) -> Answer:
    service, region, doc = _ssm(call)
    if doc.get("Filters") and doc.get("ParameterFilters"):
        raise AwsError(
            "ValidationException",
            "You can use either Filters or ParameterFilters in a single request.",
        )
    filters = checked_filters(
        doc.get("Filters") or doc.get("ParameterFilters") or [], by_path=False
    )
    found = filtered(service, region, service.describe(call.identity, region), filters)
    start, size = _page(doc, 50)
    answer: dict[str, Any] = {
        "Parameters": [_metadata_doc(service, region, p) for p in found[start : start + size]]
    }
    _next(answer, start, size, len(found))
    return Answer(answer)


def get_parameter_history(call: Call) -> Answer:
    service, region, doc = _ssm(call)
    versions = service.history(call.identity, region, _name(doc))
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


def _resource(doc: dict[str, Any]) -> Any:
    if doc.get("ResourceType") != "Parameter":
        raise AwsError(
            "InvalidResourceType", "Only parameters (ResourceType Parameter) are served here."
        )
    return doc.get("ResourceId")


def add_tags(call: Call) -> Answer:
    service, region, doc = _ssm(call)
    if not isinstance(doc.get("Tags"), list):
        raise AwsError("ValidationException", "Tags is a list of {Key, Value}.")
    service.set_tags(call.identity, region, _resource(doc), tags_in(doc), [])
    return Answer({})


def remove_tags(call: Call) -> Answer:
    service, region, doc = _ssm(call)
    service.set_tags(call.identity, region, _resource(doc), {}, tag_keys_in(doc))
    return Answer({})


def list_tags(call: Call) -> Answer:
    service, region, doc = _ssm(call)
    tags = service.tags(call.identity, region, _resource(doc))
    return Answer({"TagList": tag_list(dict(sorted(tags.items())))})


def _labels(doc: dict[str, Any]) -> list[str]:
    labels = doc.get("Labels")
    if not isinstance(labels, list) or not 1 <= len(labels) <= 10:
        raise AwsError("ValidationException", "Labels is a list of 1 to 10 labels.")
    if not all(isinstance(label, str) for label in labels):
        raise AwsError("ValidationException", "Labels is a list of strings.")
    if not all(1 <= len(label) <= 100 for label in labels):
        # botocore's model: each label 1-100 characters (a valid length with a bad name comes
        # back in InvalidLabels instead)
        each = (
            "Member must satisfy constraint: [Member must have length less than or equal to "
            "100, Member must have length greater than or equal to 1]"
        )
        validation_errors([model_error(labels, "labels", each)])
    return labels


def label_parameter_version(call: Call) -> Answer:
    service, region, doc = _ssm(call)
    version, invalid = service.label(
        call.identity,
        region,
        _name(doc),
        integer(doc, "ParameterVersion"),
        _labels(doc),
    )
    return Answer({"InvalidLabels": invalid, "ParameterVersion": version})


def unlabel_parameter_version(call: Call) -> Answer:
    service, region, doc = _ssm(call)
    version = integer(doc, "ParameterVersion")
    if version is None:
        raise AwsError("ValidationException", "ParameterVersion is required.")
    removed, invalid = service.unlabel(
        call.identity,
        region,
        _name(doc),
        version,
        _labels(doc),
    )
    return Answer({"RemovedLabels": removed, "InvalidLabels": invalid})
