"""``strongroom server``: run the ASGI app under uvicorn."""

from __future__ import annotations

import contextlib
import copy
import ipaddress
import logging
import sys
from pathlib import Path
from typing import Any

import click

from strongroom.cli.server_config import config_option
from strongroom.cli.startup import hold_data_dir, port_free, started
from strongroom.config import ServerSettings, default_data_dir, store_url_from_env
from strongroom.durations import parse_duration
from strongroom.errors import BadRequest

__all__ = ["MAX_CONNECTIONS", "TLS12_CIPHERS", "server"]


MAX_CONNECTIONS = 1000  # beyond this, uvicorn answers 503 (docs/limits.md)
TLS12_CIPHERS = ":".join(
    f"ECDHE-{auth}-{suite}"
    for suite in ("AES128-GCM-SHA256", "AES256-GCM-SHA384", "CHACHA20-POLY1305")
    for auth in ("ECDSA", "RSA")
)


def _log_config(access_log: bool) -> dict[str, object]:
    """uvicorn's logging at warning level, but its access log (an info record) on when asked:
    request lines only, never bodies or headers."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["uvicorn"]["level"] = "WARNING"
    config["loggers"]["uvicorn.error"]["level"] = "WARNING"
    config["loggers"]["uvicorn.access"]["level"] = "INFO" if access_log else "WARNING"
    return config


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback  # all of 127.0.0.0/8, and ::1
    except ValueError:
        return False


def _banner_lines(node: Any, settings: ServerSettings, addr: str, dev: bool) -> list[str]:
    status = node.status()
    lines = [
        f"strongroom {'dev ' if dev else ''}server",
        f"  data directory: {settings.data_dir}",
        f"  address:        {addr}",
        f"  web console:    {addr}/ui/",
        f"  seal:           {status.type} ({'sealed' if status.sealed else 'unsealed'})",
    ]
    if node.runtime is not None and node.runtime.root_token:
        token = node.runtime.root_token
        lines += [
            f"  root token:     {token}",
            "",
            "Set these in your shell to use the CLI:",
            f"  export STRONGROOM_ADDR={addr} STRONGROOM_TOKEN={token}",
        ]
    elif not status.initialized:
        lines += ["", f"Not initialized. Run: STRONGROOM_ADDR={addr} strongroom operator init"]
    elif status.sealed:
        lines += ["", f"Sealed. Run: STRONGROOM_ADDR={addr} strongroom operator unseal"]
    if node.runtime is not None and not node.runtime.audit.enabled:
        lines += ["", "WARNING: no audit sink is enabled: requests are not audited."]
    return [*lines, ""]


def _banner(lines: list[str]) -> None:
    """Printed if the console takes it; a console that fails does not stop the server."""
    with contextlib.suppress(OSError, ValueError):
        click.echo("\n".join(lines))
        sys.stdout.flush()


def _url_host(host: str) -> str:
    """A host as it goes in a URL: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _duration_option(value: str | None, name: str) -> float:
    try:
        return parse_duration(value, name) or 0.0
    except BadRequest as exc:
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(2)


