"""Dev mode's reset of the AWS API's state (``POST /api/v1/sys/dev/reset``), for test suites and
local development: every region's KMS keys and aliases and Secrets Manager secrets are gone, as
in a fresh account. Refused outside dev mode, and it needs ``sudo`` on ``sys/dev/reset``."""

from __future__ import annotations

from dataclasses import dataclass

from strongroom.auth import Identity
from strongroom.errors import BadRequest
from strongroom.service.namespaces import AWS_PREFIX, NamespaceService
from strongroom.store.protocol import Store

__all__ = ["DevReset", "ResetCounts"]


@dataclass(frozen=True)
class ResetCounts:
    namespaces: int  # the AWS regions' namespaces dropped
    records: int


class DevReset:
    def __init__(
        self,
        store: Store,
        namespaces: NamespaceService,
        record_kinds: tuple[str, ...],
        *,
        dev: bool,
    ) -> None:
        """``record_kinds``: the kinds of record the AWS backends keep beside the secrets."""
        self._store = store
        self._namespaces = namespaces
        self._record_kinds = record_kinds
        self._dev = dev

    def reset(self, identity: Identity) -> ResetCounts:
        if not self._dev:
            raise BadRequest("the reset is for dev mode only (strongroom server --dev)")
        identity.require("sudo", "sys/dev/reset")
        system = Identity.system()
        regions = [n for n in self._store.list_records("namespace") if n.startswith(AWS_PREFIX)]
        for name in regions:
            self._namespaces.delete(system, name)  # shreds the keyring, then the data
        records = 0
        for kind in self._record_kinds:
            for name in self._store.list_records(kind):
                records += self._store.delete_record(kind, name)
        return ResetCounts(len(regions), records)
