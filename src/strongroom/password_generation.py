"""Random passwords under a policy: length, character classes, exclusions, one of each class.
The same generator serves ``strongroom gen password``, the API and the random rotator."""

from __future__ import annotations

import math
import secrets
import string
from dataclasses import dataclass, field
from typing import Any

from strongroom.errors import BadRequest

__all__ = ["CLASSES", "DEFAULT_CLASSES", "MAX_LENGTH", "PasswordPolicy", "generate_password"]

CLASSES = {
    "lower": string.ascii_lowercase,
    "upper": string.ascii_uppercase,
    "digits": string.digits,
    "symbols": "!#$%&()*+,-./:;<=>?@[]^_{|}~",
    "space": " ",  # only when asked for (the AWS API's IncludeSpace), and never required
}
DEFAULT_CLASSES = ("lower", "upper", "digits", "symbols")
MAX_LENGTH = 4096


@dataclass(frozen=True)
class PasswordPolicy:
    length: int = 32
    classes: tuple[str, ...] = DEFAULT_CLASSES
    exclude: str = ""
    require_each: bool = True
    alphabet: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not 1 <= self.length <= MAX_LENGTH:
            raise BadRequest(f"password length must be 1-{MAX_LENGTH}")
        unknown = set(self.classes) - set(CLASSES)
        if unknown or not self.classes:
            raise BadRequest(f"character classes are some of: {', '.join(CLASSES)}")
        alphabet = "".join(
            c for name in self.classes for c in CLASSES[name] if c not in self.exclude
        )
        if not alphabet:
            raise BadRequest("the exclusions leave no characters to choose from")
        if self.require_each:
            for name in self.required_classes:
                if not set(CLASSES[name]) - set(self.exclude):
                    raise BadRequest(f"the exclusions leave nothing of class {name!r}")
            if self.length < len(self.required_classes):
                raise BadRequest("the password is shorter than the number of required classes")
        object.__setattr__(self, "alphabet", alphabet)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> PasswordPolicy:
        if not isinstance(doc, dict):
            raise BadRequest("a password policy is a JSON object")
        classes = doc.get("classes", list(DEFAULT_CLASSES))
        if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
            raise BadRequest("classes must be a list of class names")
        length, exclude = doc.get("length", 32), doc.get("exclude", "")
        if not isinstance(length, int) or isinstance(length, bool):
            raise BadRequest("length must be an integer")
        if not isinstance(exclude, str):
            raise BadRequest("exclude must be a string of characters")
        return cls(length, tuple(classes), exclude, bool(doc.get("require_each", True)))

    def to_json(self) -> dict[str, Any]:
        return {
            "length": self.length,
            "classes": list(self.classes),
            "exclude": self.exclude,
            "require_each": self.require_each,
        }

    @property
    def required_classes(self) -> tuple[str, ...]:
        """The classes ``require_each`` asks one character of (a space is never required)."""
        return tuple(name for name in self.classes if name != "space")

    @property
    def entropy_bits(self) -> float:
        """An upper bound: length x log2(alphabet); requiring each class costs a little less."""
        return self.length * math.log2(len(self.alphabet))


def generate_password(policy: PasswordPolicy) -> str:
    """Uniform over the alphabet from the OS's CSPRNG; with ``require_each``, drawn again until
    every class appears (rejection keeps the result uniform over the passwords that qualify)."""
    required = [set(CLASSES[n]) - set(policy.exclude) for n in policy.required_classes]
    while True:
        password = "".join(secrets.choice(policy.alphabet) for _ in range(policy.length))
        if not policy.require_each or all(not r.isdisjoint(password) for r in required):
            return password