@click.command()
@config_option
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
    help="Dev mode only: use this root token (like Vault's -dev-root-token-id).",
)
@click.option(
    "--trusted-proxy",
    "trusted_proxies",
    multiple=True,
    metavar="CIDR",
    help="Believe X-Forwarded-For from this proxy address or CIDR (repeatable); "
    "by default the client address is the socket's.",
)
@click.option(
    "--node-name",
    default="",
    help="Several nodes on one database: a name for this node (its own audit chains); "
    "each node needs a different one.",
)
@click.option(
    "--key-provider",
    "key_providers",
    multiple=True,
    metavar="NAME=URI",
    help="A key provider namespaces may use instead of the root key (repeatable), e.g. "
    "hsm=local:/etc/strongroom/hsm.key; then: strongroom namespace create NS --provider hsm. "
    "Schemes: docs/kms.md.",
)
@click.option(
    "--aws-access-key",
    "aws_access_key",
    default=None,
    metavar="ID:SECRET",
    help="Dev mode only: a fixed AWS access key pair with the root policy, for local use and "
    "test suites (boto3 and the AWS CLI sign with it). Elsewhere: strongroom aws-credentials "
    "create.",
)
@click.option(
    "--aws-account-id",
    default="000000000000",
    show_default=True,
    help="The 12-digit account id in the AWS API's ARNs.",
)
@click.option(
    "--egress-allow",
    "egress_allow",
    multiple=True,
    metavar="CIDR",
    help="Let rotators and notifications connect to this non-public address or CIDR "
    "(repeatable); by default they reach public addresses only.",
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
    "--rotate-keys-every",
    default=None,
    help="Also rotate keyring terms older than this (e.g. 90d); default: by use count only.",
)
@click.option(
    "--backup-dir",
    help="Scheduled backups go here (with --backup-every), named strongroom-<time>.srbk: a "
    "directory, or s3://BUCKET/PREFIX (boto3's credentials and AWS_ENDPOINT_URL).",
)
@click.option("--backup-every", help="Take a scheduled backup this often (e.g. 24h).")
@click.option(
    "--backup-keep",
    type=click.IntRange(1, 10_000),
    default=7,
    show_default=True,
    help="Scheduled backups kept; older ones are deleted.",
)
@click.option(
    "--scheduler-interval",
    type=click.FloatRange(0.0),
    default=5.0,
    show_default=True,
    help="Seconds between scheduler rounds (due rotations, expiry, key age); 0 turns it off.",
)
@click.option(
    "--head-timeout",
    type=click.FloatRange(0.1, 600),
    default=10.0,
    show_default=True,
    help="Seconds a client has to send a request's line and headers (and to start one).",
)
@click.option(
    "--body-timeout",
    type=click.FloatRange(0.1, 3600),
    default=30.0,
    show_default=True,
    help="Seconds a client has to send a request's body once its headers are in.",
)
@click.option(
    "--access-log/--no-access-log", default=False, help="Log each request line (never bodies)."
)
@click.option(
    "--seal",
    "seal_type",
    type=click.Choice(["kms", "file", "shamir"]),
    default="kms",
    show_default=True,
    help="How the root keys are unlocked at start (dev mode: kms).",
)
@click.option(
    "--seal-provider",
    default="",
    metavar="URI",
    help="kms seal: the key provider that holds the root key (default: the local KMS key file, "
    "--key-file). Schemes: docs/kms.md.",
)
@click.option(
    "--seal-key-file",
    type=click.Path(path_type=Path),
    help="The file seal's unseal key; keep it apart from the store.",
)
@click.option(
    "--key-file",
    type=click.Path(path_type=Path),
    help="kms seal: the local KMS key file (default: DATA_DIR/kms.key); keep it apart from "
    "the store in production.",
)
@click.option(
    "--audit-file",
    type=click.Path(path_type=Path),
    help="Write the audit log here (dev default: DATA_DIR/audit.log). A production server "
    "needs this or --no-audit.",
)
@click.option(
    "--no-audit",
    is_flag=True,
    help="Start without an audit file: only sinks enabled through the API audit (if none, "
    "nothing is audited; a warning says so).",
)
@click.option("--tls-cert", type=click.Path(path_type=Path, exists=True), help="PEM certificate.")
@click.option("--tls-key", type=click.Path(path_type=Path, exists=True), help="PEM private key.")
@click.option(
    "--insecure-no-tls",
    is_flag=True,
    help="Allow plain HTTP on a non-loopback address (only behind a TLS-terminating proxy).",
)
def server(
    dev: bool,
    data_dir: Path | None,
    host: str,
    port: int,
    root_token: str | None,
    trusted_proxies: tuple[str, ...],
    node_name: str,
    egress_allow: tuple[str, ...],
    key_providers: tuple[str, ...],
    aws_access_key: str | None,
    aws_account_id: str,
    store_url: str | None,
    rotate_after: int,
    rotate_keys_every: str | None,
    backup_dir: str | None,
    backup_every: str | None,
    backup_keep: int,
    scheduler_interval: float,
    head_timeout: float,
    body_timeout: float,
    access_log: bool,
    seal_type: str,
    seal_key_file: Path | None,
    seal_provider: str,
    key_file: Path | None,
    audit_file: Path | None,
    no_audit: bool,
    tls_cert: Path | None,
    tls_key: Path | None,
    insecure_no_tls: bool,
) -> None:
    """Start the strongroom server.

    \b
    Examples:
      strongroom server --dev
      strongroom server --dev --data-dir ./data --port 8300 --root-token dev-only-token
      strongroom server --data-dir /var/lib/strongroom --seal shamir \\
          --host 0.0.0.0 --tls-cert cert.pem --tls-key key.pem \\
          --audit-file /var/log/strongroom/audit.log
      strongroom server --data-dir /var/lib/strongroom --host 10.0.0.5 \\
          --insecure-no-tls --trusted-proxy 10.0.0.2/32 --audit-file audit.log
    """
    try:
        import uvicorn

        from strongroom.server.app import create_app
    except ImportError as exc:  # which module: an extra that misses one is our bug to hear of
        missing = f" (no module named {exc.name!r})" if exc.name else ""
        click.echo(f"Error: the server needs: pip install 'strongroom[server]'{missing}", err=True)
        sys.exit(1)
    if (tls_cert is None) != (tls_key is None):
        click.echo("Error: pass both --tls-cert and --tls-key.", err=True)
        sys.exit(2)
    if root_token and not dev:
        click.echo(
            "Error: --root-token (STRONGROOM_DEV_ROOT_TOKEN) is for dev mode only; a production "
            "server's first root token comes from: strongroom operator init",
            err=True,
        )
        sys.exit(2)
    if seal_type == "file" and not dev and seal_key_file is None:
        click.echo(
            "Error: --seal file needs --seal-key-file PATH, the unseal key's file (kept apart "
            "from the data directory; it is created at operator init)",
            err=True,
        )
        sys.exit(2)
    if not dev and audit_file is None and not no_audit:
        click.echo(
            "Error: a production server needs --audit-file PATH (audit fails closed: no audit, "
            "no answer), or --no-audit to rely on sinks enabled through the API",
            err=True,
        )
        sys.exit(2)
    tls = tls_cert is not None
    if not _is_loopback(host) and not tls and not insecure_no_tls:
        click.echo(
            "Error: refusing to listen on a non-loopback address without TLS. "
            "Pass --tls-cert and --tls-key, or --insecure-no-tls behind a TLS proxy.",
            err=True,
        )
        sys.exit(2)
    aws_dev_key = None
    if aws_access_key is not None:
        key_id, sep, secret = aws_access_key.partition(":")
        if not dev or not sep or not key_id or not secret:
            click.echo(
                "Error: --aws-access-key ID:SECRET is for dev mode (--dev); a production "
                "server issues keys: strongroom aws-credentials create --policy NAME",
                err=True,
            )
            sys.exit(2)
        aws_dev_key = (key_id, secret)
    if not (len(aws_account_id) == 12 and aws_account_id.isascii() and aws_account_id.isdigit()):
        click.echo("Error: --aws-account-id is 12 digits", err=True)
        sys.exit(2)
    named: list[tuple[str, str]] = []
    for entry in key_providers:
        name, sep, uri = entry.partition("=")
        if not sep or not name or not uri or any(name == known for known, _ in named):
            click.echo(
                f"Error: --key-provider takes NAME=URI, each name once, not {entry!r}", err=True
            )
            sys.exit(2)
        named.append((name, uri))
    every = _duration_option(backup_every, "--backup-every")
    if (every > 0) != (backup_dir is not None) or 0 < every < 60:
        click.echo(
            "Error: scheduled backups need both --backup-dir and --backup-every (at least 60 s)",
            err=True,
        )
        sys.exit(2)
    resolved_dir = data_dir or default_data_dir()
    settings = ServerSettings(
        data_dir=resolved_dir,
        host=host,
        port=port,
        dev=dev,
        root_token=root_token,
        trusted_proxies=trusted_proxies,
        egress_allow=egress_allow,
        key_providers=tuple(named),
        aws_dev_key=aws_dev_key,
        aws_account_id=aws_account_id,
        node_name=node_name,
        store_url=store_url or store_url_from_env(),
        rotate_after_encryptions=rotate_after,
        rotate_keys_every=_duration_option(rotate_keys_every, "--rotate-keys-every"),
        scheduler_interval=scheduler_interval,
        backup_dir=backup_dir
        if backup_dir is None or backup_dir.startswith("s3://")
        else Path(backup_dir),
        backup_every=every,
        backup_keep=backup_keep,
        access_log=access_log,
        seal=seal_type,
        seal_key_file=seal_key_file,
        seal_provider=seal_provider,
        key_file=key_file,
        audit_file=audit_file or (resolved_dir / "audit.log" if dev else None),
        tls_cert=tls_cert,
        tls_key=tls_key,
        exclusive_store=True,  # one server per data directory (hold_data_dir, below)
    )
    port_free(host, port)
    hold_data_dir(resolved_dir)
    app = started(lambda: create_app(settings))
    node = app.node
    addr = f"{'https' if tls else 'http'}://{_url_host(host)}:{port}"
    _banner(_banner_lines(node, settings, addr, dev))
    # A console that cannot be written (a closed pipe, a full disk) never stops the server:
    # log records that cannot be written are dropped, not raised.
    logging.raiseExceptions = False
    from strongroom.server.heap import settle_heap
    from strongroom.server.protocol import bounded_protocol

    settle_heap()  # start-up's objects out of the collector's way (server/heap.py)
    uvicorn.run(
        app,
        host=host,
        port=port,
        http=bounded_protocol(head_timeout, body_timeout),  # bounds: server/protocol.py
        timeout_keep_alive=5,
        limit_concurrency=MAX_CONNECTIONS,
        access_log=access_log,
        server_header=False,
        proxy_headers=False,  # the client address is the socket's (server/proxies.py)
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        # TLS 1.2 with forward-secret AEAD suites only (no CBC); TLS 1.3's are all AEAD.
        ssl_ciphers=TLS12_CIPHERS,
        log_config=_log_config(access_log),
    )
    node.close()
