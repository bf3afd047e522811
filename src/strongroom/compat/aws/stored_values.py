"""What the AWS data models read back from a namespace of their own, checked on every surface's
write: a Secrets Manager value whose only key is ``SecretBinary`` is binary (so it must be
base64), and a Parameter Store version with a ``Value`` is a parameter (so its fields must be
what a parameter has, a ``SecureString``'s value a KMS ciphertext). A value that model could not
read is refused when written, not discovered by every reader afterwards."""

from __future__ import annotations

import base64
import binascii

from strongroom.crypto.kms_blob import parse_blob
from strongroom.errors import BadRequest, DecryptionError
from strongroom.types import JsonValue, SecretData

__all__ = [
    "PARAMETER_TYPES",
    "binary_value",
    "check_stored_value",
    "ciphertext_of",
    "parameter_problem",
]

PARAMETER_TYPES = ("String", "StringList", "SecureString")
_PARAMETER_TEXT_FIELDS = (
    "Name",
    "KeyId",
    "Description",
    "AllowedPattern",
    "Tier",
    "DataType",
    "LastModifiedUser",
)


def binary_value(value: JsonValue) -> bytes | None:
    """The bytes of a base64 string (None: not one)."""
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def ciphertext_of(value: str) -> bytes | None:
    """A SecureString's stored value as the KMS ciphertext it must be (None: it is not one)."""
    blob = binary_value(value)
    if blob is None:
        return None
    try:
        parse_blob(blob)
    except DecryptionError:
        return None
    return blob


def parameter_problem(doc: SecretData) -> str | None:
    """What makes a stored parameter version unreadable as one (None: nothing)."""
    value, kind = doc.get("Value"), doc.get("Type", "String")
    if not isinstance(value, str):
        return "Value must be a string"
    if kind not in PARAMETER_TYPES:
        return f"Type must be one of {', '.join(PARAMETER_TYPES)}"
    bad = [f for f in _PARAMETER_TEXT_FIELDS if f in doc and not isinstance(doc[f], str)]
    if bad:
        return f"{bad[0]} must be a string"
    if kind == "SecureString" and ciphertext_of(value) is None:
        return "a SecureString's Value must be a KMS ciphertext of this server (PutParameter)"
    return None


def check_stored_value(namespace: str, data: SecretData) -> None:
    """Refuse a write, through any surface, that an AWS data model could not read back."""
    if not namespace.startswith("aws-") or namespace.startswith("aws-kms-"):
        return
    if namespace.startswith("aws-ssm-"):
        if isinstance(data, dict) and "Value" in data:
            problem = parameter_problem(data)
            if problem is not None:
                raise BadRequest(
                    "in a Parameter Store namespace, a value with a 'Value' key is a parameter: "
                    f"{problem}; write it with PutParameter, or without a 'Value' key"
                )
        return
    binary_only = isinstance(data, dict) and set(data) == {"SecretBinary"}
    if binary_only and binary_value(data["SecretBinary"]) is None:
        raise BadRequest(
            "in a Secrets Manager namespace, a value whose only key is SecretBinary is the "
            "secret's binary value: it must be a base64 string (or add another key to store "
            "a JSON document)"
        )
