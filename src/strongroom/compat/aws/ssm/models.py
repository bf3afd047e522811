"""A parameter as Parameter Store shows it (``Parameter``, read from a strongroom secret's
version), and Parameter Store's names, types and limits."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from strongroom.compat.aws.ssm.errors import SsmError
from strongroom.compat.aws.stored_values import PARAMETER_TYPES
from strongroom.types import SecretData

__all__ = [
    "DATA_TYPES",
    "DEFAULT_KEY",
    "LABEL",
    "LABELS_KIND",
    "MAX_DEPTH",
    "MAX_LABELS",
    "MAX_VALUE_BYTES",
    "MAX_VERSIONS",
    "METADATA_KIND",
    "NAME",
    "NAME_RULES",
    "TAGS_KIND",
    "TYPES",
    "Parameter",
    "allowed_by_pattern",
    "parameter_of",
    "reserved_label",
    "ssm_namespace",
]

METADATA_KIND = "aws-ssm-metadata"  # a parameter's tags and labels (ResourceMetadata)
# Where releases before it kept them apart: read, moved into the one record at the next change
TAGS_KIND = "aws-ssm-tags"
LABELS_KIND = "aws-ssm-labels"
MAX_LABELS = 10  # on one parameter version
MAX_VERSIONS = 100  # of one parameter, as Parameter Store keeps (the oldest goes)
LABEL = re.compile(r"^[A-Za-z_.\-][A-Za-z0-9_.\-]{0,99}$")
TYPES = PARAMETER_TYPES
DEFAULT_KEY = "alias/aws/ssm"
MAX_VALUE_BYTES = {"Standard": 4096, "Advanced": 8192}
NAME = re.compile(r"^/?[A-Za-z0-9_.\-/]{1,2048}$")
MAX_DEPTH = 15
NAME_RULES = (  # AWS's words for a name it refuses
    'Parameter name: can\'t be prefixed with "ssm" (case-insensitive). If formed as a path, it '
    "can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of "
    "letters, numbers and the following 3 symbols .-_"
)


def ssm_namespace(region: str) -> str:
    return f"aws-ssm-{region}"


@dataclass(frozen=True)
class Parameter:
    """One version of a parameter, as stored (a SecureString's value is its CiphertextBlob)."""

    name: str
    version: int
    type: str
    value: str = field(repr=False)  # a String's value is a secret too
    modified: float
    key_id: str = ""
    description: str = ""
    allowed_pattern: str = ""
    tier: str = "Standard"
    data_type: str = "text"
    labels: tuple[str, ...] = ()
    modified_by: str = ""  # LastModifiedUser: the writer's IAM ARN

    def data(self) -> Mapping[str, str]:
        doc = {
            "Value": self.value,
            "Type": self.type,
            "Tier": self.tier,
            "DataType": self.data_type,
        }
        for key, value in (
            ("KeyId", self.key_id),
            ("Description", self.description),
            ("AllowedPattern", self.allowed_pattern),
            ("LastModifiedUser", self.modified_by),
        ):
            if value:
                doc[key] = value
        return doc


# DataType of a String parameter, as botocore's model lists them
DATA_TYPES = ("text", "aws:ec2:image", "aws:ssm:integration")


def reserved_label(label: str) -> bool:
    return label.lower().startswith(("aws", "ssm"))


def allowed_by_pattern(pattern: str, value: str) -> bool:
    """``AllowedPattern`` with RE2, whose time is linear in the value: a caller's pattern cannot
    make the server backtrack for ever. RE2 has no back-references or look-arounds; a pattern
    that uses them is refused."""
    import re2  # google-re2, in the server extra

    options = re2.Options()
    options.log_errors = False  # the pattern is the caller's: not for the server's log
    try:
        compiled = re2.compile(pattern, options)
    except re2.error:
        raise SsmError(
            "ValidationException",
            "AllowedPattern is not a regular expression this server can check in linear time "
            "(RE2 syntax: no back-references or look-arounds).",
        ) from None
    return compiled.fullmatch(value) is not None


def parameter_of(doc: SecretData, version: int, created: datetime, path: str = "") -> Parameter:
    if "Value" not in doc:  # written through another surface: its data, as a String
        return Parameter(
            "/" + path,
            version,
            "String",
            json.dumps(doc, separators=(",", ":"), sort_keys=True),
            created.timestamp(),
        )
    return Parameter(
        str(doc.get("Name") or "/" + path),
        version,
        str(doc.get("Type", "String")),
        str(doc["Value"]),
        created.timestamp(),
        str(doc.get("KeyId", "")),
        str(doc.get("Description", "")),
        str(doc.get("AllowedPattern", "")),
        str(doc.get("Tier", "Standard")),
        str(doc.get("DataType", "text")),
        modified_by=str(doc.get("LastModifiedUser", "")),
    )
