"""Where scheduled backups go: a directory, or S3-compatible storage (``s3://BUCKET/PREFIX``,
with boto3's credentials and ``AWS_ENDPOINT_URL``). Either writes a backup whole or not at all,
names it ``strongroom-<time>.srbk`` and keeps the newest ones. The composition root picks one
(``server/runtime.py``), so the optional S3 module is imported only when chosen."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Protocol

__all__ = ["PATTERN", "BackupTarget", "DirectoryTarget", "Writer"]

Writer = Callable[[BinaryIO], None]
PATTERN = ("strongroom-", ".srbk")  # a scheduled backup's name: prefix, time, suffix


class BackupTarget(Protocol):
    def write(self, name: str, write: Writer) -> str:
        """Store the backup ``write`` produces as ``name``; where it went."""

    def prune(self, keep: int) -> None:
        """Delete all but the ``keep`` newest backups."""


class DirectoryTarget:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def write(self, name: str, write: Writer) -> str:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.directory / name
        partial = path.with_suffix(".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        partial.rename(path)  # a backup is there whole or not at all
        return str(path)

    def prune(self, keep: int) -> None:
        for old in sorted(self.directory.glob(f"{PATTERN[0]}*{PATTERN[1]}"))[:-keep]:
            old.unlink()
