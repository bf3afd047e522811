"""Request fields as Vault reads them: it decodes weakly (``"2"`` is 2, ``"true"`` is true), and
durations print as Go does (``1h0m0s``)."""

from __future__ import annotations

from typing import Any

from strongroom.compat.vault.transit.fields import loose_bool
from strongroom.durations import parse_duration
from strongroom.errors import BadRequest
from strongroom.limits import MAX_INTEGER, is_version

__all__ = [
    "go_duration",
    "vault_bool",
    "vault_duration",
    "vault_int",
    "vault_versions",
]


def vault_int(doc: dict[str, Any], name: str) -> int | None:
    value = doc.get(name)
    if value is None:
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INTEGER:
        raise BadRequest(f"{name!r} must be an integer from 0 to {MAX_INTEGER}")
    return value


def vault_bool(doc: dict[str, Any], name: str) -> bool | None:
    value = doc.get(name)
    return None if value is None else loose_bool(value, name)


def vault_duration(doc: dict[str, Any], name: str) -> float | None:
    return parse_duration(doc.get(name), name)


def vault_versions(doc: dict[str, Any]) -> list[int]:
    raw = doc.get("versions")
    if isinstance(raw, str | int) and not isinstance(raw, bool):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise BadRequest("no version number provided")
    versions: list[int] = []
    for item in raw:
        if isinstance(item, str) and item.isascii() and item.isdigit() and len(item) <= 10:
            item = int(item)
        if not is_version(item):
            raise BadRequest(f"versions must be integers from 1 to {MAX_INTEGER}")
        versions.append(item)
    return versions


def go_duration(seconds: float) -> str:
    """Seconds as Go's time.Duration prints them: 0s, 30s, 1m30s, 1h0m0s."""
    whole = int(seconds)
    if whole <= 0:
        return "0s"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"
