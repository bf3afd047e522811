"""The fields of an auth request body, parsed as Vault's endpoints take them: lists sent as
comma-separated text too, booleans as ``true``/``false`` text, bounded counts and metadata, and a
role's policies (``root`` only from a root caller)."""

from __future__ import annotations

from typing import Any

from strongroom.auth.identity import Identity
from strongroom.auth.records import DEFAULT_TOKEN_TYPE
from strongroom.errors import AccessDenied, BadRequest
from strongroom.policy.parse import assignable_policies

__all__ = [
    "MAX_COUNT",
    "MAX_META_KEY_BYTES",
    "MAX_META_PAIRS",
    "MAX_META_VALUE_BYTES",
    "count",
    "flag",
    "role_policies",
    "string_list",
    "string_map",
    "token_type",
    "within",
]


def string_list(doc: dict[str, Any], name: str) -> list[str]:
    value = doc.get(name, [])
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f"{name!r} must be a list of strings")
    return value


def role_policies(doc: dict[str, Any], caller: Identity, holder: str) -> list[str]:
    """The policies a role or user gives its tokens (``token_policies``, or Vault's older
    ``policies``): assignable names, ``root`` only from a root token."""
    policies = string_list(doc, "token_policies") or string_list(doc, "policies")
    assignable_policies(policies)
    if "root" in policies and not caller.root:
        raise AccessDenied(f"only a root token can give {holder} the root policy")
    return policies


def token_type(doc: dict[str, Any]) -> str:
    """A role's ``token_type`` (Vault's ``default``, ``service`` or ``batch``), as given and
    shown again on read. strongroom issues service tokens only: batch tokens (never stored,
    never revoked one by one) are refused rather than answered with another kind."""
    value = doc.get("token_type", DEFAULT_TOKEN_TYPE)
    if value == "batch":
        raise BadRequest(
            "token_type 'batch' is not served: strongroom issues service tokens only "
            "(token_type service or default)"
        )
    if value not in (DEFAULT_TOKEN_TYPE, "service"):
        raise BadRequest(f"invalid 'token_type' value \"{value}\"")  # Vault's words
    return str(value)


MAX_META_PAIRS = 64
MAX_META_KEY_BYTES = 128
MAX_META_VALUE_BYTES = 512


def string_map(doc: dict[str, Any], name: str) -> dict[str, str]:
    """Token or secret-id metadata: at most 64 string pairs, keys up to 128 bytes and values up
    to 512 (each token carries it, and every lookup returns it)."""
    value = doc.get(name) or {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise BadRequest(f"{name!r} must be an object of string values")
    if len(value) > MAX_META_PAIRS or any(
        len(k.encode()) > MAX_META_KEY_BYTES or len(v.encode()) > MAX_META_VALUE_BYTES
        for k, v in value.items()
    ):
        raise BadRequest(
            f"{name!r} holds at most {MAX_META_PAIRS} pairs, keys of at most "
            f"{MAX_META_KEY_BYTES} bytes and values of at most {MAX_META_VALUE_BYTES}"
        )
    return value


MAX_COUNT = 2**31 - 1


def count(doc: dict[str, Any], name: str) -> int:
    """A use count from a request body: an integer from 0 (unlimited) to 2^31 - 1."""
    value = doc.get(name, 0) or 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise BadRequest(f"{name!r} must be an integer from 0 to {MAX_COUNT}")
    return value


def flag(doc: dict[str, Any], name: str, default: bool = False) -> bool:
    """A boolean as Vault's CLI sends it too (``disable_local_ca_jwt=true`` is the text)."""
    value = doc.get(name, default)
    if value in (True, "true", "1"):
        return True
    if value in (False, "false", "0"):
        return False
    raise BadRequest(f"{name} must be true or false")


def within(limit: Any, requested: float | int | None) -> float | None:
    """The requested value within a limit (0/None: unlimited on either side)."""
    values = [float(v) for v in (limit, requested) if v]
    return min(values) if values else None
