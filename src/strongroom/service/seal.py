"""The seal as a service: status, initialization and unsealing (open to anyone, as in Vault),
and sealing and rekeying (``sudo`` on ``sys/seal`` and ``sys/rekey``). Authorization lives here;
the node that owns the seal manager only does what it is told."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from strongroom.auth.identity import Identity
from strongroom.errors import BadRequest, NotFound
from strongroom.results import SealMigration
from strongroom.seal import RekeyResult, SealStatus
from strongroom.seal.seals import NONCE_PROBLEM, SHARE_PROBLEM
from strongroom.types import ClusterNode

__all__ = [
    "NONCE_PROBLEM",
    "SHARE_PROBLEM",
    "Health",
    "SealController",
    "SealService",
    "SealStatus",
]


@dataclass(frozen=True)
class Health:
    """What a load balancer asks, from the node's memory alone (no store read, no lock): so it
    answers at once however loaded the node is. ``serving``: unsealed and hearing the other
    nodes (after a database restart, not until every listener is back). ``shared``: nodes may
    share the store; ``leader``: this node runs the scheduler (as of its last round)."""

    initialized: bool
    sealed: bool
    serving: bool
    shared: bool = False
    leader: bool = False


class SealController(Protocol):
    """What the server node does with its seal."""

    def status(self, nonce: str = "") -> SealStatus: ...

    def health(self) -> Health: ...

    def nodes(self) -> list[ClusterNode]: ...

    def initialize(self, shares: int, threshold: int) -> tuple[list[str], str]: ...

    def unseal(self, share: str, nonce: str = "", address: str = "") -> SealStatus: ...

    def latest_attempt(self, address: str) -> str: ...

    def seal(self) -> None: ...

    def rekey(self, old_shares: Sequence[str], shares: int, threshold: int) -> RekeyResult: ...

    def rekey_verify(self, nonce: str, new_shares: Sequence[str]) -> None: ...

    def rekey_cancel(self) -> bool: ...

    def migrate_seal(self, to: str) -> SealMigration: ...


class SealService:
    def __init__(self, controller: SealController) -> None:
        self._controller = controller

    def status(self) -> SealStatus:
        return self._controller.status()

    def health(self) -> Health:
        return self._controller.health()

    def nodes(self, identity: Identity) -> list[ClusterNode]:
        """The nodes serving this store, heard from lately (Vault's sys/ha-status)."""
        identity.require("read", "sys/ha-status")
        return self._controller.nodes()

    def initialize(self, shares: int, threshold: int) -> tuple[list[str], str]:
        return self._controller.initialize(shares, threshold)

    def unseal(self, share: str, nonce: str, address: str) -> SealStatus:
        return self._controller.unseal(share, nonce, address)

    def latest_attempt(self, address: str) -> str:
        """The newest unseal attempt this address started (for clients that send no nonce)."""
        return self._controller.latest_attempt(address)

    @staticmethod
    def step_down(identity: Identity) -> None:
        """Vault's sys/step-down. One active node serves each request (design.md §8), so there
        is nothing to step down from; the caller still needs what Vault asks of it."""
        identity.require("sudo", "sys/step-down")

    def seal(self, identity: Identity) -> None:
        identity.require("sudo", "sys/seal")
        self._controller.seal()

    def rekey(
        self, identity: Identity, old_shares: Sequence[str], shares: int, threshold: int
    ) -> RekeyResult:
        identity.require("sudo", "sys/rekey")
        return self._controller.rekey(old_shares, shares, threshold)

    def rekey_verify(self, identity: Identity, nonce: str, new_shares: Sequence[str]) -> None:
        identity.require("sudo", "sys/rekey")
        self._controller.rekey_verify(nonce, new_shares)

    def migrate_seal(self, identity: Identity, to: str) -> SealMigration:
        """Move the root key to another of the server's key providers (sudo on
        ``sys/seal/migrate``): ``to`` is a ``--key-provider`` name or its URI."""
        identity.require("sudo", "sys/seal/migrate")
        if not to:
            raise BadRequest('body must be {"to": "<a --key-provider name or its URI>"}')
        return self._controller.migrate_seal(to)

    def cancel_rekey(self, identity: Identity) -> None:
        identity.require("sudo", "sys/rekey")
        if not self._controller.rekey_cancel():
            raise NotFound("no rekey is pending")
