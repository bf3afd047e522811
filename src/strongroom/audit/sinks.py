"""Audit sinks: where chained entries go. A sink raises on any failure to write; the broker
decides what that means (fail closed)."""

from __future__ import annotations

import contextlib
import json
import math
import os
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from strongroom.audit.chain import (
    CONTINUED,
    FORMAT,
    FORMAT_MARKER,
    GENESIS,
    ChainKey,
    VerifyResult,
    chain_line,
    verify_lines,
)
from strongroom.audit.hashing import ValueHasher
from strongroom.clock import Clock
from strongroom.errors import AuditUnavailable, StrongroomError
from strongroom.store.protocol import Store
from strongroom.store.records import Records
from strongroom.types import format_time

__all__ = ["CHECKPOINT_SECONDS", "CONTINUED", "AuditSink", "FileSink", "StoreSink"]

_HEAD_KIND = "audit-head"
# A file sink's anchor: the first entry its log must still hold. It moves up only when the sink
# sees the file renamed away (log rotation), never when the file is deleted or cut.
_ANCHOR_KIND = "audit-anchor"
CHECKPOINT_SECONDS = 1.0


class AuditSink:
    """Chains entries under the sink's key; subclasses store the lines."""

    type = ""

    def __init__(
        self, name: str, key: bytes, store: Store, clock: Clock, *, chain: str = ""
    ) -> None:
        self.name = name
        # The chain this node writes: the sink's name, or name@node when nodes are named.
        self.chain = chain or name
        self.key = key
        self._chain_key = ChainKey(key)
        self.hasher = ValueHasher(key)
        self._format_named = False  # this process has not yet named its format in the log
        self._store = store
        self._heads = Records.of_json(store, _HEAD_KIND)  # chain -> its checkpointed head
        self._clock = clock
        self._lock = threading.Lock()
        self._seq, self._prev = self._resume()
        self._checkpointed = (self._seq, self._prev)
        # Set while this node does not hold the chain's lock (after a database restart, until
        # it is taken again): writing then could break a chain another node writes.
        self.lost = False

    def _stored_head(self) -> tuple[int, str]:
        doc = self._heads.get(self.chain)
        if doc is None:
            return 0, GENESIS
        return int(doc["seq"]), str(doc["hash"])

    def _resume(self) -> tuple[int, str]:
        """Continue after the newer of the last stored line and the checkpoint: a log that lost
        its tail (or its file) then shows the gap instead of silently starting over."""
        seq, prev = self._stored_head()
        last = self._last_line()
        if last is not None:
            try:
                doc = json.loads(last)
                if int(doc["seq"]) >= seq:
                    return int(doc["seq"]), str(doc["hash"])
            except (ValueError, KeyError, TypeError):
                pass
        return seq, prev

    def _last_line(self) -> bytes | None:
        raise NotImplementedError

    def _append(self, lines: list[bytes], first_seq: int) -> None:
        raise NotImplementedError

    def lines(self) -> Iterator[bytes]:
        raise NotImplementedError

    def _prepare(self) -> list[dict[str, Any]]:
        """Called under the lock before each write; returns entries to write first: the format
        marker on a process's first write (a file sink also begins each file it opens with one,
        or with the link to the chain so far after a rotation)."""
        if self._format_named:
            return []
        self._format_named = True
        return [self._marker()]

    def _marker(self) -> dict[str, Any]:
        return {"type": FORMAT_MARKER, "format": FORMAT, "time": format_time(self._clock.now())}

    def write(self, *entries: dict[str, Any]) -> None:
        """Chain and append ``entries`` in one go (one system call for a file sink)."""
        if self.lost:
            raise AuditUnavailable(f"this node does not hold audit chain {self.chain!r} now")
        with self._lock:
            seq, prev, lines = self._seq, self._prev, []
            for entry in (*self._prepare(), *entries):
                seq += 1
                line, prev = chain_line(self._chain_key, seq, prev, entry)
                lines.append(line)
            self._append(lines, self._seq + 1)
            self._seq, self._prev = seq, prev

    def sync(self) -> None:
        """Return once every entry written so far is durable (a store sink's are: each is a
        committed record)."""

    def checkpoint(self) -> None:
        """Store the head if it moved. Called by the broker's background thread every second
        (a store write in the request path would wait behind any long write transaction)."""
        with self._lock:
            head = (self._seq, self._prev)
        if head == self._checkpointed:
            return
        doc = {"seq": head[0], "hash": head[1]}
        # On failure the next round tries again; the entries themselves are already written.
        with contextlib.suppress(StrongroomError):
            self._heads.put(self.chain, doc)
            self._checkpointed = head

    def close(self) -> None:
        self.checkpoint()

    def verify(self) -> VerifyResult:
        with self._lock:
            head = (self._seq, self._prev)
        return verify_lines(self.key, self.lines(), head if head[0] else None, self._floor)

    _floor = 1  # a store sink's entries must all be there

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "entries": self._seq, "chain": self.chain}


