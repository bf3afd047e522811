"""``strongroom operator backup``: an encrypted snapshot of the whole store, taken online by the
server (sudo on ``sys/backup``), written to a file or to S3-compatible storage. It opens only
with the server's root key: keep the key file (or KMS key) apart from the backups."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from strongroom.cli.output import CliContext, emit, format_option, pass_cli, translate_errors
from strongroom.errors import BadRequest

__all__ = ["backup_command"]


@click.command(name="backup")
@click.argument("target")
@format_option
@pass_cli
def backup_command(ctx: CliContext, target: str) -> None:
    """Write an encrypted snapshot of the whole store to TARGET: a file (made 0600, never
    overwritten) or s3://BUCKET/PREFIX (boto3's credentials and AWS_ENDPOINT_URL; the object is
    PREFIX/strongroom-<time>.srbk). Restore it with: strongroom operator restore.

    \b
    Examples:
      strongroom operator backup /var/backups/strongroom-$(date +%F).srbk
      strongroom operator backup s3://backups/strongroom
    """
    show = ctx.format != "json" and sys.stderr.isatty()
    with translate_errors(), ctx.client() as client, _Bar(show) as bar:
        snapshot = client.backup(bar.update)
        where = (
            _to_s3(target, snapshot) if target.startswith("s3://") else _to_file(target, snapshot)
        )
    emit(ctx, {"backup": where, "bytes": len(snapshot)}, f"wrote {len(snapshot)} bytes to {where}")


class _Bar:
    """A progress bar on stderr for the download, once its size is known (a terminal only)."""

    def __init__(self, show: bool) -> None:
        self._show = show
        self._bar: Any = None
        self._shown = 0

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)

    def update(self, done: int, total: int) -> None:
        if not self._show or not total:
            return
        if self._bar is None:
            self._bar = click.progressbar(length=total, label="backup", file=sys.stderr)
            self._bar.__enter__()
        self._bar.update(done - self._shown)
        self._shown = done


def _to_file(target: str, snapshot: bytes) -> str:
    path = Path(target)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BadRequest(f"{path} exists; a backup never overwrites one") from None
    with os.fdopen(fd, "wb") as out:
        out.write(snapshot)
        out.flush()
        os.fsync(out.fileno())
    return str(path)


def _to_s3(target: str, snapshot: bytes) -> str:
    try:
        import boto3
    except ImportError:
        raise BadRequest("backups to S3 need: pip install 'strongroom[aws]'") from None
    bucket, _, prefix = target.removeprefix("s3://").partition("/")
    if not bucket:
        raise BadRequest("an S3 target is s3://BUCKET/PREFIX")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    key = "/".join(p for p in (prefix.strip("/"), f"strongroom-{stamp}.srbk") if p)
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=snapshot)
    return f"s3://{bucket}/{key}"
