"""AWS's words for input its API model refuses (what its front end, Coral, answers), shared by
the three AWS APIs: text only, so a backend raises it under its own error type."""

from __future__ import annotations

__all__ = ["model_error", "validation_message"]


def model_error(value: str | list[str], field: str, constraint: str) -> str:
    """One member the API's model refuses, the value shown as AWS shows it. Only for members
    that never carry a secret (names, filter keys, types): a value or a plaintext is refused
    naming the member, never its value."""
    shown = f"[{', '.join(value)}]" if isinstance(value, list) else value
    return f"Value '{shown}' at '{field}' failed to satisfy constraint: {constraint}"


def validation_message(errors: list[str]) -> str:
    """Every model error of a request in one message, counted as AWS counts them."""
    count = f"{len(errors)} validation error{'s' if len(errors) > 1 else ''}"
    return f"{count} detected: {'; '.join(errors)}"
