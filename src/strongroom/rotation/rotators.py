"""The rotator plugin interface and the built-in random-value rotator (a server's registry of
rotators is in registry.py).

A rotator answers the four steps of a rotation. Every step must be idempotent: the engine runs
a step again after a crash, with the same context (the same rotation token and pending value).
Third-party rotators register under the ``strongroom.rotators`` entry-point group; an app that
embeds strongroom passes rotator objects (or plain callables) to the server it builds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from strongroom.egress import EgressPolicy
from strongroom.errors import BadRequest, RotationFailed
from strongroom.password_generation import PasswordPolicy, generate_password

__all__ = [
    "CallableRotator",
    "RandomRotator",
    "RotationContext",
    "RotationFailed",
    "Rotator",
    "StepFunction",
]


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
