"""Fans each entry out to every sink, HMACing sensitive values with each sink's own key. When no
sink accepts an entry the request is refused with AuditUnavailable (503): no audit, no answer.
A sink that failed is tried again on the next entry, so the service recovers by itself."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from strongroom.audit.chain import VerifyResult
from strongroom.audit.hashing import ValueHasher
from strongroom.audit.recent import Recent, RecentEntries
from strongroom.audit.record import SENSITIVE_FIELDS, AuditRecord
from strongroom.audit.sinks import CHECKPOINT_SECONDS, AuditSink, FileSink, StoreSink
from strongroom.clock import Clock
from strongroom.errors import (
    Absent,
    AuditUnavailable,
    BadRequest,
    Conflict,
    NotFound,
    StrongroomError,
)
from strongroom.keyproviders.provider import KeyProvider
from strongroom.record_migration import audit_key_context
from strongroom.store.protocol import Store
from strongroom.store.records import Records
from strongroom.types import format_time

__all__ = ["AuditBroker"]

log = logging.getLogger("strongroom.audit")

_SINK_KIND = "audit-sink"
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")


def _redacted(
    hasher: ValueHasher,
    entry: dict[str, Any],
    sensitive: tuple[str, ...],
    seen: dict[str, Any],
) -> Any:
    redacted = dict(entry)
    for field in sensitive:
        if field in redacted:
            value = redacted[field]
            if isinstance(value, str):  # a token: once per call, however many entries carry it
                known = seen.get(value)
                if known is None:
                    known = seen[value] = hasher.redact(value)
                redacted[field] = known
            else:
                redacted[field] = hasher.redact(value)
    return redacted


class AuditBroker:
    """Each sink's hash chain is written by one node: the sink's name names the chain, or
    ``name@node`` when nodes are named (``--node-name``). A node takes a lock on each chain it
    writes (a PostgreSQL advisory lock; SQLite has one node), so two nodes that would write one
    chain, and break it, cannot both start."""

    def __init__(
        self,
        store: Store,
        provider: KeyProvider,
        clock: Clock,
        audit_dir: Path,
        *,
        node_name: str = "",
        file_paths: Mapping[str, Path] | None = None,
    ) -> None:
        self._store = store
        self._records = Records.of_json(store, _SINK_KIND)  # each sink's type, key and path
        self._node_name = node_name
        # This node's own paths for file sinks, by name (``--audit-file``): a file's path
        # belongs to the node writing it, not to the store the nodes share.
        self._file_paths = dict(file_paths or {})
        self._provider = provider
        self._clock = clock
        self.audit_dir = audit_dir
        self._sinks: dict[str, AuditSink] = {}
        self.recent = RecentEntries()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop, name="strongroom-audit-checkpoint", daemon=True
        )
        for name, doc in self._records.items():
            self._sinks[name] = self._build(name, doc)
        self._checkpointer.start()

    def _checkpoint_loop(self) -> None:
        while not self._stop.wait(CHECKPOINT_SECONDS):
            for sink in list(self._sinks.values()):
                try:
                    # The chain's lock, proved every second (a database restart drops it):
                    # a sink whose lock is lost, or another node took, writes nothing.
                    held = self._store.try_leader(f"audit-chain:{sink.chain}")
                    if held == sink.lost:
                        log.error(
                            "audit chain %s: lock %s", sink.chain, "taken again" if held else "lost"
                        )
                    sink.lost = not held
                    sink.checkpoint()
                except Exception as exc:  # a full disk must not end checkpoints for good
                    log.error("audit checkpoint of %s failed: %s", sink.name, type(exc).__name__)

    @property
    def enabled(self) -> bool:
        return bool(self._sinks)

    def _key(self, name: str, doc: dict[str, Any]) -> bytes:
        wrapped = bytes.fromhex(doc["wrapped_key"])
        return self._provider.unwrap(wrapped, context=audit_key_context(name))

    def _build(self, name: str, doc: dict[str, Any]) -> AuditSink:
        key = self._key(name, doc)
        chain = f"{name}@{self._node_name}" if self._node_name else name
        if not self._store.try_leader(f"audit-chain:{chain}"):
            raise Conflict(
                f"another node is writing audit chain {chain!r}: give each node its own "
                "--node-name (docs/operations.md)"
            )
        if doc["type"] == "file":
            path = self._file_paths.get(name) or Path(doc["path"])
            return FileSink(name, key, self._store, self._clock, path, chain=chain)
        return StoreSink(name, key, self._store, self._clock, chain=chain)

    def rewrap_keys(self) -> int:
        """Wrap every sink's HMAC key again with the root key as it is now (a seal migration);
        the sinks keep their keys, so their hash chains and HMACs go on unchanged."""
        count = 0
        with self._lock:
            for name, doc in self._records.items():
                key = self._key(name, doc)
                wrapped = self._provider.wrap(key, context=audit_key_context(name))
                doc["wrapped_key"] = wrapped.hex()
                self._records.put(name, doc)
                count += 1
        return count

    def enable(
        self, name: str, sink_type: str, path: Path | None = None, *, adopt: bool = False
    ) -> AuditSink:
        """Add a sink. File sinks live in the audit directory, named after the sink; only the
        server's own configuration (not the API) chooses another path (CVE-2025-6000).
        ``adopt``: a sink of that name another node stored meanwhile is taken as it is."""
        if not name or set(name) - _NAME_CHARS or len(name) > 64:
            raise BadRequest("sink names use 1-64 characters from a-z, 0-9, '-' and '_'")
        if sink_type not in ("file", "store"):
            raise BadRequest("audit sink type is 'file' or 'store'")
        with self._lock:
            if name in self._sinks:
                raise Conflict(f"audit sink {name!r} is already enabled")
            wrapped = self._provider.wrap(secrets.token_bytes(32), context=audit_key_context(name))
            doc: dict[str, Any] = {"type": sink_type, "wrapped_key": wrapped.hex()}
            if sink_type == "file":
                doc["path"] = str(path or self.audit_dir / f"{name}.log")
            # Created only if absent: a sink another node stored meanwhile keeps its key (a put
            # would give it this node's, and its entries' HMACs would no longer verify).
            created = self._records.create(name, doc)
            if not created:
                stored = self._records.get(name) if adopt else None
                if stored is None:
                    raise Conflict(f"audit sink {name!r} is already enabled")
                doc = stored
            try:
                sink = self._build(name, doc)
            except Exception:
                if created:
                    self._records.delete(name)
                raise
            self._sinks[name] = sink
            return sink

    def ensure_file(self, name: str, path: Path) -> None:
        """A file sink from the server's own flags (``--audit-file``), at this node's path
        whatever path another node, or this data directory before a move, gave it."""
        self._file_paths[name] = path
        existing = self._sinks.get(name) or self.enable(name, "file", path, adopt=True)
        if not isinstance(existing, FileSink):
            raise BadRequest(
                f"audit sink {name!r} is a {existing.type} sink; name this node's file sink "
                "otherwise or disable that sink first"
            )

    def disable(self, name: str) -> None:
        with self._lock:
            sink = self._sinks.pop(name, None)
            if sink is None:
                raise Absent(f"no audit sink {name!r}")
            sink.close()
            self.recent.forget(name)
            self._records.delete(name)

    def sink(self, name: str) -> AuditSink:
        sink = self._sinks.get(name)
        if sink is None:
            raise NotFound(f"no audit sink {name!r}; list them with: strongroom audit list")
        return sink

    def sinks(self) -> list[AuditSink]:
        return [self._sinks[n] for n in sorted(self._sinks)]

    def hash(self, name: str, value: str) -> str:
        return ValueHasher(self.sink(name).key).hash(value)

    def verify(self, name: str) -> VerifyResult:
        return self.sink(name).verify()

    def recent_entries(self, name: str, after: int, limit: int) -> Recent:
        self.sink(name)  # an unknown sink is a 404, not an empty list
        return self.recent.after(name, after, limit)

    def log(self, *entries: dict[str, Any], sensitive: tuple[str, ...]) -> None:
        """Write ``entries`` (one write per sink) to every sink with the values under
        ``sensitive`` top-level keys HMAC'd; raise AuditUnavailable when no sink took them."""
        if not self._sinks:
            return
        if self._node_name:  # which node answered, for logs gathered from every node
            entries = tuple({**entry, "node": self._node_name} for entry in entries)
        written = 0
        for sink in list(self._sinks.values()):
            seen: dict[str, Any] = {}
            redacted = [_redacted(sink.hasher, entry, sensitive, seen) for entry in entries]
            try:
                sink.write(*redacted)
                written += 1
                self.recent.add(sink.name, redacted)
            except (OSError, StrongroomError) as exc:
                log.error("audit sink %s failed: %s", sink.name, type(exc).__name__)
        if not written:
            raise AuditUnavailable()

    def sync(self) -> None:
        """Every entry written so far durable in every sink that took it (a write's answer waits
        for this); AuditUnavailable if none can say so."""
        synced = 0
        for sink in list(self._sinks.values()):
            try:
                sink.sync()
                synced += 1
            except OSError as exc:
                log.error("audit sink %s failed to sync: %s", sink.name, type(exc).__name__)
        if self._sinks and not synced:
            raise AuditUnavailable()

    def event(self, kind: str, record: AuditRecord, *, request_id: str, time: float) -> None:
        """A background event (a rotation step) as one entry of type ``kind``: the record's
        operation and target, its clear fields at the top level, its error if it failed."""
        entry: dict[str, Any] = {
            "type": kind,
            "time": format_time(time),
            "request_id": request_id,
            "operation": record.operation,
        }
        if record.target:
            entry["target"] = record.target
        if isinstance(record.clear, dict):
            entry.update(record.clear)
        if record.error is not None:
            entry["error"] = {"code": record.error.code, "message": record.error.message}
        if record.response is not None:
            entry["data"] = record.response
        self.log(entry, sensitive=SENSITIVE_FIELDS)

    def close(self) -> None:
        self._stop.set()
        self._checkpointer.join(timeout=10)
        for sink in self._sinks.values():
            sink.close()
