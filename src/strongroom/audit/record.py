"""The typed form of what one audited event says: the front door builds audit entries from an
``AuditRecord`` a route hands it, and background work (rotation) hands the broker the same type.
Nothing is parsed back from response bytes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strongroom.errors import StrongroomError

__all__ = ["SENSITIVE_FIELDS", "AuditRecord"]

# Top-level entry fields whose every leaf each sink HMACs; all other fields are written as they are.
SENSITIVE_FIELDS = ("token", "accessor", "body", "data")


@dataclass(slots=True)
class AuditRecord:
    """One operation's outcome.

    ``response`` is the document the caller receives: sensitive, every scalar leaf and nested key
    HMAC'd. ``clear`` holds the fields a route marked as not sensitive (a secret read's version
    number and times), audited as they are. ``error`` is the typed failure, whatever the surface
    renders it as."""

    operation: str
    target: str = ""
    response: Any = field(default=None, repr=False)  # the answer: may hold secret values
    clear: Any = None
    error: StrongroomError | None = None

    @property
    def outcome(self) -> str:
        return "ok" if self.error is None else "error"

    def fields(self) -> dict[str, Any]:
        """The fields of the entry this record contributes (an error names the outcome; a
        request's entries carry the path already, so a route leaves ``target`` empty)."""
        out: dict[str, Any] = {"operation": self.operation}
        if self.target:
            out["target"] = self.target
        if self.error is not None:
            out["error"] = {"code": self.error.code, "message": self.error.message}
            if self.error.details:
                out["data"] = dict(self.error.details)
        elif self.response is not None:
            out["data"] = self.response
        if self.clear is not None:
            out["response_metadata"] = self.clear
        return out
