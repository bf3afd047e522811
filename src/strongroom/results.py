"""Typed answers of the SDK calls that used to return plain dicts (token lookups, rotation status
and runs, audit sinks, init and rekey, root key rotation).

Read the attributes; ``to_json()`` gives the wire document. (The dict access of the release
before, ``result["key"]``, is gone.)"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

__all__ = [
    "AuditSinkInfo",
    "AuditVerification",
    "InitResult",
    "RekeyStarted",
    "RootKeyRotation",
    "RotationRunInfo",
    "RotationStatus",
    "RunResult",
    "SealMigration",
    "TokenLookup",
]

_Json = dict[str, Any]


class _Wire:
    """``to_json()``: the wire document of a typed answer."""

    def to_json(self) -> _Json:
        return asdict(self)  # type: ignore[call-overload, no-any-return]


def _known(cls: type, doc: _Json) -> _Json:
    """The fields of ``cls`` present in ``doc`` (a newer server may send more)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in doc.items() if k in names}


@dataclass(frozen=True)
class TokenLookup(_Wire):
    accessor: str
    display_name: str
    policies: list[str]
    ttl: int
    creation_time: str = ""
    expire_time: str | None = None
    creation_ttl: int = 0
    explicit_max_ttl: int = 0
    period: int = 0
    renewable: bool = False
    num_uses: int = 0
    orphan: bool = False
    role: str = ""
    path: str = ""
    meta: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, doc: _Json) -> TokenLookup:
        return cls(**_known(cls, doc))


@dataclass(frozen=True)
class RunResult(_Wire):
    """The outcome of one rotation run."""

    namespace: str
    path: str
    result: str  # success | failed | rolled_back | busy | not_due | removed
    version: int = 0
    error: str = ""
    token: str = ""  # the run's rotation token (the AWS API's VersionId of the new version)

    @classmethod
    def from_json(cls, doc: _Json) -> RunResult:
        return cls(**_known(cls, doc))


@dataclass(frozen=True)
class RotationRunInfo(_Wire):
    """A run in progress."""

    token: str
    step: str
    version: int = 0
    attempts: int = 0
    error: str | None = None

    @classmethod
    def from_json(cls, doc: _Json) -> RotationRunInfo:
        return cls(**_known(cls, doc))


@dataclass(frozen=True)
class RotationStatus(_Wire):
    """A secret's rotation: settings, labels, the run in progress and (for one secret) the
    history of runs, newest first."""

    namespace: str
    path: str
    rotator: str
    params: _Json
    schedule: _Json
    next_due: float
    expire_after: float | None = None
    notify_url: str | None = None
    notify_secret: str | None = None
    last_rotated: float | None = None
    failures: int = 0
    labels: dict[str, int] = field(default_factory=dict)
    in_progress: RotationRunInfo | None = None
    history: list[_Json] = field(default_factory=list)

    @classmethod
    def from_json(cls, doc: _Json) -> RotationStatus:
        known = _known(cls, doc)
        run = known.pop("in_progress", None)
        return cls(**known, in_progress=RotationRunInfo.from_json(run) if run else None)


@dataclass(frozen=True)
class AuditSinkInfo(_Wire):
    name: str
    type: str
    entries: int = 0
    chain: str = ""
    path: str | None = None

    @classmethod
    def from_json(cls, doc: _Json) -> AuditSinkInfo:
        return cls(**_known(cls, doc))


@dataclass(frozen=True)
class AuditVerification(_Wire):
    ok: bool
    entries: int
    problem: str = ""
    line: int = 0
    first_entry: int = 1

    @classmethod
    def from_json(cls, doc: _Json) -> AuditVerification:
        return cls(**_known(cls, doc))


@dataclass(frozen=True)
class InitResult(_Wire):
    """The unseal shares (shamir) and the first root token: shown once, never again."""

    keys: list[str] = field(repr=False)
    root_token: str = field(repr=False)

    @classmethod
    def from_json(cls, doc: _Json) -> InitResult:
        return cls(list(doc["keys"]), str(doc["root_token"]))


@dataclass(frozen=True)
class RekeyStarted(_Wire):
    """New shares (shamir) and the nonce ``rekey_verify`` needs; a file seal's rekey is done."""

    keys: list[str] = field(repr=False)
    nonce: str
    verification_required: bool

    @classmethod
    def from_json(cls, doc: _Json) -> RekeyStarted:
        return cls(list(doc["keys"]), str(doc["nonce"]), bool(doc["verification_required"]))


@dataclass(frozen=True)
class SealMigration(_Wire):
    """The key provider the root key moved to, its key, and how many wrapped keys moved."""

    provider: str
    key_ref: str
    rewrapped: int

    @classmethod
    def from_json(cls, doc: _Json) -> SealMigration:
        return cls(str(doc["provider"]), str(doc["key_ref"]), int(doc["rewrapped"]))


@dataclass(frozen=True)
class RootKeyRotation(_Wire):
    """How many keyrings were re-wrapped, and the root key's new version (None: not rotated,
    only re-wrapped)."""

    keyrings: int
    root_key_version: int | None = None

    @classmethod
    def from_json(cls, doc: _Json) -> RootKeyRotation:
        return cls(int(doc["keyrings"]), doc.get("root_key_version"))
