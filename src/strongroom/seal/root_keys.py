"""The root keys of a file or shamir seal: a local key file's content, kept in the store sealed
(AES-256-GCM) under the unseal key. A rekey seals the same root keys under a new unseal key; the
root keys themselves do not change (that is ``keys rotate-root``)."""

from __future__ import annotations

from pathlib import Path

from strongroom.crypto import Aead
from strongroom.errors import DecryptionError, KeyProviderUnavailable
from strongroom.keyproviders.local import LocalKeyFile
from strongroom.keyproviders.provider import KeyProvider
from strongroom.store.protocol import Store
from strongroom.store.records import Records

__all__ = ["SEALED_ROOT_KEYS", "SYSTEM_KIND", "SealedRootKeys"]

SYSTEM_KIND = "system"
SEALED_ROOT_KEYS = "sealed-root-keys"
_SEALED = SEALED_ROOT_KEYS
_NEXT = "sealed-root-keys-next"  # a file seal's rekey writes this copy first (crash-safe order)
_ASSOCIATED_DATA = b"strongroom:sealed-root-keys:v1"


class SealedRootKeys:
    def __init__(self, store: Store, key_file: Path, root_key_name: str) -> None:
        self._store = store
        self._system = Records(store, SYSTEM_KIND, bytes, bytes)  # the seal's own records
        self._key_file = key_file
        self._name = root_key_name
        self.unseal_key: bytes | None = (
            None  # while unsealed: what new key versions are sealed with
        )

    def _persist(self, payload: bytes) -> None:
        assert self.unseal_key is not None
        self._system.put(_SEALED, self.seal_under(self.unseal_key, payload))

    @staticmethod
    def seal_under(unseal_key: bytes, payload: bytes) -> bytes:
        return Aead(unseal_key).wrap(payload, _ASSOCIATED_DATA)

    @staticmethod
    def opens(unseal_key: bytes, sealed: bytes) -> bytes:
        """The plaintext of ``sealed`` under ``unseal_key``; DecryptionError if it does not open."""
        return Aead(unseal_key).unwrap(sealed, _ASSOCIATED_DATA)

    def create(self, unseal_key: bytes) -> KeyProvider:
        """New root keys, sealed under ``unseal_key``."""
        self.unseal_key = unseal_key
        keys = LocalKeyFile(self._key_file, payload=None, persist=self._persist)
        keys.ensure_key(self._name)
        return keys.provider(self._name)

    def open(self, unseal_key: bytes) -> KeyProvider:
        sealed = self._system.get(_SEALED)
        if sealed is None:
            raise KeyProviderUnavailable("the sealed root keys are missing from the store")
        try:
            payload = self.opens(unseal_key, sealed)
        except DecryptionError:
            # A file rekey that stopped after writing the new key file: its copy is kept aside.
            pending = self._system.get(_NEXT)
            if pending is None:
                raise
            payload = self.opens(unseal_key, pending)
        self.unseal_key = unseal_key
        keys = LocalKeyFile(self._key_file, payload=payload, persist=self._persist)
        return keys.provider(self._name)

    @staticmethod
    def provider_of(sealed: bytes, unseal_key: bytes, root_key_name: str) -> KeyProvider:
        """The root key provider that ``sealed`` holds, read-only (a restore opens a backup's
        copy with it); DecryptionError if ``unseal_key`` does not open it."""
        payload = SealedRootKeys.opens(unseal_key, sealed)

        def read_only(changed: bytes) -> None:
            raise KeyProviderUnavailable("a backup's root keys are read-only")

        keys = LocalKeyFile(Path("backup-root-keys"), payload=payload, persist=read_only)
        return keys.provider(root_key_name)

    def payload(self) -> bytes:
        """The root keys in the clear (only while unsealed, to seal them under a new key)."""
        assert self.unseal_key is not None
        sealed = self._system.get(_SEALED)
        return self.opens(self.unseal_key, sealed or b"")

    def sealed(self) -> bytes | None:
        return self._system.get(_SEALED)

    def replace(self, sealed: bytes) -> None:
        """The swap of a rekey: the root keys as sealed under the new unseal key."""
        self._system.put(_SEALED, sealed)

    def stage_next(self, sealed: bytes) -> None:
        self._system.put(_NEXT, sealed)

    def drop_next(self) -> None:
        self._system.delete(_NEXT)

    def forget(self) -> None:
        self.unseal_key = None
