"""Options every provider URI shares, checked the same way for each scheme."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from strongroom.errors import BadRequest

__all__ = ["DEFAULT_TIMEOUT", "MAX_TIMEOUT", "check_options", "timeout_option"]

DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 120.0


def timeout_option(params: Mapping[str, str]) -> float:
    """``timeout=`` seconds per provider call: 1-120, default 10."""
    raw = params.get("timeout", str(DEFAULT_TIMEOUT))
    try:
        timeout = float(raw)
    except ValueError:
        raise BadRequest("timeout is a number of seconds") from None
    if not 1 <= timeout <= MAX_TIMEOUT:
        raise BadRequest(f"timeout is 1 to {MAX_TIMEOUT:g} seconds")
    return timeout


def check_options(scheme: str, params: Mapping[str, str], known: Collection[str]) -> None:
    """A misspelt option is an error, not a silently ignored setting."""
    unknown = sorted(set(params) - set(known) - {"timeout"})
    if unknown:
        raise BadRequest(
            f"unknown {scheme} provider option {unknown[0]!r}; known: "
            + ", ".join(sorted({*known, "timeout"}))
        )
