"""The seal's stored records, typed: its configuration and a pending shamir rekey. Both live in
the store's ``system`` records, in the clear (the seal must be read before anything is unsealed),
and neither is trusted to grant anything: a forged config cannot open the root keys."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace
from typing import Any

__all__ = ["PendingRekey", "SealConfig"]


@dataclass(frozen=True)
class SealConfig:
    """``provider``: for a kms seal whose root key a seal migration moved, the name of the
    server's ``--key-provider`` that holds it (a name, never a URI: a database writer must not
    choose where the server connects). ``previous``: the seal a migration under way moves from.
    """

    type: str  # kms | file | shamir
    shares: int = 0
    threshold: int = 0
    provider: str = ""
    previous: SealConfig | None = None

    @property
    def unsealed_by(self) -> SealConfig:
        """The seal operators unseal: the previous one while a migration from shamir is under
        way (its root keys still open what is not re-wrapped yet), else this one."""
        return self.previous if self.previous is not None else self

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"type": self.type}
        if self.type == "shamir":
            doc.update(shares=self.shares, threshold=self.threshold)
        if self.provider:
            doc["provider"] = self.provider
        if self.previous is not None:
            doc["previous"] = self.previous.to_doc()
        return doc

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_doc()).encode()

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> SealConfig:
        previous = doc.get("previous")
        return cls(
            str(doc["type"]),
            int(doc.get("shares", 0)),
            int(doc.get("threshold", 0)),
            str(doc.get("provider", "")),
            cls.from_doc(previous) if isinstance(previous, dict) else None,
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> SealConfig:
        return cls.from_doc(json.loads(raw))


@dataclass(frozen=True)
class PendingRekey:
    """A shamir rekey between its new shares and their verification. ``check`` proves the new
    shares (a known plaintext sealed under the new key); ``final`` is the root keys sealed under
    the new key, written just before the swap, so a verify cut short can be finished."""

    nonce: str
    shares: int
    threshold: int
    check: bytes
    final: bytes | None = None

    def to_bytes(self) -> bytes:
        doc: dict[str, Any] = {
            "nonce": self.nonce,
            "shares": self.shares,
            "threshold": self.threshold,
            "check": base64.b64encode(self.check).decode(),
        }
        if self.final is not None:
            doc["final"] = base64.b64encode(self.final).decode()
        return json.dumps(doc).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> PendingRekey:
        doc = json.loads(raw)
        final = doc.get("final")
        return cls(
            str(doc["nonce"]),
            int(doc["shares"]),
            int(doc["threshold"]),
            base64.b64decode(doc["check"]),
            base64.b64decode(final) if final is not None else None,
        )

    def with_final(self, final: bytes | None) -> PendingRekey:
        return replace(self, final=final)
