"""The three seals, one strategy each (chosen at ``operator init``, kept in the seal config):

- ``KmsSeal``: the root key lives in a key provider (the local KMS key file in dev mode); the
  server unseals itself at every start.
- ``FileSeal``: a 32-byte unseal key in a file kept apart from the store seals the root keys,
  which live in the store; the server unseals itself at every start.
- ``ShamirSeal``: the unseal key is split into n shares, t of which operators type in."""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from strongroom.crypto import new_key
from strongroom.errors import BadRequest, DecryptionError, KeyProviderUnavailable
from strongroom.keyproviders.provider import KeyProvider
from strongroom.seal.config import PendingRekey, SealConfig
from strongroom.seal.root_keys import SYSTEM_KIND, SealedRootKeys
from strongroom.seal.shamir import combine, split
from strongroom.store.protocol import Store
from strongroom.store.records import Records

__all__ = [
    "CONFIG_RECORD",
    "NONCE_PROBLEM",
    "SHARE_PROBLEM",
    "FileSeal",
    "KmsSeal",
    "RekeyResult",
    "Seal",
    "ShamirSeal",
    "decode_share",
]

CONFIG_RECORD = "seal-config"
_PENDING_REKEY = "rekey-pending"
_REKEY_CHECK = b"strongroom rekey check"


class RekeyResult:
    """New shamir shares and the nonce that ``rekey_verify`` needs (both empty for file)."""

    __slots__ = ("keys", "nonce")

    def __init__(self, keys: list[str], nonce: str) -> None:
        self.keys = keys
        self.nonce = nonce

    def __repr__(self) -> str:
        return f"RekeyResult(keys=<{len(self.keys)} hidden>, nonce={self.nonce!r})"


# What a surface answers to an unseal share or attempt nonce that is not a string.
SHARE_PROBLEM = "an unseal share is a string, as printed by operator init"
NONCE_PROBLEM = "'nonce' is the string printed by the first unseal of this attempt"


def decode_share(text: object) -> bytes:
    if not isinstance(text, str):
        raise BadRequest(SHARE_PROBLEM)
    try:
        share = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("an unseal share is base64, as printed by operator init") from None
    if len(share) != 33:
        raise BadRequest("an unseal share is base64, as printed by operator init")
    return share


class Seal(Protocol):
    type: str

    def initialize(
        self, shares: int, threshold: int
    ) -> tuple[KeyProvider | None, list[str], SealConfig]:
        """New root keys: (the provider if unsealed now, the shares to print once, the config)."""
        ...

    def auto_unseal(self, config: SealConfig) -> KeyProvider | None:
        """The provider at start, or None when operators unseal (shamir)."""
        ...

    def rekey(
        self, config: SealConfig, old_shares: Sequence[str], shares: int, threshold: int
    ) -> RekeyResult: ...

    def forget(self) -> None:
        """Drop whatever key material is held (the server seals)."""
        ...


class KmsSeal:
    """``provider(name)``: the seal's own provider for ``""`` (``--seal-provider``), else the
    server's ``--key-provider`` of that name (where a seal migration moved the root key)."""

    type = "kms"

    def __init__(self, provider: Callable[[str], KeyProvider]) -> None:
        self._provider = provider

    def initialize(
        self, shares: int, threshold: int
    ) -> tuple[KeyProvider | None, list[str], SealConfig]:
        return self._provider(""), [], SealConfig("kms")

    def auto_unseal(self, config: SealConfig) -> KeyProvider | None:
        return self._provider(config.provider)

    def rekey(
        self, config: SealConfig, old_shares: Sequence[str], shares: int, threshold: int
    ) -> RekeyResult:
        raise BadRequest("a kms seal has no unseal key; rotate the provider's key instead")

    def forget(self) -> None:
        pass


