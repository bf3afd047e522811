"""Durations as Vault writes them: seconds as a number, or "90s", "15m", "1h30m", "7d"."""

from __future__ import annotations

import re

from strongroom.errors import BadRequest

__all__ = ["MAX_SECONDS", "parse_duration"]

_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)")  # ASCII digits only
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
MAX_SECONDS = 100 * 365 * 86400.0


def parse_duration(value: object, name: str) -> float | None:
    """Seconds, or None when absent; BadRequest naming the field otherwise."""
    if value is None or value == "":
        return None
    seconds: float
    if isinstance(value, bool):
        raise BadRequest(f'{name!r} must be a duration such as 3600, "1h" or "30m"')
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit():  # "²".isdigit() is True too
            seconds = float(text)
        else:
            parts = _PART.findall(text)
            if not parts or "".join(n + u for n, u in parts) != text:
                raise BadRequest(f'{name!r} must be a duration such as 3600, "1h" or "30m"')
            seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    else:
        raise BadRequest(f'{name!r} must be a duration such as 3600, "1h" or "30m"')
    if not 0 <= seconds <= MAX_SECONDS:
        raise BadRequest(f"{name!r} must be between 0 and 100 years")
    return seconds
