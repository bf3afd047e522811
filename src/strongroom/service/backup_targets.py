"""Where scheduled backups go: a directory, or S3-compatible storage (``s3://BUCKET/PREFIX``,
with boto3's credentials and ``AWS_ENDPOINT_URL``). Either writes a backup whole or not at all,
names it ``strongroom-<time>.srbk`` and keeps the newest ones."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from strongroom.errors import BadRequest

__all__ = ["BackupTarget", "DirectoryTarget", "S3Target", "backup_target"]

Writer = Callable[[BinaryIO], None]
_PATTERN = ("strongroom-", ".srbk")


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
        for old in sorted(self.directory.glob(f"{_PATTERN[0]}*{_PATTERN[1]}"))[:-keep]:
            old.unlink()


class S3Target:
    def __init__(self, url: str, client: Callable[[], Any] | None = None) -> None:
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not url.startswith("s3://") or not bucket:
            raise BadRequest("an S3 target is s3://BUCKET/PREFIX")
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self._client = client or _boto3_s3

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def write(self, name: str, write: Writer) -> str:
        # Spooled to a private temporary file, then one upload: S3 has the object whole or
        # not at all.
        with tempfile.TemporaryFile() as spool:
            write(spool)
            spool.seek(0)
            self._client().upload_fileobj(spool, self.bucket, self._key(name))
        return f"s3://{self.bucket}/{self._key(name)}"

    def prune(self, keep: int) -> None:
        s3 = self._client()
        start = self._key(_PATTERN[0])
        names: list[str] = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start):
            names += [o["Key"] for o in page.get("Contents", []) if o["Key"].endswith(_PATTERN[1])]
        for old in sorted(names)[:-keep]:
            s3.delete_object(Bucket=self.bucket, Key=old)


def _boto3_s3() -> Any:
    try:
        import boto3
    except ImportError:
        raise BadRequest("backups to S3 need: pip install 'strongroom[aws]'") from None
    return boto3.client("s3")


def backup_target(where: str | Path) -> BackupTarget:
    text = str(where)
    return S3Target(text) if text.startswith("s3://") else DirectoryTarget(Path(where))
