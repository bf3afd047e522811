"""A server's registry of rotators: the built-in ones, those the app that embeds the server
passes, and those of installed packages (the ``strongroom.rotators`` entry points). It imports
the built-in rotators, which import only the interface (rotators.py): no import cycle."""

from __future__ import annotations

import importlib.metadata
import threading
from collections.abc import Iterable

from strongroom.errors import BadRequest
from strongroom.rotation.aws_rotator import AwsDefaultRotator
from strongroom.rotation.postgres_rotator import PostgresRotator
from strongroom.rotation.rotators import RandomRotator, Rotator
from strongroom.rotation.webhook import WebhookRotator

__all__ = ["ENTRY_POINT_GROUP", "RotatorRegistry", "builtin_rotators"]

ENTRY_POINT_GROUP = "strongroom.rotators"


def builtin_rotators() -> list[Rotator]:
    return [RandomRotator(), PostgresRotator(), WebhookRotator(), AwsDefaultRotator()]


class RotatorRegistry:
    """The rotators one server knows, by name: built in, registered by the app that embeds the
    server, and those of installed packages (the ``strongroom.rotators`` entry points, read by
    the composition root with ``load_entry_points``). One per server; no global state."""

    def __init__(self, rotators: Iterable[Rotator] = ()) -> None:
        self._rotators: dict[str, Rotator] = {}
        self._lock = threading.Lock()
        for rotator in (*builtin_rotators(), *rotators):
            self.register(rotator)

    def register(self, rotator: Rotator) -> None:
        """Make ``rotator`` available by its name (replacing one of that name)."""
        if not rotator.name:
            raise BadRequest("a rotator needs a name")
        with self._lock:
            self._rotators[rotator.name] = rotator

    def load_entry_points(self) -> None:
        """Add the rotators installed packages publish (a name already taken keeps its rotator)."""
        for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            factory = entry.load()
            rotator = factory() if isinstance(factory, type) else factory
            if isinstance(rotator, Rotator):
                rotator.name = rotator.name or entry.name
                with self._lock:
                    self._rotators.setdefault(entry.name, rotator)

    def get(self, name: str) -> Rotator:
        with self._lock:
            rotator = self._rotators.get(name)
            known = sorted(self._rotators)
        if rotator is None:
            raise BadRequest(f"unknown rotator {name!r}; known: {', '.join(known)}")
        return rotator
