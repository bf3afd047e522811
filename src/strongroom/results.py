"""Typed answers of the SDK calls that used to return plain dicts (token lookups, rotation status
and runs, audit sinks, init and rekey, root key rotation).

For one release each still answers ``result["key"]`` and ``result.get("key")`` as the dict did,
with a DeprecationWarning: use the attributes, or ``to_json()`` for the wire document."""

from __future__ import annotations

import warnings
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
    "TokenLookup",
]

_Json = dict[str, Any]


class _DictCompat:
    """``result["key"]`` for one release, as the dicts these types replace answered."""

    def to_json(self) -> _Json:
        return asdict(self)  # type: ignore[call-overload, no-any-return]

    def _old(self, key: str) -> Any:
        warnings.warn(
            f"{type(self).__name__} is a dataclass now: use .{key} (or .to_json()) instead of "
            f"[{key!r}]",
            DeprecationWarning,
            stacklevel=3,
        )
        return self.to_json()[key]

    def __getitem__(self, key: str) -> Any:
        return self._old(key)

    def get(self, key: str, default: Any = None) -> Any:
        return self._old(key) if key in self.to_json() else default


def _known(cls: type, doc: _Json) -> _Json:
    """The fields of ``cls`` present in ``doc`` (a newer server may send more)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in doc.items() if k in names}


@dataclass(frozen=True)
class TokenLookup(_DictCompat):
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
class RunResult(_DictCompat):
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
class RotationRunInfo(_DictCompat):
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
class RotationStatus(_DictCompat):
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
class AuditSinkInfo(_DictCompat):
    name: str
    type: str
    entries: int = 0
    chain: str = ""
    path: str | None = None

    @classmethod
    def from_json(cls, doc: _Json) -> AuditSinkInfo:
        return cls(**_known(cls, doc))


@dataclass(frozen=True)
class AuditVerification(_DictCompat):
    ok: bool
    entries: int
    problem: str = ""
    line: int = 0
    first_entry: int = 1

    @classmethod
    def from_json(cls, doc: _Json) -> AuditVerification:
        return cls(**_known(cls, doc))


@dataclass(frozen=True)
class InitResult(_DictCompat):
    """The unseal shares (shamir) and the first root token: shown once, never again."""

    keys: list[str] = field(repr=False)
    root_token: str = field(repr=False)

    @classmethod
    def from_json(cls, doc: _Json) -> InitResult:
        return cls(list(doc["keys"]), str(doc["root_token"]))


@dataclass(frozen=True)
class RekeyStarted(_DictCompat):
    """New shares (shamir) and the nonce ``rekey_verify`` needs; a file seal's rekey is done."""

    keys: list[str] = field(repr=False)
    nonce: str
    verification_required: bool

    @classmethod
    def from_json(cls, doc: _Json) -> RekeyStarted:
        return cls(list(doc["keys"]), str(doc["nonce"]), bool(doc["verification_required"]))


@dataclass(frozen=True)
class RootKeyRotation(_DictCompat):
    keyrings: int
    root_key_version: int | None = None

    @classmethod
    def from_json(cls, doc: _Json) -> RootKeyRotation:
        return cls(int(doc["keyrings"]), doc.get("root_key_version"))
