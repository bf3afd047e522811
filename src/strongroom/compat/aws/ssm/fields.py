"""PutParameter's members that Parameter Store's model constrains, read off the wire before the
backend runs: as in AWS, a request that breaks the model is refused before any right is checked
or any parameter looked up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strongroom.compat.aws.ssm.errors import SsmError
from strongroom.compat.aws.ssm.models import TYPES
from strongroom.compat.aws.validation import model_error, validation_message

__all__ = ["parameter_type_in", "value_in"]

_TYPE_ENUM = "Member must satisfy enum value set: [SecureString, StringList, String]"


def value_in(doc: Mapping[str, Any]) -> str:
    """``Value``: a string of at least one character (its size is the tier's to check)."""
    value = doc.get("Value")
    if isinstance(value, str) and value:
        return value
    if value == "":  # AWS shows an empty value as it is; any other is never shown
        message = (
            "1 validation error detected: Value '' at 'value' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1."
        )
    elif value is None:
        message = (
            "1 validation error detected: Value null at 'value' failed to satisfy constraint: "
            "Member must not be null"
        )
    else:
        message = "Value must be a string."
    raise SsmError("ValidationException", message)


def parameter_type_in(doc: Mapping[str, Any]) -> str | None:
    """``Type``: String, StringList or SecureString (None when absent: an overwrite keeps the
    parameter's type)."""
    chosen = doc.get("Type")
    if chosen is None:
        return None
    if isinstance(chosen, str) and chosen in TYPES:
        return chosen
    shown = chosen if isinstance(chosen, str) else ""
    raise SsmError(
        "ValidationException", validation_message([model_error(shown, "type", _TYPE_ENUM)])
    )
