"""Builds the object graph a server runs on from its settings (used by create_app only)."""

from __future__ import annotations

from dataclasses import dataclass

from strongroom.auth import TokenRegistry
from strongroom.clock import Clock, SystemClock
from strongroom.config import ServerSettings
from strongroom.datakeys import DataKeyService
from strongroom.keyring import Keyrings
from strongroom.kms.local import LocalKeyFile
from strongroom.kms.provider import KeyProvider
from strongroom.namespaces import NamespaceService
from strongroom.service import SecretService
from strongroom.store import open_store
from strongroom.store.protocol import Store

__all__ = ["Runtime"]


@dataclass
class Runtime:
    settings: ServerSettings
    store: Store
    provider: KeyProvider
    keyrings: Keyrings
    tokens: TokenRegistry
    secrets: SecretService
    namespaces: NamespaceService
    datakeys: DataKeyService
    root_token: str | None = None

    @classmethod
    def build(cls, settings: ServerSettings, clock: Clock | None = None) -> Runtime:
        clock = clock or SystemClock()
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        store = open_store(settings.resolved_store_url)
        # The key file lives apart from the store; in dev mode both sit in the data directory.
        provider = LocalKeyFile(settings.resolved_key_file).provider(settings.root_key_name)
        keyrings = Keyrings(store, provider, clock, rotate_after=settings.rotate_after_encryptions)
        runtime = cls(
            settings,
            store,
            provider,
            keyrings,
            TokenRegistry(store, provider, clock),
            SecretService(store, keyrings, clock, settings.limits),
            NamespaceService(store, keyrings, clock, settings.limits),
            DataKeyService(keyrings, settings.limits),
        )
        if settings.dev:
            runtime.namespaces.ensure(settings.default_namespace)
            runtime.root_token = runtime.tokens.dev_root_token(settings.root_token)
        elif settings.root_token:
            runtime.tokens.create("root", root=True, token=settings.root_token)
            runtime.root_token = settings.root_token
        return runtime

    def close(self) -> None:
        self.store.close()
