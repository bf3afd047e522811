"""``strongroom kms-plugin``: the Kubernetes KMS v2 plugin, backed by a strongroom Transit key."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from strongroom.cli.output import CliContext, pass_cli

__all__ = ["kms_plugin"]


@click.command(name="kms-plugin")
@click.option(
    "--socket",
    "socket_path",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="The Unix socket kube-apiserver's EncryptionConfiguration names (created 0600).",
)
@click.option("--key", required=True, help="The Transit key that encrypts Kubernetes' DEKs.")
@click.option("--mount", default="transit", show_default=True, help="The Transit mount.")
@click.option(
    "--token-file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Read the token from this file on each call (a rotated token is picked up).",
)
@click.option("--timeout", default=5.0, show_default=True, help="Seconds per call to strongroom.")
@pass_cli
def kms_plugin(
    ctx: CliContext,
    socket_path: Path,
    key: str,
    mount: str,
    token_file: Path | None,
    timeout: float,
) -> None:
    """Serve the Kubernetes KMS v2 API (Status, Encrypt, Decrypt) on a Unix socket, encrypting
    with a strongroom Transit key. The token needs update on transit/encrypt/KEY and
    transit/decrypt/KEY and read on transit/keys/KEY.

    \b
    Example:
      strongroom transit key: bao write -f transit/keys/kubernetes
      strongroom --addr https://strongroom:8200 kms-plugin \\
          --socket /var/run/kmsplugin/socket --key kubernetes \\
          --token-file /var/run/secrets/strongroom/token

    Exit codes: 0 stopped by SIGTERM or SIGINT, 1 could not start, 2 bad options.
    """
    try:
        from strongroom.kmsplugin.server import serve
        from strongroom.kmsplugin.transit import TransitKey, token_reader
    except ImportError:
        click.echo("Error: the KMS plugin needs: pip install 'strongroom[kms-plugin]'", err=True)
        sys.exit(1)
    if not ctx.addr:
        click.echo("Error: give strongroom's address: --addr or STRONGROOM_ADDR", err=True)
        sys.exit(2)
    try:
        token = token_reader(ctx.token, token_file)
    except ValueError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    transit = TransitKey(
        ctx.addr, key, token, mount=mount, verify=ctx.ca_cert or True, timeout=timeout
    )
    stop = threading.Event()

    def stopping(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, stopping)
    signal.signal(signal.SIGINT, stopping)
    try:
        serve(socket_path, transit, stop)
    except (OSError, RuntimeError) as exc:
        click.echo(f"Error: cannot serve on {socket_path}: {exc}", err=True)
        sys.exit(1)
