"""Rotation: secret values that rotate themselves (four idempotent steps, staging labels,
pluggable rotators, a scheduler) — docs/rotation.md."""

from strongroom.password_generation import PasswordPolicy, generate_password
from strongroom.rotation.engine import STEPS, RotationService, RunResult
from strongroom.rotation.registry import RotatorRegistry
from strongroom.rotation.rotators import (
    CallableRotator,
    RandomRotator,
    RotationContext,
    RotationFailed,
    Rotator,
)

__all__ = [
    "STEPS",
    "CallableRotator",
    "PasswordPolicy",
    "RandomRotator",
    "RotationContext",
    "RotationFailed",
    "RotationService",
    "Rotator",
    "RotatorRegistry",
    "RunResult",
    "generate_password",
]
