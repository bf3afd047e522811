"""A namespace's keyring: its immutable, numbered terms (the newest encrypts) and the status of
each term."""

from __future__ import annotations

from dataclasses import dataclass, field

from strongroom.errors import DecryptionError
from strongroom.keys.term import KeyringTerm

__all__ = ["Keyring", "TermStatus", "Terms"]

Terms = list[tuple[int, bytes, float]]  # (number, key, created) of each term, oldest first


@dataclass(frozen=True)
class Keyring:
    namespace: str
    provider_ref: str  # the key that wraps this keyring, as its provider names it
    terms: tuple[KeyringTerm, ...] = field(repr=False)
    provider: str = ""  # the namespace's own key provider (--key-provider NAME); "" is the root

    @property
    def active(self) -> KeyringTerm:
        return self.terms[-1]

    def term(self, number: int) -> KeyringTerm:
        for term in self.terms:
            if term.number == number:
                return term
        raise DecryptionError()


@dataclass(frozen=True)
class TermStatus:
    number: int
    key_ref: str
    created: float
    active: bool
    encryptions: int
    versions_in_use: int