class FileSeal:
    type = "file"

    def __init__(self, root_keys: SealedRootKeys, key_path: Path | None) -> None:
        self._root_keys = root_keys
        self._key_path = key_path

    def _path(self) -> Path:
        if self._key_path is None:
            raise BadRequest("a file seal needs --seal-key-file (kept apart from the store)")
        return self._key_path

    def _write_key(self, key: bytes) -> None:
        path = self._path()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(path.name + ".new")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(base64.b64encode(key) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    def initialize(
        self, shares: int, threshold: int
    ) -> tuple[KeyProvider | None, list[str], SealConfig]:
        unseal_key = new_key()
        self._write_key(unseal_key)
        return self._root_keys.create(unseal_key), [], SealConfig("file")

    def auto_unseal(self, config: SealConfig) -> KeyProvider | None:
        try:
            raw = self._path().read_bytes()
            key = base64.b64decode(raw.strip(), validate=True)
        except (OSError, binascii.Error, ValueError):
            raise KeyProviderUnavailable("cannot read the seal key file") from None
        try:
            return self._root_keys.open(key)
        except DecryptionError:
            raise KeyProviderUnavailable(
                "the seal key file does not open this store's root keys"
            ) from None

    def rekey(
        self, config: SealConfig, old_shares: Sequence[str], shares: int, threshold: int
    ) -> RekeyResult:
        """A new unseal key, written to the seal key file at once. Crash-safe order: the copy
        under the new key first, then the key file, then the swap; a start between the two
        finds the copy (``SealedRootKeys.open``)."""
        new = new_key()
        next_copy = SealedRootKeys.seal_under(new, self._root_keys.payload())
        self._root_keys.stage_next(next_copy)
        self._write_key(new)
        self._root_keys.unseal_key = new
        self._root_keys.replace(next_copy)
        self._root_keys.drop_next()
        return RekeyResult([], "")

    def forget(self) -> None:
        self._root_keys.forget()


class ShamirSeal:
    """The old key stays in force until ``verify_rekey`` gets the threshold of new shares back,
    so a crash or a lost answer never locks anyone out."""

    type = "shamir"

    def __init__(self, root_keys: SealedRootKeys, store: Store) -> None:
        self._root_keys = root_keys
        self._store = store
        self._system = Records(store, SYSTEM_KIND, bytes, bytes)  # the seal's own records

    def initialize(
        self, shares: int, threshold: int
    ) -> tuple[KeyProvider | None, list[str], SealConfig]:
        unseal_key = new_key()
        printed = [base64.b64encode(p).decode() for p in split(unseal_key, shares, threshold)]
        self._root_keys.create(unseal_key)
        self._root_keys.forget()  # sealed after init, as in Vault: operators unseal
        return None, printed, SealConfig("shamir", shares, threshold)

    def auto_unseal(self, config: SealConfig) -> KeyProvider | None:
        return None

    def unseal(self, pieces: list[bytes]) -> KeyProvider:
        """The provider, once ``pieces`` rebuild the unseal key (DecryptionError if not)."""
        return self._root_keys.open(combine(pieces))

    # -- rekey
    def pending(self) -> PendingRekey | None:
        raw = self._system.get(_PENDING_REKEY)
        return PendingRekey.from_bytes(raw) if raw is not None else None

    def rekey(
        self, config: SealConfig, old_shares: Sequence[str], shares: int, threshold: int
    ) -> RekeyResult:
        current = self._root_keys.unseal_key
        assert current is not None
        pieces = [decode_share(s) for s in old_shares]
        if len(pieces) < config.threshold:
            raise BadRequest(f"rekey needs {config.threshold} current unseal shares")
        if not hmac.compare_digest(combine(pieces), current):
            raise BadRequest("these shares do not rebuild the current unseal key")
        new = new_key()
        printed = [base64.b64encode(p).decode() for p in split(new, shares, threshold)]
        nonce = secrets.token_hex(16)
        check = SealedRootKeys.seal_under(new, _REKEY_CHECK)  # proves the new shares later
        pending = PendingRekey(nonce, shares, threshold, check)
        self._system.put(_PENDING_REKEY, pending.to_bytes())
        return RekeyResult(printed, nonce)

    def verify_rekey(self, config: SealConfig, nonce: str, new_shares: Sequence[str]) -> None:
        """The new shares must rebuild the new key. The swap is the one write of the sealed root
        keys under the new key; the config follows, and a crash between the two is repaired from
        the pending record (``repair``)."""
        pending = self.pending()
        if pending is None or not hmac.compare_digest(pending.nonce, nonce):
            raise BadRequest("no rekey with this nonce is pending; start one with rekey")
        pieces = [decode_share(s) for s in new_shares]
        if len(pieces) < pending.threshold:
            raise BadRequest(f"verification needs {pending.threshold} of the new shares")
        new = combine(pieces)
        try:
            SealedRootKeys.opens(new, pending.check)
        except DecryptionError:
            raise BadRequest("these shares do not rebuild the new unseal key") from None
        final = SealedRootKeys.seal_under(new, self._root_keys.payload())
        pending = pending.with_final(final)
        self._system.put(_PENDING_REKEY, pending.to_bytes())
        self._root_keys.replace(final)  # the swap
        self._root_keys.unseal_key = new
        self._finish(pending)

    def cancel_rekey(self) -> bool:
        return self._system.delete(_PENDING_REKEY)

    def _finish(self, pending: PendingRekey) -> None:
        config = SealConfig("shamir", pending.shares, pending.threshold)
        self._system.put(CONFIG_RECORD, config.to_bytes())
        self._system.delete(_PENDING_REKEY)

    def repair(self) -> None:
        """Complete a verified rekey that stopped after its swap: the sealed keys in the store
        are then byte for byte the pending record's ``final`` copy. Stopped before the swap, the
        old key is still in force: the rekey waits to be verified again."""
        pending = self.pending()
        if pending is None or pending.final is None:
            return
        sealed = self._root_keys.sealed()
        if sealed is not None and hmac.compare_digest(sealed, pending.final):
            self._finish(pending)
        else:
            self._system.put(_PENDING_REKEY, pending.with_final(None).to_bytes())

    def forget(self) -> None:
        self._root_keys.forget()
