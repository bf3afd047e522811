"""Typed results shared by the service, the native API and the SDK (no server dependencies)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeAlias

__all__ = [
    "ClusterNode",
    "IssuedToken",
    "JsonMapping",
    "JsonObject",
    "JsonValue",
    "KeyTermStatus",
    "NamespaceInfo",
    "RewrapProgress",
    "SealStatusInfo",
    "SecretData",
    "SecretMetadata",
    "SecretValue",
    "VersionMetadata",
    "WrappedDataKey",
    "format_time",
    "parse_time",
    "time_of",
]

JsonObject = dict[str, Any]
# Any JSON value, and a secret's value: a JSON object (what a KV write stores)
JsonValue: TypeAlias = (
    bool | int | float | str | list["JsonValue"] | Mapping[str, "JsonValue"] | None
)
JsonMapping: TypeAlias = Mapping[str, JsonValue]  # a JSON object
SecretData: TypeAlias = JsonMapping


_FORMATTED: dict[float, str] = {}


def time_of(epoch: float) -> datetime:
    """A stored time (seconds since the epoch) as the results carry it: aware, in UTC."""
    return datetime.fromtimestamp(epoch, UTC)


def _datetime(text: str) -> datetime | None:
    """A time from a JSON answer (RFC 3339); None for none ("")."""
    return datetime.fromisoformat(text) if text else None


def _required_time(doc: JsonObject, name: str) -> datetime:
    found = _datetime(str(doc.get(name) or ""))
    if found is None:
        raise ValueError(f"{name} is missing")
    return found


def format_time(when: datetime | float | None) -> str:
    """RFC 3339 in UTC with microseconds, as Vault prints it; "" for no time."""
    if when is None:
        return ""
    epoch = when.timestamp() if isinstance(when, datetime) else when
    known = _FORMATTED.get(epoch)
    if known is not None:
        return known
    if len(_FORMATTED) >= 4096:
        _FORMATTED.clear()
    text = _FORMATTED[epoch] = _format_time(epoch)
    return text


_SECOND: list[tuple[int, str]] = [(-1, "")]  # the last second formatted (audit times share it)


def _format_time(epoch: float) -> str:
    seconds = int(epoch)
    micros = round((epoch - seconds) * 1_000_000)
    if micros >= 1_000_000:  # rounding carried into the next second
        return _format_time(float(seconds + 1))
    last, prefix = _SECOND[0]
    if last != seconds:
        t = time.gmtime(seconds)
        prefix = (
            f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}."
        )
        _SECOND[0] = (seconds, prefix)
    return f"{prefix}{micros:06d}Z"


def parse_time(text: str) -> float | None:
    if not text:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


@dataclass(frozen=True)
class ClusterNode:
    """A node serving this store, as it last reported itself (Vault's sys/ha-status)."""

    name: str
    api_address: str
    last_seen: datetime
    leader: bool  # runs the scheduler


@dataclass(frozen=True)
class VersionMetadata:
    """Times are aware datetimes in UTC; each surface writes them in its own form (RFC 3339 in
    JSON answers, seconds in the AWS API's)."""

    version: int
    created_time: datetime
    deletion_time: datetime | None = None
    destroyed: bool = False
    # A deletion time still to come (KV's delete_version_after): the version is live until then.
    deletion_scheduled: bool = False

    @property
    def state(self) -> str:
        if self.destroyed:
            return "destroyed"
        deleted = self.deletion_time is not None and not self.deletion_scheduled
        return "deleted" if deleted else "live"

    def to_json(self) -> JsonObject:
        return {
            "version": self.version,
            "created_time": format_time(self.created_time),
            "deletion_time": format_time(self.deletion_time),
            "destroyed": self.destroyed,
            "state": self.state,
        }

    @classmethod
    def from_json(cls, doc: JsonObject) -> VersionMetadata:
        created = _datetime(str(doc["created_time"]))
        if created is None:
            raise ValueError("a version's created_time is missing")
        return cls(
            int(doc["version"]),
            created,
            _datetime(str(doc.get("deletion_time") or "")),
            bool(doc.get("destroyed", False)),
            bool(doc.get("deletion_time")) and doc.get("state") == "live",
        )


@dataclass(frozen=True)
class SecretValue:
    path: str
    data: JsonObject = field(repr=False)
    metadata: VersionMetadata
    custom_metadata: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> JsonObject:
        return {
            "path": self.path,
            "data": self.data,
            "metadata": self.metadata.to_json(),
            "custom_metadata": self.custom_metadata,
        }

    @classmethod
    def from_json(cls, doc: JsonObject) -> SecretValue:
        return cls(
            str(doc["path"]),
            dict(doc["data"]),
            VersionMetadata.from_json(doc["metadata"]),
            dict(doc.get("custom_metadata") or {}),
        )


@dataclass(frozen=True)
class SecretMetadata:
    path: str
    current_version: int
    oldest_version: int
    created_time: datetime
    updated_time: datetime
    max_versions: int
    cas_required: bool
    custom_metadata: dict[str, str]
    versions: list[VersionMetadata]
    delete_version_after: float = 0.0  # seconds; 0: versions are never deleted by age
    max_versions_setting: int = 0  # as configured on the secret; 0: the mount's or the default
    labels: dict[str, int] = field(default_factory=dict)  # staging label -> version

    def to_json(self) -> JsonObject:
        doc = asdict(self)
        doc["created_time"] = format_time(self.created_time)
        doc["updated_time"] = format_time(self.updated_time)
        doc["versions"] = [v.to_json() for v in self.versions]
        return doc

    @classmethod
    def from_json(cls, doc: JsonObject) -> SecretMetadata:
        return cls(
            str(doc["path"]),
            int(doc["current_version"]),
            int(doc["oldest_version"]),
            _required_time(doc, "created_time"),
            _required_time(doc, "updated_time"),
            int(doc["max_versions"]),
            bool(doc["cas_required"]),
            dict(doc.get("custom_metadata") or {}),
            [VersionMetadata.from_json(v) for v in doc.get("versions", [])],
            float(doc.get("delete_version_after", 0.0)),
            int(doc.get("max_versions_setting", 0)),
            {str(k): int(v) for k, v in (doc.get("labels") or {}).items()},
        )


@dataclass(frozen=True)
class NamespaceInfo:
    """A namespace (a mount): its kind (``kv-v2``), its keyring's wrapping key (``key_provider``,
    as the provider names it) and the configured provider it uses (``provider``; empty: the
    root key's)."""

    name: str
    created_time: datetime
    key_provider: str
    active_term: int
    kind: str = "kv-v2"
    description: str = ""
    options: dict[str, str] = field(default_factory=dict)
    provider: str = ""
    default_lease_ttl: int = 0  # seconds, tuned through Vault's sys/mounts/:path/tune; 0: 768h
    max_lease_ttl: int = 0

    def to_json(self) -> JsonObject:
        return {**asdict(self), "created_time": format_time(self.created_time)}

    @classmethod
    def from_json(cls, doc: JsonObject) -> NamespaceInfo:
        options = doc.get("options") or {}
        return cls(
            str(doc["name"]),
            _required_time(doc, "created_time"),
            str(doc["key_provider"]),
            int(doc["active_term"]),
            str(doc.get("kind", "kv-v2")),
            str(doc.get("description", "")),
            {str(k): str(v) for k, v in options.items()} if isinstance(options, dict) else {},
            str(doc.get("provider", "")),
            int(doc.get("default_lease_ttl") or 0),
            int(doc.get("max_lease_ttl") or 0),
        )


@dataclass(frozen=True)
class KeyTermStatus:
    term: int
    key_ref: str
    created_time: datetime
    active: bool
    encryptions: int
    versions_in_use: int

    def to_json(self) -> JsonObject:
        return {**asdict(self), "created_time": format_time(self.created_time)}

    @classmethod
    def from_json(cls, doc: JsonObject) -> KeyTermStatus:
        return cls(
            int(doc["term"]),
            str(doc["key_ref"]),
            _required_time(doc, "created_time"),
            bool(doc["active"]),
            int(doc["encryptions"]),
            int(doc["versions_in_use"]),
        )


@dataclass(frozen=True)
class RewrapProgress:
    namespace: str
    active_term: int
    rewrapped: int
    remaining: int
    done: bool

    def to_json(self) -> JsonObject:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: JsonObject) -> RewrapProgress:
        return cls(
            str(doc["namespace"]),
            int(doc["active_term"]),
            int(doc["rewrapped"]),
            int(doc["remaining"]),
            bool(doc["done"]),
        )


