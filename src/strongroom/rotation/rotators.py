"""The rotator plugin interface, a server's registry of rotators, and the built-in random-value
rotator.

A rotator answers the four steps of a rotation. Every step must be idempotent: the engine runs
a step again after a crash, with the same context (the same rotation token and pending value).
Third-party rotators register under the ``strongroom.rotators`` entry-point group; an app that
embeds strongroom passes rotator objects (or plain callables) to the server it builds."""

from __future__ import annotations

import importlib.metadata
import threading
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from strongroom.egress import EgressPolicy
from strongroom.errors import BadRequest, RotationFailed
from strongroom.password_generation import PasswordPolicy, generate_password

__all__ = [
    "ENTRY_POINT_GROUP",
    "CallableRotator",
    "RandomRotator",
    "RotationContext",
    "RotationFailed",
    "Rotator",
    "RotatorRegistry",
    "StepFunction",
    "builtin_rotators",
    "deprecated_registrations",
    "register_rotator",
]

ENTRY_POINT_GROUP = "strongroom.rotators"


@dataclass
class RotationContext:
    namespace: str
    path: str
    token: str
    params: dict[str, Any]
    current: dict[str, Any] | None = field(repr=False)
    pending: dict[str, Any] | None = field(repr=False, default=None)
    read_secret: Callable[[str], dict[str, Any]] = field(repr=False, default=lambda ref: {})
    # Where a rotator may connect out to (public addresses, and what the operator allowed).
    egress: EgressPolicy = field(repr=False, default_factory=EgressPolicy)


class Rotator:
    """Subclass and override what the target system needs; the defaults do nothing."""

    name = ""

    def validate(self, params: dict[str, Any]) -> None:
        """Refuse bad parameters when the rotation is configured, not at 3 a.m."""

    def references(self, params: dict[str, Any]) -> list[str]:
        """The other secrets (``ns/path``) this rotator reads, such as admin credentials: the
        one who configures the rotation must be allowed to read each of them."""
        return []

    def create(self, ctx: RotationContext) -> dict[str, Any] | None:
        """The new value (the whole secret data) to store as ``pending``; or None from a rotator
        that wrote the pending version itself, under ``ctx.token`` (rotation/aws_lambda.py)."""
        raise NotImplementedError

    def set(self, ctx: RotationContext) -> None:
        """Make the target system accept ``ctx.pending``."""

    def test(self, ctx: RotationContext) -> None:
        """Prove ``ctx.pending`` works in the target system; raise RotationFailed if not."""

    def finish(self, ctx: RotationContext) -> None:
        """After promotion (``ctx.pending`` is now current)."""

    def rollback(self, ctx: RotationContext) -> None:
        """Undo ``set`` after a failed test, so ``ctx.current`` works again."""


class RandomRotator(Rotator):
    """A random password in one field of the secret (``key``, default ``password``); nothing
    outside strongroom to change. Parameters: ``key`` and ``policy`` (see PasswordPolicy)."""

    name = "random"

    def validate(self, params: dict[str, Any]) -> None:
        PasswordPolicy.from_json(params.get("policy", {}))
        if not isinstance(params.get("key", "password"), str):
            raise BadRequest("random rotator: key must be a string")

    def create(self, ctx: RotationContext) -> dict[str, Any]:
        policy = PasswordPolicy.from_json(ctx.params.get("policy", {}))
        value = dict(ctx.current or {})
        value[str(ctx.params.get("key", "password"))] = generate_password(policy)
        return value

    def test(self, ctx: RotationContext) -> None:
        key = str(ctx.params.get("key", "password"))
        if not ctx.pending or not isinstance(ctx.pending.get(key), str):
            raise RotationFailed(f"the pending value has no string field {key!r}")


StepFunction = Callable[[RotationContext], Any]


class CallableRotator(Rotator):
    """Custom logic in the same process: plain functions for the steps you need."""

    def __init__(
        self,
        name: str,
        create: StepFunction,
        set: StepFunction | None = None,
        test: StepFunction | None = None,
        finish: StepFunction | None = None,
        rollback: StepFunction | None = None,
    ) -> None:
        self.name = name
        self._steps = {"set": set, "test": test, "finish": finish, "rollback": rollback}
        self._create = create

    def create(self, ctx: RotationContext) -> dict[str, Any]:
        value = self._create(ctx)
        if not isinstance(value, dict):
            raise RotationFailed(f"rotator {self.name!r}: create must return a JSON object")
        return value

    def _run(self, step: str, ctx: RotationContext) -> None:
        function = self._steps[step]
        if function is not None:
            function(ctx)

    def set(self, ctx: RotationContext) -> None:
        self._run("set", ctx)

    def test(self, ctx: RotationContext) -> None:
        self._run("test", ctx)

    def finish(self, ctx: RotationContext) -> None:
        self._run("finish", ctx)

    def rollback(self, ctx: RotationContext) -> None:
        self._run("rollback", ctx)


def builtin_rotators() -> list[Rotator]:
    from strongroom.rotation.aws_rotator import AwsDefaultRotator
    from strongroom.rotation.postgres_rotator import PostgresRotator
    from strongroom.rotation.webhook import WebhookRotator

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


_deprecated: list[Rotator] = []


def register_rotator(rotator: Rotator) -> None:
    """Deprecated, kept for one release: pass rotators to the server you build instead
    (``create_app(settings, rotators=[...])`` or ``RotatorRegistry.register``). A rotator
    registered here is added to every server this process builds afterwards."""
    warnings.warn(
        "register_rotator is deprecated: pass rotators=[...] to create_app or Node",
        DeprecationWarning,
        stacklevel=2,
    )
    if not rotator.name:
        raise BadRequest("a rotator needs a name")
    _deprecated.append(rotator)


def deprecated_registrations() -> list[Rotator]:
    """Rotators given to ``register_rotator``, for the composition root."""
    return list(_deprecated)
