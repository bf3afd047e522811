"""Vault's encryption key operations, as strongroom has them (``sys/rotate``, ``sys/key-status``).

Vault encrypts its storage with one barrier key and ``sys/rotate`` starts a new term of it.
strongroom's data is sealed under each namespace's keyring (keys/manager.py), so a rotation here
starts a new term in every keyring at once: new versions are sealed under it, older terms keep
opening what they sealed (retire them with ``strongroom keys retire`` after a rewrap). The term
Vault reports is the server's count of these rotations, kept in one record."""

from __future__ import annotations

import json
from dataclasses import dataclass

from strongroom.auth import Identity
from strongroom.clock import Clock
from strongroom.errors import BadRequest
from strongroom.keys.manager import Keyrings
from strongroom.store.protocol import Store
from strongroom.store.records import Records

__all__ = ["EncryptionKeyService", "KeyStatus"]

_RECORD = "encryption-term"


@dataclass(frozen=True)
class KeyStatus:
    term: int
    installed: float  # when the term began: the last rotation, or the oldest keyring
    encryptions: int  # sealed under the active terms of every keyring


class EncryptionKeyService:
    def __init__(self, store: Store, keyrings: Keyrings, clock: Clock) -> None:
        self._store = store
        self._keyrings = keyrings
        self._clock = clock
        self._terms = Records(store, "system", _decode, _encode)

    def rotate(self, identity: Identity) -> KeyStatus:
        """A new term in every keyring (Vault: sudo on ``sys/rotate``)."""
        identity.require("update", "sys/rotate")
        identity.require("sudo", "sys/rotate")
        for namespace in self._keyrings.namespaces():
            self._keyrings.rotate(namespace)
        now = self._clock.now()
        self._terms.change(_RECORD, lambda term: ((term[0] if term else 1) + 1, now))
        return self._status()  # the rotation's right covers its answer: no second check

    def backed_up_keys(self, identity: Identity, *, delete: bool = False) -> None:
        """Vault's ``sys/rekey/backup`` (sudo): strongroom keeps no copy of unseal key shares, so
        a read finds none (Vault's 400) and a delete has nothing to remove."""
        identity.require("sudo", "sys/rekey/backup")
        if not delete:
            raise BadRequest("no backed-up keys found")

    def status(self, identity: Identity) -> KeyStatus:
        identity.require("read", "sys/key-status")
        return self._status()

    def _status(self) -> KeyStatus:
        keyrings = [self._keyrings.get(n) for n in self._keyrings.namespaces()]
        encryptions = sum(self._keyrings.encryptions(k.active) for k in keyrings)
        term = self._terms.get(_RECORD)
        if term is not None:
            return KeyStatus(*term, encryptions)
        oldest = min((k.terms[0].created for k in keyrings), default=self._clock.now())
        return KeyStatus(1, oldest, encryptions)


_Term = tuple[int, float]  # the rotation count and when the last rotation ran


def _decode(raw: bytes) -> _Term:
    doc = json.loads(raw)
    return int(doc["term"]), float(doc["installed"])


def _encode(term: _Term) -> bytes:
    return json.dumps({"term": term[0], "installed": term[1]}).encode()
