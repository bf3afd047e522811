"""The root key as the rest of the server holds it, and the provider of a seal migration.

Every component that wraps with the root key (keyrings, the record key, the token and audit HMAC
keys) is given one ``RootKey``. A seal migration (``operator migrate-seal``) switches what is
behind it, first to a ``MigratingProvider`` and then to the new provider, without rebuilding the
components or stopping requests."""

from __future__ import annotations

import threading

from strongroom.crypto.context import Context
from strongroom.errors import DecryptionError
from strongroom.keyproviders.provider import KeyProvider, KeyProviderBase

__all__ = ["MigratingProvider", "RootKey"]


class RootKey(KeyProviderBase):
    def __init__(self, provider: KeyProvider) -> None:
        self._current = provider
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RootKey({self._current!r})"

    @property
    def current(self) -> KeyProvider:
        """The provider behind the root key now (for rotation, which only some can do)."""
        return self._current

    def switch(self, provider: KeyProvider) -> None:
        with self._lock:
            self._current = provider

    @property
    def key_ref(self) -> str:
        return self._current.key_ref

    def wrap(self, plaintext_key: bytes, *, context: Context) -> bytes:
        return self._current.wrap(plaintext_key, context=context)

    def unwrap(self, wrapped: bytes, *, context: Context) -> bytes:
        return self._current.unwrap(wrapped, context=context)


class MigratingProvider(KeyProviderBase):
    """While the root key moves: wraps with the new provider; unwraps with the new one, and
    with the old one what the new one refuses (not yet re-wrapped). A record re-wrapped twice
    (a migration resumed) is simply re-wrapped again."""

    def __init__(self, new: KeyProvider, old: KeyProvider) -> None:
        self.new, self.old = new, old

    def __repr__(self) -> str:
        return f"MigratingProvider({self.old!r} -> {self.new!r})"

    @property
    def key_ref(self) -> str:
        return self.new.key_ref

    def wrap(self, plaintext_key: bytes, *, context: Context) -> bytes:
        return self.new.wrap(plaintext_key, context=context)

    def unwrap(self, wrapped: bytes, *, context: Context) -> bytes:
        try:
            return self.new.unwrap(wrapped, context=context)
        except DecryptionError:
            return self.old.unwrap(wrapped, context=context)
