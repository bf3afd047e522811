"""Backups: one encrypted, integrity-checked, versioned snapshot of the whole store.

    "SRBK" | format u8 = 2 | key_ref_len u16 | key_ref | sealed_len u32 | sealed root keys
    | wrapped_len u16 | wrapped backup key | snapshot id (16 bytes)
    then frames: length u32 | nonce ‖ ciphertext ‖ tag     (AES-256-GCM under the backup key)
    associated data of frame i = every header byte ‖ i as u64 ‖ 1 if it is the last frame, else 0

The backup key is fresh for each snapshot and wrapped by the root key provider (its context
names the snapshot), so a backup opens only where that root key is: keep the key file (or the
KMS key) apart from the backups, as you keep it apart from the database. Frames hold JSON lines
of rows as the store holds them (values stay envelopes, records stay sealed); numbering and the
last-frame flag make a cut, reordered or spliced backup fail to open, with the one opaque
DecryptionError. A restore writes the rows into an empty store and leaves out what belongs to
the node that made the backup (its audit chain heads and anchors, its roster entry, login
windows): the restored server starts new audit chains.

A file or shamir seal keeps its root keys in the store, sealed under the unseal key; the header
carries that sealed copy (empty for a kms seal), so a restore opens it with the seal key file or
the unseal shares, exactly as an unseal does, and nothing else. Format 1 (no sealed root keys)
is still read."""

from __future__ import annotations

import base64
import io
import json
import os
import struct
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from strongroom.auth.identity import Identity
from strongroom.clock import Clock
from strongroom.crypto import Aead, new_key
from strongroom.errors import BadRequest, DecryptionError
from strongroom.keyproviders.provider import KeyProvider
from strongroom.seal.root_keys import SEALED_ROOT_KEYS, SYSTEM_KIND
from strongroom.service.backup_targets import BackupTarget

__all__ = [
    "FORMAT",
    "FRAME_BYTES",
    "MAGIC",
    "NODE_KINDS",
    "BackupHeader",
    "BackupService",
    "Row",
    "read_backup",
    "read_header",
    "write_backup",
]

MAGIC = b"SRBK"
FORMAT = 2
_READABLE = (1, 2)
FRAME_BYTES = 1024 * 1024  # plaintext per frame
_MAX_FRAME = FRAME_BYTES * 4 + 64  # a frame's ciphertext: a long row may overflow the target
# Records of the node that made the backup, not of the data: left out by a restore.
NODE_KINDS = frozenset(
    {"audit-head", "audit-anchor", "cluster-node", "login-attempts", "backup-schedule"}
)
_SCHEDULE_KIND = "backup-schedule"

Row = tuple[str, tuple[str, ...], tuple[Any, ...]]


def _context(snapshot: bytes) -> dict[str, str]:
    return {"purpose": "backup", "snapshot": snapshot.hex()}


def _frame_data(header: bytes, index: int, last: bool) -> bytes:
    return header + struct.pack(">QB", index, int(last))


def _encode_value(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"b64": base64.b64encode(bytes(value)).decode()}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        return base64.b64decode(value["b64"], validate=True)
    return value


def write_backup(
    rows: Iterable[Row], provider: KeyProvider, out: BinaryIO, sealed_root_keys: bytes = b""
) -> int:
    """Write the snapshot of ``rows`` to ``out``; returns the number of rows."""
    snapshot = os.urandom(16)
    key = new_key()
    wrapped = provider.wrap(key, context=_context(snapshot))
    ref = provider.key_ref.encode()
    header = MAGIC + struct.pack(">BH", FORMAT, len(ref)) + ref
    header += struct.pack(">I", len(sealed_root_keys)) + sealed_root_keys
    header += struct.pack(">H", len(wrapped)) + wrapped + snapshot
    out.write(header)
    aead, index, count = Aead(key), 0, 0
    pending: list[bytes] = []
    size = 0
    columns_sent: dict[str, tuple[str, ...]] = {}

    def flush(last: bool) -> None:
        nonlocal index, pending, size
        sealed = aead.wrap(b"".join(pending), _frame_data(header, index, last))
        out.write(struct.pack(">I", len(sealed)) + sealed)
        index, pending, size = index + 1, [], 0

    for table, columns, row in rows:
        line: dict[str, Any] = {"t": table, "r": [_encode_value(v) for v in row]}
        if columns_sent.get(table) != columns:
            line["c"] = list(columns)
            columns_sent[table] = columns
        encoded = json.dumps(line, separators=(",", ":")).encode() + b"\n"
        if size and size + len(encoded) > FRAME_BYTES:
            flush(last=False)
        pending.append(encoded)
        size += len(encoded)
        count += 1
    flush(last=True)
    return count


@dataclass(frozen=True)
class BackupHeader:
    version: int
    key_ref: str  # the root key the backup key is wrapped with
    sealed_root_keys: bytes  # a file or shamir seal's root keys, sealed; b"" for a kms seal
    wrapped: bytes = field(repr=False)
    snapshot: bytes
    raw: bytes = field(repr=False)  # every header byte: the frames' associated data


