"""``strongroom operator restore``: a backup into a new data directory or database, offline.
Like ``strongroom server``, it is a composition root: it opens the store and the root key
provider itself (a server restores nothing into the store it serves)."""

from __future__ import annotations

import base64
import binascii
import sys
from pathlib import Path

import click

from strongroom.cli.output import CliContext, emit, format_option, pass_cli, translate_errors
from strongroom.config import ServerSettings, default_data_dir
from strongroom.errors import BadRequest
from strongroom.keyproviders.local import LocalKeyFile
from strongroom.keyproviders.provider import KeyProvider
from strongroom.keyproviders.registry import ProviderRegistry
from strongroom.seal.root_keys import SealedRootKeys
from strongroom.seal.seals import decode_share
from strongroom.seal.shamir import combine
from strongroom.service.backup import read_backup, read_header
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
@click.option(
    "--seal-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file seal's key file (--seal file); for a shamir seal, give the unseal shares on "
    "stdin, one per line, or at the prompt.",
)
@format_option
@pass_cli
def restore_command(
    ctx: CliContext,
    source: Path,
    data_dir: Path | None,
    store_url: str | None,
    key_file: Path | None,
    seal_provider: str | None,
    seal_key_file: Path | None,
) -> None:
    """Restore a backup (strongroom operator backup) into a new, empty data directory or
    database, then start a server on it as usual. The backup opens only with the root key of
    the server that made it: a kms seal's (the dev server's) is the key file or the provider; a
    file seal's, its seal key file; a shamir seal's, the threshold of unseal shares. The
    restored server begins new audit chains: keep the old audit logs with the backup.

    \b
    Examples:
      cp kms.key /srv/sr/ && strongroom operator restore backup.srbk --data-dir /srv/sr
      strongroom server --dev --data-dir /srv/sr
      strongroom operator restore backup.srbk --data-dir /srv/sr --seal-key-file /etc/sr/seal.key
      strongroom operator restore backup.srbk --data-dir /srv/sr < shares.txt   # shamir
    """
    target = data_dir or default_data_dir()
    settings = ServerSettings(target, store_url=store_url or "", key_file=key_file)
    with translate_errors(), source.open("rb") as backup:
        header = read_header(backup)
        if header.sealed_root_keys:
            unseal_key = _unseal_key(seal_key_file)
            provider = SealedRootKeys.provider_of(
                header.sealed_root_keys, unseal_key, settings.root_key_name
            )
        else:
            provider = _root_provider(settings, seal_provider)
        store = open_store(settings.resolved_store_url)
        try:
            rows = store.load(read_backup(backup, provider, header))
        finally:
            store.close()
    emit(ctx, {"restored_rows": rows, "into": str(target)}, f"restored {rows} rows into {target}")


def _unseal_key(seal_key_file: Path | None) -> bytes:
    """A file seal's key from its file, or a shamir seal's rebuilt from shares read from stdin
    (one per line) or, on a terminal, prompted for until an empty answer."""
    if seal_key_file is not None:
        try:
            return base64.b64decode(seal_key_file.read_bytes().strip(), validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest(f"{seal_key_file} is not a seal key file") from None
    shares: list[bytes] = []
    if sys.stdin.isatty():
        click.echo("This backup was made by a shamir seal: enter unseal shares, then an empty one.")
        while share := click.prompt(
            "Unseal share", hide_input=True, default="", show_default=False
        ):
            shares.append(decode_share(share.strip()))
    else:
        shares = [decode_share(line.strip()) for line in sys.stdin if line.strip()]
    if not shares:
        raise BadRequest(
            "this backup was made by a file or shamir seal: give --seal-key-file, or the unseal "
            "shares on stdin (one per line)"
        )
    return combine(shares)


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
