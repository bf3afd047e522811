"""The barrier between a started server and its root keys.

- ``kms``: the root key lives in a key provider (the local KMS key file in dev mode);
  the server unseals itself at every start.
- ``file``: a 32-byte unseal key in a file kept apart from the store encrypts the root key
  material, which lives in the store; the server unseals itself at every start.
- ``shamir``: the unseal key is split into n shares, t of which operators type in.

A sealed server knows nothing but its seal configuration. Sealing a ``kms`` or ``file`` server
holds until it restarts (there is no unauthenticated way back)."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strongroom.clock import Clock
from strongroom.crypto import Aead, new_key
from strongroom.errors import BadRequest, Conflict, DecryptionError, KeyProviderUnavailable
from strongroom.kms.local import LocalKeyFile
from strongroom.kms.provider import KeyProvider
from strongroom.seal.progress import UnsealSessions
from strongroom.seal.shamir import combine, split
from strongroom.store.protocol import Store

__all__ = ["SEAL_TYPES", "Barrier", "RekeyResult", "SealStatus"]

SEAL_TYPES = ("kms", "file", "shamir")
_KIND = "system"
_CONFIG = "seal-config"
_SEALED_KEYS = "sealed-root-keys"
_PENDING_REKEY = "rekey-pending"
_REKEY_CHECK = b"strongroom rekey check"
_ASSOCIATED_DATA = b"strongroom:sealed-root-keys:v1"


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


def _decode_share(text: object) -> bytes:
    if not isinstance(text, str):
        raise BadRequest('body must be {"key": "<unseal share>"}')
    try:
        share = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("an unseal share is base64, as printed by operator init") from None
    if len(share) != 33:
        raise BadRequest("an unseal share is base64, as printed by operator init")
    return share


@dataclass(frozen=True)
class RekeyResult:
    """New shamir shares and the nonce that ``rekey_verify`` needs (both empty for file)."""

    keys: list[str]
    nonce: str

    def __repr__(self) -> str:
        return f"RekeyResult(keys=<{len(self.keys)} hidden>, nonce={self.nonce!r})"


class Barrier:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        seal_type: str,
        key_file: Path,
        seal_key_file: Path | None,
        root_key_name: str,
    ) -> None:
        if seal_type not in SEAL_TYPES:
            raise BadRequest(f"unknown seal type {seal_type!r}; use {', '.join(SEAL_TYPES)}")
        self._store = store
        self._clock = clock
        self._wanted = seal_type
        self._key_file = key_file
        self._seal_key_file = seal_key_file
        self._root_key_name = root_key_name
        self._lock = threading.Lock()
        self._unseal_key: bytes | None = None
        self._provider: KeyProvider | None = None
        self._attempts = UnsealSessions()
        self._repair_rekey()

    # -- state
    def _config(self) -> dict[str, Any] | None:
        raw = self._store.get_record(_KIND, _CONFIG)
        return json.loads(raw) if raw is not None else None

    @property
    def provider(self) -> KeyProvider | None:
        return self._provider

    def status(self, nonce: str = "") -> SealStatus:
        """The seal's state; ``progress`` is that of the unseal attempt ``nonce`` (0 without)."""
        config = self._config()
        if config is None:
            return SealStatus(self._wanted, False, True, 0, 0, 0)
        progress = self._attempts.progress(nonce, self._clock.monotonic()) if nonce else 0
        return SealStatus(
            config["type"],
            True,
            self._provider is None,
            config.get("threshold", 0),
            config.get("shares", 0),
            progress if self._provider is None else 0,
            self._store.get_record(_KIND, _PENDING_REKEY) is not None,
            nonce if progress and self._provider is None else "",
        )

    # -- init
    def initialize(self, shares: int = 1, threshold: int = 1) -> list[str]:
        """Create the root keys; returns the unseal shares (shamir) once, never again."""
        with self._lock:
            if self._config() is not None:
                raise Conflict("the server is already initialized")
            config: dict[str, Any] = {"type": self._wanted}
            printed: list[str] = []
            if self._wanted == "kms":
                self._provider = LocalKeyFile(self._key_file).provider(self._root_key_name)
            else:
                unseal_key = new_key()
                if self._wanted == "file":
                    self._write_seal_key_file(unseal_key)
                else:
                    pieces = split(unseal_key, shares, threshold)
                    printed = [base64.b64encode(p).decode() for p in pieces]
                    config.update(shares=shares, threshold=threshold)
                self._unseal_key = unseal_key
                keys = LocalKeyFile(self._key_file, payload=None, persist=self._persist)
                keys.ensure_key(self._root_key_name)
                if self._wanted == "shamir":
                    self._unseal_key = None  # sealed after init, as in Vault: operators unseal
                else:
                    self._provider = keys.provider(self._root_key_name)
            self._store.put_record(_KIND, _CONFIG, json.dumps(config).encode())
            return printed

    def _seal_key_path(self) -> Path:
        if self._seal_key_file is None:
            raise BadRequest("a file seal needs --seal-key-file (kept apart from the store)")
        return self._seal_key_file

    def _write_seal_key_file(self, key: bytes) -> None:
        path = self._seal_key_path()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(path.name + ".new")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(base64.b64encode(key) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    def _persist(self, payload: bytes) -> None:
        assert self._unseal_key is not None
        sealed = Aead(self._unseal_key).wrap(payload, _ASSOCIATED_DATA)
        self._store.put_record(_KIND, _SEALED_KEYS, sealed)

    def _open_keys(self, unseal_key: bytes) -> KeyProvider:
        sealed = self._store.get_record(_KIND, _SEALED_KEYS)
        if sealed is None:
            raise KeyProviderUnavailable("the sealed root keys are missing from the store")
        try:
            payload = Aead(unseal_key).unwrap(sealed, _ASSOCIATED_DATA)
        except DecryptionError:
            # A rekey that stopped after writing the new key file: its copy is kept aside.
            pending = self._store.get_record(_KIND, _SEALED_KEYS + "-next")
            if pending is None:
                raise
            payload = Aead(unseal_key).unwrap(pending, _ASSOCIATED_DATA)
        self._unseal_key = unseal_key
        keys = LocalKeyFile(self._key_file, payload=payload, persist=self._persist)
        return keys.provider(self._root_key_name)

    # -- unseal
    def auto_unseal(self) -> KeyProvider | None:
        """Unseal a kms or file seal at startup; None for shamir (or uninitialized)."""
        config = self._config()
        if config is None or config["type"] == "shamir":
            return None
        with self._lock:
            if config["type"] == "kms":
                self._provider = LocalKeyFile(self._key_file).provider(self._root_key_name)
            else:
                try:
                    raw = self._seal_key_path().read_bytes()
                    key = base64.b64decode(raw.strip(), validate=True)
                except (OSError, binascii.Error, ValueError):
                    raise KeyProviderUnavailable("cannot read the seal key file") from None
                try:
                    self._provider = self._open_keys(key)
                except DecryptionError:
                    raise KeyProviderUnavailable(
                        "the seal key file does not open this store's root keys"
                    ) from None
            return self._provider

    def submit_share(
        self, text: object, nonce: object = "", address: str = ""
    ) -> tuple[KeyProvider | None, str]:
        """Add one operator's share to the unseal attempt ``nonce`` (a new attempt without one);
        returns the provider once enough shares rebuild the key, and the attempt's nonce."""
        share = _decode_share(text)
        if not isinstance(nonce, str) or len(nonce) > 64:
            raise BadRequest("'nonce' is the string printed by the first unseal of this attempt")
        with self._lock:
            config = self._config()
            if config is None:
                raise BadRequest("the server is not initialized; run: strongroom operator init")
            if self._provider is not None:
                return self._provider, ""
            if config["type"] != "shamir":
                raise BadRequest(f"a {config['type']} seal unseals itself when the server starts")
            nonce, pieces = self._attempts.add(share, nonce, address, self._clock.monotonic())
            if len(pieces) < config["threshold"]:
                return None, nonce
            try:
                self._provider = self._open_keys(combine(pieces))
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
            self._provider = None
            self._unseal_key = None
            self._attempts.clear()

    # -- rekey
    def rekey(self, old_shares: list[object], shares: int, threshold: int) -> RekeyResult:
        """A new unseal key. file: written to the seal key file at once. shamir: the new shares
        are returned with a nonce, and the old key stays in force until ``rekey_verify`` gets
        the threshold of new shares back, so a crash or a lost answer never locks anyone out."""
        with self._lock:
            config = self._config()
            if config is None or self._provider is None:
                raise BadRequest("the server must be initialized and unsealed to rekey")
            if config["type"] == "kms":
                raise BadRequest("a kms seal has no unseal key; rotate the provider's key instead")
            assert self._unseal_key is not None
            if config["type"] == "shamir":
                pieces = [_decode_share(s) for s in old_shares]
                if len(pieces) < config["threshold"]:
                    raise BadRequest(f"rekey needs {config['threshold']} current unseal shares")
                if not hmac.compare_digest(combine(pieces), self._unseal_key):
                    raise BadRequest("these shares do not rebuild the current unseal key")
            new = new_key()
            if config["type"] == "shamir":
                printed = [base64.b64encode(p).decode() for p in split(new, shares, threshold)]
                nonce = secrets.token_hex(16)
                check = Aead(new).wrap(_REKEY_CHECK, _ASSOCIATED_DATA)  # proves the new shares
                pending = {
                    "nonce": nonce,
                    "shares": shares,
                    "threshold": threshold,
                    "check": base64.b64encode(check).decode(),
                }
                self._store.put_record(_KIND, _PENDING_REKEY, json.dumps(pending).encode())
                return RekeyResult(printed, nonce)
            # Crash-safe order: the copy under the new key first, then the key file, then swap;
            # a start between the two finds the copy (see _open_keys).
            next_copy = Aead(new).wrap(self._current_payload(), _ASSOCIATED_DATA)
            self._store.put_record(_KIND, _SEALED_KEYS + "-next", next_copy)
            self._write_seal_key_file(new)
            self._unseal_key = new
            self._store.put_record(_KIND, _SEALED_KEYS, next_copy)
            self._store.delete_record(_KIND, _SEALED_KEYS + "-next")
            return RekeyResult([], "")

    def rekey_verify(self, nonce: str, new_shares: list[object]) -> None:
        """Finish a shamir rekey: the new shares must rebuild the new key. The swap is the one
        write of the sealed root keys under the new key; the config follows, and a crash between
        the two is repaired from the pending record on the next call (see ``_repair_rekey``)."""
        with self._lock:
            config = self._config()
            pending = self._pending_rekey()
            if pending is None or not hmac.compare_digest(str(pending["nonce"]), nonce):
                raise BadRequest("no rekey with this nonce is pending; start one with rekey")
            if self._provider is None or self._unseal_key is None or config is None:
                raise BadRequest("the server must be unsealed to finish a rekey")
            pieces = [_decode_share(s) for s in new_shares]
            if len(pieces) < int(pending["threshold"]):
                raise BadRequest(f"verification needs {pending['threshold']} of the new shares")
            new = combine(pieces)
            try:
                Aead(new).unwrap(base64.b64decode(pending["check"]), _ASSOCIATED_DATA)
            except DecryptionError:
                raise BadRequest("these shares do not rebuild the new unseal key") from None
            final = Aead(new).wrap(self._current_payload(), _ASSOCIATED_DATA)
            pending["final"] = base64.b64encode(final).decode()
            self._store.put_record(_KIND, _PENDING_REKEY, json.dumps(pending).encode())
            self._store.put_record(_KIND, _SEALED_KEYS, final)  # the swap
            self._unseal_key = new
            self._finish_rekey(config, pending)

    def rekey_cancel(self) -> bool:
        with self._lock:
            return self._store.delete_record(_KIND, _PENDING_REKEY)

    def _current_payload(self) -> bytes:
        assert self._unseal_key is not None
        sealed = self._store.get_record(_KIND, _SEALED_KEYS)
        return Aead(self._unseal_key).unwrap(sealed or b"", _ASSOCIATED_DATA)

    def _pending_rekey(self) -> dict[str, Any] | None:
        raw = self._store.get_record(_KIND, _PENDING_REKEY)
        return json.loads(raw) if raw is not None else None

    def _finish_rekey(self, config: dict[str, Any], pending: dict[str, Any]) -> None:
        config.update(shares=int(pending["shares"]), threshold=int(pending["threshold"]))
        self._store.put_record(_KIND, _CONFIG, json.dumps(config).encode())
        self._store.delete_record(_KIND, _PENDING_REKEY)

    def _repair_rekey(self) -> None:
        """Complete a verified rekey that stopped after its swap: the sealed keys in the store
        are then byte-for-byte the pending record's ``final`` copy."""
        pending = self._pending_rekey()
        config = self._config()
        if pending is None or config is None or "final" not in pending:
            return
        sealed = self._store.get_record(_KIND, _SEALED_KEYS)
        if sealed is not None and hmac.compare_digest(sealed, base64.b64decode(pending["final"])):
            self._finish_rekey(config, pending)
        else:  # stopped before the swap: the old key is still in force; verify again
            del pending["final"]
            self._store.put_record(_KIND, _PENDING_REKEY, json.dumps(pending).encode())
