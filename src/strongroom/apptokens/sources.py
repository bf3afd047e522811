"""Where the token library gets data keys: a key provider in-process (the local KMS), or a
strongroom server acting as a remote KMS that decides who may decrypt."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from strongroom.crypto import Aead
from strongroom.crypto.context import Context
from strongroom.crypto.envelope import DataKey, DataKeySource
from strongroom.errors import DecryptionError
from strongroom.keyproviders.provider import KeyProvider

if TYPE_CHECKING:
    from strongroom.client import Client

__all__ = ["KeySource", "LocalKeySource", "RemoteKeySource"]


class KeySource(Protocol):
    def generate_data_key(self, *, context: Context) -> DataKey: ...

    def resolve(self, key_ref: str) -> DataKeySource: ...


class LocalKeySource:
    """Data keys straight from a key provider in this process (for example the local KMS)."""

    def __init__(self, provider: KeyProvider) -> None:
        self._provider = provider

    def __repr__(self) -> str:
        return f"LocalKeySource({self._provider!r})"

    def generate_data_key(self, *, context: Context) -> DataKey:
        return self._provider.generate_data_key(context=context)

    def resolve(self, key_ref: str) -> DataKeySource:
        if key_ref != self._provider.key_ref:
            raise DecryptionError()
        return self._provider


class _RemoteKey:
    def __init__(self, client: Client, namespace: str, key_ref: str) -> None:
        self._client = client
        self._namespace = namespace
        self.key_ref = key_ref

    def generate_data_key(self, *, context: Context) -> DataKey:
        raise DecryptionError()  # only RemoteKeySource makes keys

    def unwrap_data_key(self, wrapped: bytes, *, context: Context) -> Aead:
        return Aead(self._client.decrypt_data_key(self._namespace, self.key_ref, wrapped, context))


class RemoteKeySource:
    """A strongroom server as the KMS: data keys of one namespace's keyring. The server checks
    ``encrypt`` for new keys and ``decrypt`` for unwrapping against the client's token."""

    def __init__(self, client: Client, namespace: str) -> None:
        self._client = client
        self._namespace = namespace

    def __repr__(self) -> str:
        return f"RemoteKeySource({self._namespace!r})"

    def generate_data_key(self, *, context: Context) -> DataKey:
        key = self._client.generate_data_key(self._namespace, context)
        return DataKey(key.key_ref, key.wrapped, Aead(key.plaintext))

    def resolve(self, key_ref: str) -> DataKeySource:
        return _RemoteKey(self._client, self._namespace, key_ref)
