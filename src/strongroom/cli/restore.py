"""``strongroom operator restore``: a backup into a new data directory or database, offline.
Like ``strongroom server``, it is a composition root: it opens the store and the root key
provider itself (a server restores nothing into the store it serves)."""

from __future__ import annotations

from pathlib import Path

import click

from strongroom.cli.output import CliContext, emit, format_option, pass_cli, translate_errors
from strongroom.config import ServerSettings, default_data_dir
from strongroom.errors import BadRequest
from strongroom.kms.local import LocalKeyFile
from strongroom.kms.provider import KeyProvider
from strongroom.kms.registry import ProviderRegistry
from strongroom.service.backup import read_backup
from strongroom.store import open_store

__all__ = ["restore_command"]


@click.command(name="restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--data-dir", type=click.Path(path_type=Path), help="The new data directory.")
@click.option("--store-url", help="Or a new, empty PostgreSQL database (postgresql://…).")
@click.option(
    "--key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The root key file of the server that made the backup (default DATA_DIR/kms.key).",
)
@click.option("--seal-provider", help="Or the URI of its root key provider (awskms:…, pkcs11:…).")
@format_option
@pass_cli
def restore_command(
    ctx: CliContext,
    source: Path,
    data_dir: Path | None,
    store_url: str | None,
    key_file: Path | None,
    seal_provider: str | None,
) -> None:
    """Restore a backup (strongroom operator backup) into a new, empty data directory or
    database, then start a server on it as usual. The backup opens only with the root key of
    the server that made it; a kms seal's (the dev server's) is the key file. The restored
    server begins new audit chains: keep the old audit logs with the backup.

    \b
    Examples:
      cp kms.key /srv/sr/ && strongroom operator restore backup.srbk --data-dir /srv/sr
      strongroom server --dev --data-dir /srv/sr
    """
    target = data_dir or default_data_dir()
    settings = ServerSettings(target, store_url=store_url or "", key_file=key_file)
    with translate_errors():
        provider = _root_provider(settings, seal_provider)
        store = open_store(settings.resolved_store_url)
        try:
            with source.open("rb") as backup:
                rows = store.load(read_backup(backup, provider))
        finally:
            store.close()
    emit(ctx, {"restored_rows": rows, "into": str(target)}, f"restored {rows} rows into {target}")


def _root_provider(settings: ServerSettings, uri: str | None) -> KeyProvider:
    if uri:
        return ProviderRegistry().build(uri)
    key_file = settings.resolved_key_file
    if not key_file.exists():
        raise BadRequest(
            f"no root key file at {key_file}: copy the backed-up server's key file there, or "
            "pass --key-file (or --seal-provider)"
        )
    return LocalKeyFile(key_file).provider(settings.root_key_name)
