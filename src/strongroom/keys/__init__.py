"""Keys: namespace keyrings of numbered terms, their stored form, and the manager that loads,
rotates, retires and re-wraps them (design.md §2)."""

from strongroom.keys.keyring import Keyring, TermStatus
from strongroom.keys.manager import Keyrings
from strongroom.keys.term import KeyringTerm, parse_term_ref, term_ref

__all__ = ["Keyring", "KeyringTerm", "Keyrings", "TermStatus", "parse_term_ref", "term_ref"]
