"""The seal manager: the one object between a started server and its root keys. It keeps the
seal's state (sealed, unsealed: the root key provider), unseal attempts by nonce, and hands the
work that differs to the seal strategy the server was initialized with (``seals.py``).

A sealed server knows nothing but its seal configuration. Sealing a ``kms`` or ``file`` server
holds until it restarts (there is no unauthenticated way back)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from strongroom.clock import Clock
from strongroom.errors import BadRequest, Conflict, DecryptionError
from strongroom.keyproviders.provider import KeyProvider
from strongroom.keyproviders.root import MigratingProvider, RootKey
from strongroom.seal.config import SealConfig
from strongroom.seal.progress import UnsealSessions
from strongroom.seal.root_keys import SYSTEM_KIND
from strongroom.seal.seals import (
    CONFIG_RECORD,
    NONCE_PROBLEM,
    RekeyResult,
    Seal,
    ShamirSeal,
    decode_share,
)
from strongroom.store.protocol import Store
from strongroom.store.records import Records

__all__ = ["SEAL_TYPES", "SealManager", "SealStatus"]

SEAL_TYPES = ("kms", "file", "shamir")


@dataclass(frozen=True)
class SealStatus:
    type: str
    initialized: bool
    sealed: bool
    threshold: int
    shares: int
    progress: int
    rekey_pending: bool = False
    nonce: str = ""  # the unseal attempt this status is about (see seal/progress.py)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "initialized": self.initialized,
            "sealed": self.sealed,
            "t": self.threshold,
            "n": self.shares,
            "progress": self.progress,
            "rekey_pending": self.rekey_pending,
            "nonce": self.nonce,
        }


class SealManager:
    def __init__(
        self, store: Store, clock: Clock, *, wanted: str, seals: Mapping[str, Seal]
    ) -> None:
        if wanted not in SEAL_TYPES:
            raise BadRequest(f"unknown seal type {wanted!r}; use {', '.join(SEAL_TYPES)}")
        self._store = store
        self._system = Records(store, SYSTEM_KIND, bytes, bytes)  # the seal's own records
        self._clock = clock
        self._wanted = wanted
        self._seals = dict(seals)
        self._lock = threading.Lock()
        self._provider: RootKey | None = None  # None: sealed
        self._held: SealConfig | None = None  # the config the provider was opened with
        self._migrating_to: KeyProvider | None = None  # sealed mid-migration from shamir
        self._attempts = UnsealSessions()
        shamir = self._seals.get("shamir")
        if isinstance(shamir, ShamirSeal) and self._config() is not None:
            shamir.repair()

    def _config(self) -> SealConfig | None:
        raw = self._system.get(CONFIG_RECORD)
        return SealConfig.from_bytes(raw) if raw is not None else None

    def _seal(self, config: SealConfig) -> Seal:
        seal = self._seals.get(config.type)
        if seal is None:
            raise BadRequest(f"this server cannot open a {config.type!r} seal")
        return seal

    def _shamir(self) -> ShamirSeal:
        seal = self._seals["shamir"]
        assert isinstance(seal, ShamirSeal)
        return seal

    @property
    def provider(self) -> KeyProvider | None:
        return self._provider

    def latest_attempt(self, address: str) -> str:
        """The nonce of the newest unseal attempt started from ``address`` ("" if none)."""
        return self._attempts.latest(address, self._clock.monotonic())

    def status(self, nonce: str = "") -> SealStatus:
        """The seal's state; ``progress`` is that of the unseal attempt ``nonce`` (0 without)."""
        config = self._config()
        if config is None:
            return SealStatus(self._wanted, False, True, 0, 0, 0)
        sealed = self._provider is None
        progress = self._attempts.progress(nonce, self._clock.monotonic()) if nonce else 0
        pending = config.type == "shamir" and self._shamir().pending() is not None
        unsealed_by = config.unsealed_by
        return SealStatus(
            config.type,
            True,
            sealed,
            unsealed_by.threshold,
            unsealed_by.shares,
            progress if sealed else 0,
            pending,
            nonce if progress and sealed else "",
        )

    def initialize(self, shares: int = 1, threshold: int = 1) -> list[str]:
        """Create the root keys; returns the unseal shares (shamir) once, never again."""
        with self._lock:
            if self._config() is not None:
                raise Conflict("the server is already initialized")
            provider, printed, config = self._seals[self._wanted].initialize(shares, threshold)
            self._system.put(CONFIG_RECORD, config.to_bytes())
            if provider is not None:
                self._open(provider, config)
            return printed

    def _open(self, provider: KeyProvider, config: SealConfig) -> RootKey:
        self._provider = RootKey(provider)
        self._held = config
        return self._provider

    def auto_unseal(self) -> KeyProvider | None:
        """Unseal a kms or file seal at startup; None for shamir (or uninitialized). While a
        seal migration is under way, both seals open: the new provider wraps, and the old one
        still unwraps what is not re-wrapped yet."""
        config = self._config()
        if config is None:
            return None
        with self._lock:
            opened = self._seal(config).auto_unseal(config)
            if opened is None:
                return None
            if config.previous is not None:
                old = self._seal(config.previous).auto_unseal(config.previous)
                if old is None:  # from shamir: operators unseal the old root keys
                    self._migrating_to = opened
                    return None
                opened = MigratingProvider(opened, old)
            return self._open(opened, config)

    def submit_share(
        self, text: str, nonce: str = "", address: str = ""
    ) -> tuple[KeyProvider | None, str]:
        """Add one operator's share to the unseal attempt ``nonce`` (a new attempt without one);
        returns the provider once enough shares rebuild the key, and the attempt's nonce."""
        share = decode_share(text)
        if len(nonce) > 64:
            raise BadRequest(NONCE_PROBLEM)
        with self._lock:
            config = self._config()
            if config is None:
                raise BadRequest("the server is not initialized; run: strongroom operator init")
            if self._provider is not None:
                return self._provider, ""
            unsealed_by = config.unsealed_by
            if unsealed_by.type != "shamir":
                raise BadRequest(f"a {config.type} seal unseals itself when the server starts")
            nonce, pieces = self._attempts.add(share, nonce, address, self._clock.monotonic())
            if len(pieces) < unsealed_by.threshold:
                return None, nonce
            try:
                opened: KeyProvider = self._shamir().unseal(pieces)
                if self._migrating_to is not None:
                    opened = MigratingProvider(self._migrating_to, opened)
                self._open(opened, config)
            except DecryptionError:
                self._attempts.discard(nonce)  # this attempt only: nobody else's shares
                raise BadRequest(
                    "these shares do not rebuild the unseal key; this unseal attempt was "
                    "discarded: start again without --nonce"
                ) from None
            self._attempts.clear()
            return self._provider, ""

    def seal(self) -> None:
        with self._lock:
            self._provider = self._held = self._migrating_to = None
            for seal in self._seals.values():
                seal.forget()
            self._attempts.clear()

    def _unsealed_config(self, doing: str) -> SealConfig:
        config = self._config()
        if config is None or self._provider is None:
            raise BadRequest(f"the server must be initialized and unsealed to {doing}")
        return config

    def rekey(self, old_shares: Sequence[str], shares: int, threshold: int) -> RekeyResult:
        """A new unseal key (file: at once; shamir: new shares, in force once verified)."""
        with self._lock:
            config = self._unsealed_config("rekey")
            return self._seal(config).rekey(config, old_shares, shares, threshold)

    def rekey_verify(self, nonce: str, new_shares: Sequence[str]) -> None:
        with self._lock:
            config = self._unsealed_config("finish a rekey")
            if config.type != "shamir":
                raise BadRequest("no rekey with this nonce is pending; start one with rekey")
            self._shamir().verify_rekey(config, nonce, new_shares)

    def rekey_cancel(self) -> bool:
        with self._lock:
            return self._shamir().cancel_rekey()

    # -- seal migration
    def begin_migration(self, name: str, new: KeyProvider) -> None:
        """Move the root key to the server's ``--key-provider`` called ``name``: from now on
        the new provider wraps and both unwrap. Recorded first, so a restart mid-way opens
        both. Resuming a migration to the same provider is allowed; to another is not."""
        with self._lock:
            config = self._unsealed_config("migrate the seal")
            assert self._provider is not None
            if config.previous is not None and config.provider != name:
                raise Conflict(
                    f"a seal migration to {config.provider!r} is under way; finish it first: "
                    f"strongroom operator migrate-seal --to {config.provider}"
                )
            if config.previous is None and config.type == "kms" and config.provider == name:
                raise BadRequest(f"the root key is already in key provider {name!r}")
            current = self._provider.current
            old = current.old if isinstance(current, MigratingProvider) else current
            moving = SealConfig("kms", provider=name, previous=config.previous or config)
            self._system.put(CONFIG_RECORD, moving.to_bytes())
            self._provider.switch(MigratingProvider(new, old))
            self._held = moving

    def finish_migration(self) -> SealConfig:
        """Every root-wrapped record is re-wrapped: the new provider alone is the root key."""
        with self._lock:
            config = self._unsealed_config("finish a seal migration")
            assert self._provider is not None
            current = self._provider.current
            if config.previous is None or not isinstance(current, MigratingProvider):
                raise BadRequest("no seal migration is under way")
            done = SealConfig("kms", provider=config.provider)
            self._system.put(CONFIG_RECORD, done.to_bytes())
            self._provider.switch(current.new)
            self._held = done
            return done

    def refresh(self, build: Callable[[str], KeyProvider]) -> bool:
        """Another node began or finished a seal migration: follow it (``build(name)`` is this
        node's provider of that name). Returns False when nothing changed."""
        config = self._config()
        with self._lock:
            held = self._held
            if self._provider is None or config is None or held is None or config == held:
                return False
            self._held = config
            moved = (config.provider, config.previous is None) != (
                held.provider,
                held.previous is None,
            )
            if config.type != "kms" or not moved:
                return False  # a rekey, say: the root key is where it was
            current = self._provider.current
            old = current.old if isinstance(current, MigratingProvider) else current
            new = build(config.provider)
            self._provider.switch(MigratingProvider(new, old) if config.previous else new)
            return True
