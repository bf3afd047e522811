"""``strongroom server``: run the ASGI app under uvicorn."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from strongroom.config import ServerSettings, default_data_dir, store_url_from_env

__all__ = ["server"]

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@click.command()
@click.option(
    "--dev", is_flag=True, help="Dev mode: SQLite + local KMS in --data-dir, auto-unsealed."
)
@click.option(
    "--data-dir", type=click.Path(path_type=Path), help="Where data and the key file live."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8200, show_default=True, help="Port to listen on.")
@click.option(
    "--root-token",
    envvar="STRONGROOM_DEV_ROOT_TOKEN",
    help="Use this root token (like Vault's -dev-root-token-id).",
)
@click.option(
    "--store-url",
    default=None,
    help="sqlite:///path or postgresql://… (default: SQLite in --data-dir).",
)
@click.option(
    "--rotate-after",
    type=click.IntRange(1, 2**30),
    default=2**30,
    show_default=True,
    help="Rotate a namespace's keyring term after this many encryptions.",
)
@click.option(
    "--access-log/--no-access-log", default=False, help="Log each request line (never bodies)."
)
def server(
    dev: bool,
    data_dir: Path | None,
    host: str,
    port: int,
    root_token: str | None,
    store_url: str | None,
    rotate_after: int,
    access_log: bool,
) -> None:
    """Start the strongroom server.

    \b
    Examples:
      strongroom server --dev
      strongroom server --dev --data-dir ./data --port 8300 --root-token dev-only-token
    """
    try:
        import uvicorn

        from strongroom.server.app import create_app
    except ImportError:
        click.echo("Error: the server needs: pip install 'strongroom[server]'", err=True)
        sys.exit(1)
    if host not in _LOOPBACK:
        click.echo(
            "Error: refusing to listen on a non-loopback address without TLS; "
            "TLS arrives with the access-control release. Use --host 127.0.0.1.",
            err=True,
        )
        sys.exit(2)
    if not dev and not root_token:
        click.echo(
            "Error: without --dev, pass --root-token (full auth arrives in a later release).",
            err=True,
        )
        sys.exit(2)
    settings = ServerSettings(
        data_dir=data_dir or default_data_dir(),
        host=host,
        port=port,
        dev=dev,
        root_token=root_token,
        store_url=store_url or store_url_from_env(),
        rotate_after_encryptions=rotate_after,
        access_log=access_log,
    )
    app = create_app(settings)
    addr = f"http://{host}:{port}"
    token = app.state.services.root_token
    click.echo(f"strongroom {'dev ' if dev else ''}server")
    click.echo(f"  data directory: {settings.data_dir}")
    click.echo(f"  address:        {addr}")
    click.echo(f"  root token:     {token}")
    click.echo("")
    click.echo("Set these in your shell to use the CLI:")
    click.echo(f"  export STRONGROOM_ADDR={addr} STRONGROOM_TOKEN={token}")
    click.echo("", nl=True)
    sys.stdout.flush()
    uvicorn.run(
        app, host=host, port=port, log_level="warning", access_log=access_log, server_header=False
    )
    app.state.services.close()
