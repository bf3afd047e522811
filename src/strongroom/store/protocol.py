"""The Store protocol and its records. Every backend passes strongroom.testing.store_conformance."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypedDict

__all__ = ["SecretRecord", "SecretSettings", "Store", "VersionRecord"]


class SecretSettings(TypedDict, total=False):
    """A secret's own settings, kept in its row as JSON: Vault's metadata (max_versions,
    cas_required, delete_version_after, custom_metadata) and the staging labels (label ->
    version, and the token of the rotation that wrote ``pending``)."""

    max_versions: int
    cas_required: bool
    delete_version_after: float
    custom_metadata: dict[str, str]
    labels: dict[str, int]
    pending_token: str
    # kept by sealed_store.py inside the MAC'd row: the row's MAC, and each soft-deleted
    # version's deletion time (version number as text -> time)
    _mac: str
    _deleted: dict[str, float]


@dataclass(frozen=True)
class SecretRecord:
    """Per-secret metadata. ``settings`` holds max_versions, cas_required, custom_metadata, …
    Metadata is not encrypted (docs/security.md): keep secret values out of it. ``stored`` is
    the settings exactly as the backend holds them (when it read them), so that a row already
    verified can be recognised without encoding it again."""

    namespace: str
    path: str
    current_version: int
    created_time: float
    updated_time: float
    settings: SecretSettings = field(default_factory=lambda: SecretSettings())
    stored: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class VersionRecord:
    namespace: str
    path: str
    version: int
    envelope: bytes | None = field(repr=False)  # None once destroyed
    key_ref: str
    created_time: float
    deletion_time: float | None = None

    @property
    def destroyed(self) -> bool:
        return self.envelope is None


class Store(Protocol):
    """Dumb, untrusted persistence. Writes are durable when the call returns."""

    def close(self) -> None: ...

    def publish(self, topic: str, key: str = "") -> None:
        """Tell the other nodes that cached state under ``topic`` changed (tokens, policies,
        a namespace's keyring). A no-op on SQLite: there is one node."""
        ...

    def subscribe(self, handler: Callable[[str, str], None]) -> Callable[[], None]:
        """Call ``handler(topic, key)`` for every ``publish`` by any node (this one included),
        from a thread of its own; returns a function that stops it."""
        ...

    def try_leader(self, name: str) -> bool:
        """Whether this node is (now) the one leader for ``name`` (the scheduler, an audit
        chain). One node on SQLite always is; on PostgreSQL it is an advisory lock, checked
        at each call: a lock lost with its connection is taken again, or reported lost."""
        ...

    def dump(self) -> Iterator[tuple[str, tuple[str, ...], tuple[Any, ...]]]:
        """Every row of every table, ``(table, columns, row)``, from one consistent snapshot
        taken while writers go on: what a backup holds (service/backup.py)."""
        ...

    def load(self, rows: Iterable[tuple[str, tuple[str, ...], tuple[Any, ...]]]) -> int:
        """Write a dump's rows into this store, which must be empty; how many rows."""
        ...

    @property
    def listening(self) -> bool:
        """Whether every subscription hears the other nodes now (always, on SQLite): while one
        does not, this node may hold state another node changed, and must not serve."""
        ...

    # -- system records (keyrings, salts, job cursors) and counters
    def get_record(self, kind: str, name: str) -> bytes | None: ...

    def put_record(self, kind: str, name: str, value: bytes) -> None: ...

    def replace_record(self, kind: str, name: str, old: bytes | None, new: bytes) -> bool:
        """Compare-and-set: write ``new`` only if the stored value is ``old`` (None: absent)."""
        ...

    def delete_record(self, kind: str, name: str) -> bool: ...

    def list_records(self, kind: str) -> list[str]: ...

    def list_kinds(self) -> list[str]:
        """Every record kind in use (for the one-time migration to sealed records)."""
        ...

    def add_counter(self, kind: str, name: str, delta: int) -> int:
        """Atomically add ``delta`` and return the new value."""
        ...

    # -- secrets and versions
    def get_secret(self, namespace: str, path: str) -> SecretRecord | None: ...

    def replace_secret(self, old: SecretRecord | None, new: SecretRecord) -> bool:
        """Compare-and-set of the metadata row: write ``new`` only if the stored row still has
        ``old``'s current_version and settings (labels move this way), or, when ``old`` is
        None, only if there is no row yet."""
        ...

    def write_version(
        self,
        secret: SecretRecord,
        version: VersionRecord,
        *,
        expected_current: int,
        keep: int,
        protected: Sequence[int] = (),
        expected_settings: Mapping[str, Any] | None = None,
    ) -> str:
        """Atomically: insert ``version`` and set the secret row, only if the stored current
        version is ``expected_current`` (0: no secret yet) and, when given, its settings are
        still ``expected_settings`` (as read: a metadata change made meanwhile is not undone);
        then drop versions beyond the newest ``keep``, except the ``protected`` ones (labelled
        versions are never pruned). Raises Conflict when another write won (check-and-set).
        Returns the row's settings as stored (what ``SecretRecord.stored`` will read back)."""
        ...

    def get_version(self, namespace: str, path: str, version: int) -> VersionRecord | None: ...

    def read_version(
        self, namespace: str, path: str, version: int | None
    ) -> tuple[SecretRecord | None, VersionRecord | None]:
        """The secret and one version (None: the current one) in one round trip."""
        ...

    def list_versions(self, namespace: str, path: str) -> list[VersionRecord]: ...

    def set_deletion(
        self, namespace: str, path: str, versions: Sequence[int], deletion_time: float | None
    ) -> None: ...

    def destroy_versions(self, namespace: str, path: str, versions: Sequence[int]) -> None: ...

    def delete_secret(self, namespace: str, path: str) -> bool: ...

    def scan_paths(self, namespace: str, prefix: str, after: str, limit: int) -> list[str]:
        """Paths starting with ``prefix`` and sorting after ``after``, in byte order."""
        ...

    def scan_secrets(self, namespace: str, after: str, limit: int) -> list[SecretRecord]: ...

    # -- keys
    def scan_versions_not_under(
        self, namespace: str, key_ref: str, after: tuple[str, int], limit: int
    ) -> list[VersionRecord]:
        """Live (not destroyed) versions sealed under another key than ``key_ref``."""
        ...

    def replace_envelope(self, record: VersionRecord, envelope: bytes, key_ref: str) -> bool:
        """Swap the envelope only if it is still ``record.envelope``; False if it changed."""
        ...

    def replace_envelopes(self, items: Sequence[tuple[VersionRecord, bytes, str]]) -> int:
        """``replace_envelope`` for many versions in one transaction; returns how many were
        replaced (a version whose envelope changed meanwhile is left alone)."""
        ...

    def count_by_key_ref(self, namespace: str) -> dict[str, int]: ...

    def delete_namespace_data(self, namespace: str) -> None: ...
