"""Scheduled backups to S3-compatible storage (``--backup-dir s3://BUCKET/PREFIX``, with
boto3's credentials and ``AWS_ENDPOINT_URL``): the aws extra, imported only when chosen."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any

from strongroom.errors import BadRequest
from strongroom.service.backup_targets import PATTERN, Writer

__all__ = ["S3Target"]


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
        start = self._key(PATTERN[0])
        names: list[str] = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start):
            names += [o["Key"] for o in page.get("Contents", []) if o["Key"].endswith(PATTERN[1])]
        for old in sorted(names)[:-keep]:
            s3.delete_object(Bucket=self.bucket, Key=old)


def _boto3_s3() -> Any:
    try:
        import boto3
    except ImportError:
        raise BadRequest("backups to S3 need: pip install 'strongroom[aws]'") from None
    return boto3.client("s3")
