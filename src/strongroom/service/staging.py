"""Staging labels on secret versions: ``current`` (what readers get), ``pending`` (a rotation's
untested value), ``previous`` (the value before the last promotion), and custom labels.

Labels live in the secret's settings, so they change in the same atomic write as the version
they point to. A secret without labels reads its newest version, as before."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from strongroom.errors import BadRequest
from strongroom.limits import Limits
from strongroom.policy.grants import Grant
from strongroom.store.protocol import SecretSettings
from strongroom.types import SecretData, SecretValue, VersionMetadata

__all__ = [
    "LABEL_CHARS",
    "RESERVED_LABELS",
    "StagedVersions",
    "Staging",
    "check_label",
    "promoted_settings",
    "relabelled_settings",
    "staged_settings",
]

RESERVED_LABELS = frozenset({"current", "pending", "previous"})


@dataclass(frozen=True)
class Staging:
    """A secret's labels (name -> version) and the token of the rotation that wrote its
    ``pending`` version, if one did."""

    labels: Mapping[str, int] = field(default_factory=dict)
    pending_token: str | None = field(default=None, repr=False)

    @classmethod
    def of(cls, settings: SecretSettings) -> Staging:
        """The staging kept in a secret's settings."""
        labels = {str(name): int(version) for name, version in settings.get("labels", {}).items()}
        token = settings.get("pending_token")
        return cls(labels, str(token) if token is not None else None)


LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


def staged_settings(
    settings: SecretSettings, number: int, before: int, pending_token: str | None
) -> SecretSettings:
    """The settings after writing version ``number`` (``before`` was the newest). A rotation's
    write becomes ``pending`` under its token; any other write becomes ``current`` at once."""
    updated = settings.copy()
    labels = dict(updated.get("labels", {}))
    if before and "current" not in labels:
        labels["current"] = before
    if pending_token is not None:
        labels["pending"] = number
        updated["pending_token"] = pending_token
    else:
        if "current" in labels:
            labels["previous"] = labels["current"]
        labels["current"] = number
    updated["labels"] = labels
    return updated


def promoted_settings(settings: SecretSettings, version: int) -> SecretSettings:
    """``pending`` → ``current``, the old ``current`` → ``previous``."""
    updated = settings.copy()
    labels = dict(updated.get("labels", {}))
    if labels.get("current") != version:
        if "current" in labels:
            labels["previous"] = labels["current"]
        labels["current"] = version
    if labels.get("pending") == version:
        del labels["pending"]
        updated.pop("pending_token", None)
    updated["labels"] = labels
    return updated


def check_label(label: str) -> None:
    """A custom label's name: not reserved, 1-64 characters from LABEL_CHARS."""
    if label in RESERVED_LABELS:
        raise BadRequest(f"{label!r} is moved by rotation only; custom labels are any other name")
    if not label or len(label) > 64 or set(label) - LABEL_CHARS:
        raise BadRequest("labels use 1-64 characters from a-z, 0-9, '-' and '_'")


def relabelled_settings(
    settings: SecretSettings, label: str, version: int | None
) -> SecretSettings:
    """Move (or with None, remove) a custom label; the reserved ones belong to rotation."""
    check_label(label)
    updated = settings.copy()
    labels = dict(updated.get("labels", {}))
    if version is None:
        labels.pop(label, None)
    else:
        labels[label] = version
    updated["labels"] = labels
    return updated


class StagedVersions(Protocol):
    """The narrow port the rotation engine uses instead of the whole secret service: staged
    versions of one secret, read and moved under the engine's grant for it (policy/grants.py's
    ``system_grant``: the engine checked the caller when the rotation was configured).
    ``SecretService`` implements it."""

    limits: Limits

    def labels(self, grant: Grant) -> Staging | None: ...

    def read_stage(self, grant: Grant, stage: str) -> SecretValue: ...

    def read_granted(self, grant: Grant, version: int | None = None) -> SecretValue: ...

    def write_pending(
        self, grant: Grant, data: SecretData, rotation_token: str
    ) -> VersionMetadata: ...

    def promote(self, grant: Grant, version: int) -> None: ...

    def drop_pending(self, grant: Grant, version: int) -> None: ...