@dataclass(frozen=True)
class WrappedDataKey:
    """A data key from the server's KMS endpoint: plaintext (may be empty) and wrapped form."""

    key_ref: str
    wrapped: bytes
    plaintext: bytes = field(repr=False, default=b"")


@dataclass(frozen=True)
class IssuedToken:
    """A token from a login or a create call."""

    token: str = field(repr=False)
    accessor: str
    policies: tuple[str, ...]
    lease_duration: int
    renewable: bool

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> IssuedToken:
        return cls(
            str(doc["client_token"]),
            str(doc["accessor"]),
            tuple(doc.get("policies", ())),
            int(doc.get("lease_duration", 0)),
            bool(doc.get("renewable", False)),
        )


@dataclass(frozen=True)
class SealStatusInfo:
    type: str
    initialized: bool
    sealed: bool
    threshold: int
    shares: int
    progress: int
    rekey_pending: bool = False
    nonce: str = ""  # the unseal attempt the progress belongs to

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> SealStatusInfo:
        return cls(
            str(doc["type"]),
            bool(doc["initialized"]),
            bool(doc["sealed"]),
            int(doc["t"]),
            int(doc["n"]),
            int(doc["progress"]),
            bool(doc.get("rekey_pending", False)),
            str(doc.get("nonce", "")),
        )

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