def _first_seq(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            return int(json.loads(handle.readline())["seq"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def _first_present(paths: list[Path]) -> int:
    seqs = [_first_seq(p) for p in paths]
    return min((s for s in seqs if s > 0), default=1)


def _tail_line(path: Path) -> bytes | None:
    """The file's last line (within its last 64 KiB), or None."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 65536))
            tail = handle.read().rstrip(b"\n").rsplit(b"\n", 1)
    except OSError:
        return None
    return tail[-1] if tail and tail[-1] else None


def _last_seq(path: Path) -> int:
    try:
        return int(json.loads(_tail_line(path) or b"")["seq"])
    except (ValueError, KeyError, TypeError):
        return 0


class FileSink(AuditSink):
    """JSON lines appended to a file (0600). At most once a second (``CHECK_SECONDS``) a write
    first checks that the path still names the open file and that it is still writable, so a
    rotated, removed or read-only file is noticed within a second (a root process could
    otherwise keep writing through a chmod 0400), without a system call per entry."""

    type = "file"
    CHECK_SECONDS = 1.0

    def __init__(
        self, name: str, key: bytes, store: Store, clock: Clock, path: Path, *, chain: str = ""
    ) -> None:
        self.path = path
        self._fd: int | None = None
        self._ready_fd = -1
        self._fresh = False  # the file was (re)opened since the last write
        self._identity: tuple[int, int] | None = None
        # Whether the file this sink wrote before was renamed (True), deleted (False) or is
        # not known (None: first opened since start, the files beside it then tell).
        self._renamed: bool | None = None
        self._checked_at = -math.inf  # time.monotonic() of the last check of the path
        # Group commit of the file: one fsync at a time, and whoever waited behind it often
        # finds its entries already on disk (the number of the last entry fsynced).
        self._sync_lock = threading.Lock()
        self._synced = 0
        super().__init__(name, key, store, clock, chain=chain)
        self._floor = self._load_floor()

    def _load_floor(self) -> int:
        anchors = Records.of_json(self._store, _ANCHOR_KIND)  # chain -> its first entry
        anchor = anchors.get(self.chain)
        if anchor is not None:
            return int(anchor["floor"])
        # A new chain starts at 1; a chain written before anchors existed is anchored at its
        # first entry present now (trusted on first use, once).
        floor = 1 if self._seq == 0 else min(self._seq + 1, _first_present(self._files()))
        anchors.put(self.chain, {"floor": floor})
        return floor

    def _move_floor(self, floor: int) -> None:
        Records.of_json(self._store, _ANCHOR_KIND).put(self.chain, {"floor": floor})
        self._floor = floor

    def _last_line(self) -> bytes | None:
        return _tail_line(self.path)

    def _open(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        info = os.fstat(fd)
        self._fd, self._identity, self._fresh = fd, (info.st_dev, info.st_ino), True
        return fd

    def _usable_fd(self) -> int:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            info = None
        if info is not None and not stat.S_ISREG(info.st_mode):
            raise OSError("the audit path is not a regular file")
        if info is not None and not info.st_mode & stat.S_IWUSR:
            raise PermissionError("the audit file was made read-only")
        if (
            self._fd is not None
            and info is not None
            and ((info.st_dev, info.st_ino) == self._identity)
        ):
            return self._fd
        if self._fd is not None:
            # Renamed (logrotate), the old file is still linked; deleted, it is not.
            self._renamed = os.fstat(self._fd).st_nlink > 0
            with contextlib.suppress(OSError):
                os.fsync(self._fd)  # what went to the old file stays there, on disk
            os.close(self._fd)
            self._fd = None
        return self._open()

    def _prepare(self) -> list[dict[str, Any]]:
        now = time.monotonic()
        if self._fd is None or now - self._checked_at >= self.CHECK_SECONDS:
            self._ready_fd = self._usable_fd()  # _append uses this fd
            self._checked_at = now
        if not self._fresh:
            return []
        self._fresh = False
        self._format_named = True
        if self._seq == 0 or os.fstat(self._ready_fd).st_size > 0:
            return [self._marker()]  # a new log, or this process's first write to this one
        # A new, empty file while the chain has entries: the log was rotated, or removed. Only
        # a rotation (the old file renamed, or beside this one holding the last entry) moves
        # the anchor; after a removal, verify reports the entries that went with it.
        rotated = self._renamed if self._renamed is not None else self._beside_holds(self._seq)
        self._renamed = None
        if rotated:
            self._move_floor(self._seq + 1)
        return [
            {
                "type": CONTINUED,
                "format": FORMAT,
                "time": format_time(self._clock.now()),
                "previous_entries": self._seq,
                "previous_file": "rotated" if rotated else "missing",
            }
        ]

    def _beside_holds(self, seq: int) -> bool:
        """Whether a rotated copy beside the file ends with entry ``seq``."""
        return any(path != self.path and _last_seq(path) == seq for path in self._files())

    def _append(self, lines: list[bytes], first_seq: int) -> None:
        fd = self._ready_fd
        data = b"".join(lines)
        written = os.write(fd, data)  # an error here means nothing was written
        if written != len(data):
            # Disk full: cut the partial line off again, so the chain stays whole and the next
            # write, once there is room, continues it.
            with contextlib.suppress(OSError):
                os.ftruncate(fd, os.fstat(fd).st_size - written)
            raise OSError("short write to the audit file (disk full?)")

    def sync(self) -> None:
        """Every entry written so far on disk before the caller goes on: a write's answer
        waits for it. Concurrent callers share one fsync."""
        with self._lock:
            wanted = self._seq
        if self._synced >= wanted:
            return
        with self._sync_lock:
            if self._synced >= wanted:
                return  # the fsync this caller waited behind covered its entries
            with self._lock:
                fd, upto = self._fd, self._seq
            if fd is not None:
                os.fsync(fd)  # raises: the caller's answer says the audit failed
            self._synced = max(self._synced, upto)

    def checkpoint(self) -> None:
        # Entries reach the operating system before the answer; a write's, the disk too
        # (sync); the rest, here, every second.
        with contextlib.suppress(OSError):  # a file rotated meanwhile: the next round
            self.sync()
        super().checkpoint()

    def _files(self) -> list[Path]:
        """This sink's file and its rotated copies beside it (audit.log.1, audit.log-2026…),
        oldest chain first. Compressed copies are not read."""
        found = [p for p in self.path.parent.glob(self.path.name + "*") if p.is_file()]
        found = [p for p in found if not p.name.endswith((".gz", ".bz2", ".xz", ".zst"))]
        return sorted(found, key=_first_seq)

    def lines(self) -> Iterator[bytes]:
        for path in self._files():
            try:
                with path.open("rb") as handle:
                    yield from handle
            except FileNotFoundError:
                continue

    def close(self) -> None:
        super().close()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "path": str(self.path)}


class StoreSink(AuditSink):
    """Entries kept in the store itself, one record per entry (a write per entry: slower)."""

    type = "store"

    def _entries(self) -> Records[bytes]:
        """The chain's lines, by their number."""
        return Records(self._store, f"audit-log:{self.chain}", bytes, bytes)

    def _last_line(self) -> bytes | None:
        names = self._entries().names()
        return self._entries().get(max(names)) if names else None

    def _append(self, lines: list[bytes], first_seq: int) -> None:
        entries = self._entries()
        for seq, line in enumerate(lines, start=first_seq):
            entries.put(f"{seq:016d}", line)

    def lines(self) -> Iterator[bytes]:
        for _, line in self._entries().items():
            yield line