_MAX_SEALED = 1024 * 1024


def read_header(source: BinaryIO) -> BackupHeader:
    """The header, before anything is decrypted: it says what opens the backup."""
    start = source.read(7)
    if len(start) != 7 or start[:4] != MAGIC:
        raise BadRequest("not a strongroom backup (it does not start with SRBK)")
    version, ref_len = struct.unpack(">BH", start[4:])
    if version not in _READABLE:
        raise BadRequest(f"backup format {version} is not one this version reads ({FORMAT})")
    raw = start + _exactly(source, ref_len)
    sealed = b""
    if version >= 2:
        sealed_len_bytes = _exactly(source, 4)
        (sealed_len,) = struct.unpack(">I", sealed_len_bytes)
        if sealed_len > _MAX_SEALED:
            raise DecryptionError()
        sealed = _exactly(source, sealed_len)
        raw += sealed_len_bytes + sealed
    wrapped_len_bytes = _exactly(source, 2)
    (wrapped_len,) = struct.unpack(">H", wrapped_len_bytes)
    wrapped = _exactly(source, wrapped_len)
    snapshot = _exactly(source, 16)
    raw += wrapped_len_bytes + wrapped + snapshot
    ref = raw[7 : 7 + ref_len].decode("utf-8", "replace")
    return BackupHeader(version, ref, sealed, wrapped, snapshot, raw)


def read_backup(
    source: BinaryIO, provider: KeyProvider, header: BackupHeader | None = None
) -> Iterator[Row]:
    """The rows of a backup, checked frame by frame; records of the node that made it are left
    out (NODE_KINDS). Raises DecryptionError if anything does not open, or the backup ends before
    its last frame; BadRequest if it is not a strongroom backup at all. ``header``: when the
    caller read it already (to find the key that opens the backup)."""
    header = header or read_header(source)
    aead = Aead(provider.unwrap(header.wrapped, context=_context(header.snapshot)))
    columns: dict[str, tuple[str, ...]] = {}
    index = 0
    while True:
        (length,) = struct.unpack(">I", _exactly(source, 4))
        if length > _MAX_FRAME:
            raise DecryptionError()
        sealed = _exactly(source, length)
        last = source.peek(1) == b"" if hasattr(source, "peek") else _at_end(source)
        plain = aead.unwrap(sealed, _frame_data(header.raw, index, last))
        for line in plain.splitlines():
            doc = json.loads(line)
            table = str(doc["t"])
            if "c" in doc:
                columns[table] = tuple(doc["c"])
            row = tuple(_decode_value(v) for v in doc["r"])
            if table == "records" and row[0] in NODE_KINDS:
                continue
            yield table, columns[table], row
        if last:
            return
        index += 1


def _exactly(source: BinaryIO, size: int) -> bytes:
    data = source.read(size)
    if len(data) != size:
        raise DecryptionError()  # cut short
    return data


def _at_end(source: BinaryIO) -> bool:
    here = source.tell()
    ended = source.read(1) == b""
    source.seek(here)
    return ended


class BackupService:
    """``sudo`` on ``sys/backup``: a snapshot of the whole store, online. And the scheduled
    backups of the server's own flags (``--backup-dir`` DIR or s3://BUCKET/PREFIX,
    ``--backup-every``, ``--backup-keep``): the scheduler's leader takes one when the last is
    ``every`` seconds old (the time is kept in the store, so nodes agree), then keeps the
    ``keep`` newest (service/backup_targets.py)."""

    def __init__(
        self,
        store: Any,
        provider: KeyProvider,
        clock: Clock,
        target: BackupTarget | None = None,
        every: float = 0.0,
        keep: int = 7,
        raw_store: Any = None,
    ) -> None:
        self._store = store
        # The store beneath the sealed records: where a file or shamir seal keeps its root keys.
        self._raw_store = raw_store or store
        self._provider = provider
        self._clock = clock
        self._target, self._every, self._keep = target, every, keep

    def snapshot(self, identity: Identity) -> bytes:
        identity.require("sudo", "sys/backup")
        out = io.BytesIO()
        write_backup(self._store.dump(), self._provider, out, self._sealed_root_keys())
        return out.getvalue()

    def _sealed_root_keys(self) -> bytes:
        return self._raw_store.get_record(SYSTEM_KIND, SEALED_ROOT_KEYS) or b""

    def run_due(self) -> str | None:
        """Take the scheduled backup if one is due; where it went, or None."""
        if self._target is None or self._every <= 0:
            return None
        now = self._clock.now()
        raw = self._store.get_record(_SCHEDULE_KIND, "last")
        if raw is not None and now - float(json.loads(raw)["time"]) < self._every:
            return None
        claim = json.dumps({"time": now}).encode()
        if not self._store.replace_record(_SCHEDULE_KIND, "last", raw, claim):
            return None  # another node took this one
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
        sealed = self._sealed_root_keys()

        def snapshot(out: BinaryIO) -> None:
            write_backup(self._store.dump(), self._provider, out, sealed)

        where = self._target.write(f"strongroom-{stamp}.srbk", snapshot)
        self._target.prune(self._keep)
        return where
