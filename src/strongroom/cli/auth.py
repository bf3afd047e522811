"""``strongroom login`` and ``strongroom token …``."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import IO

import click

from strongroom.cli.output import (
    CliContext,
    emit,
    emit_table,
    format_option,
    pass_cli,
    translate_errors,
)
from strongroom.config import token_file
from strongroom.types import IssuedToken

__all__ = [
    "login",
    "save_token",
    "token",
    "token_capabilities",
    "token_create",
    "token_lookup",
    "token_renew",
    "token_revoke",
]


def save_token(value: str) -> Path:
    """Write the token to the helper file, 0600, replacing it atomically."""
    path = token_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # A fresh, unpredictable name made with O_EXCL|O_NOFOLLOW: a symlink planted at a known
    # temporary name cannot receive the token. os.replace swaps the final name itself, not a
    # link's target.
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    fd = os.open(tmp, flags, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(value + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _issued(ctx: CliContext, issued: IssuedToken, show_token: bool) -> None:
    doc = {
        "token": issued.token,
        "accessor": issued.accessor,
        "policies": list(issued.policies),
        "lease_duration": issued.lease_duration,
        "renewable": issued.renewable,
    }
    lines = [
        f"token:          {issued.token if show_token else '(saved)'}",
        f"accessor:       {issued.accessor}",
        f"policies:       {', '.join(issued.policies)}",
        f"lease duration: {issued.lease_duration} s",
    ]
    emit(
        ctx, doc if show_token else {k: v for k, v in doc.items() if k != "token"}, "\n".join(lines)
    )


@click.command()
@click.option(
    "--method",
    type=click.Choice(["token", "approle", "userpass"]),
    default="token",
    show_default=True,
    help="How to authenticate.",
)
@click.option("--username", help="userpass: the user name.")
@click.option("--role-id", help="approle: the role_id.")
@click.option(
    "--secret-id-file",
    type=click.File("r"),
    help="approle: read the secret_id from this file ('-' for stdin).",
)
@click.option("--no-store", is_flag=True, help="Print the token instead of saving it.")
@format_option
@pass_cli
def login(
    ctx: CliContext,
    method: str,
    username: str | None,
    role_id: str | None,
    secret_id_file: IO[str] | None,
    no_store: bool,
) -> None:
    """Log in and keep the token in a 0600 file that later commands use.

    Passwords, secret ids and tokens are read from a prompt or a file, never from arguments
    (which other users can see in the process list).

    \b
    Examples:
      strongroom login                          # paste a token
      strongroom login --method userpass --username alice
      strongroom login --method approle --role-id "$ROLE_ID" --secret-id-file secret-id.txt
    """
    with translate_errors(), ctx.client() as client:
        if method == "token":
            value = click.prompt("Token", hide_input=True).strip()
            client.set_token(value)
            info = client.lookup_self()
            issued = IssuedToken(
                value, info.accessor, tuple(info.policies), info.ttl, info.renewable
            )
        elif method == "userpass":
            if not username:
                raise click.UsageError("--method userpass needs --username")
            password = click.prompt("Password", hide_input=True)
            issued = client.login_userpass(username, password)
        else:
            if not role_id or secret_id_file is None:
                raise click.UsageError("--method approle needs --role-id and --secret-id-file")
            issued = client.login_approle(role_id, secret_id_file.read().strip())
    if not no_store:
        path = save_token(issued.token)
        click.echo(f"Success: the token is saved in {path}", err=True)
    _issued(ctx, issued, show_token=no_store)


@click.group()
def token() -> None:
    """Create, inspect, renew and revoke tokens."""


@token.command(name="create")
@click.option("--policy", "policies", multiple=True, help="A policy to attach (repeatable).")
@click.option("--ttl", help="Time to live, such as 1h or 3600.")
@click.option("--explicit-max-ttl", help="Hard limit that renewals cannot pass.")
@click.option("--period", help="Make a periodic token renewable forever by this period (sudo).")
@click.option("--use-limit", type=int, default=0, help="Number of uses (0: unlimited).")
@click.option("--display-name", help="A name shown in lookups and the audit log.")
@click.option("--orphan", is_flag=True, help="No parent: survives the parent's revocation (sudo).")
@click.option("--role", help="Create through a token role.")
@click.option("--no-default-policy", is_flag=True, help="Do not attach the default policy.")
@format_option
@pass_cli
def token_create(
    ctx: CliContext,
    policies: tuple[str, ...],
    ttl: str | None,
    explicit_max_ttl: str | None,
    period: str | None,
    use_limit: int,
    display_name: str | None,
    orphan: bool,
    role: str | None,
    no_default_policy: bool,
) -> None:
    """Create a child of the current token.

    \b
    Examples:
      strongroom token create --policy app-read --ttl 1h
      strongroom token create --policy ci --use-limit 3 --format json
    """
    with translate_errors(), ctx.client() as client:
        issued = client.create_token(
            list(policies) if policies else None,
            ttl=ttl,
            explicit_max_ttl=explicit_max_ttl,
            period=period,
            num_uses=use_limit,
            display_name=display_name,
            no_parent=orphan,
            no_default_policy=no_default_policy,
            role=role,
        )
    _issued(ctx, issued, show_token=True)


def _lookup_doc(info: dict[str, object]) -> str:
    return "\n".join(f"{k:17} {v}" for k, v in info.items())


@token.command(name="lookup")
@click.option("--accessor", help="Look up by accessor instead of the current token.")
@format_option
@pass_cli
def token_lookup(ctx: CliContext, accessor: str | None) -> None:
    """Show a token's policies, TTL and metadata (the current token by default).

    \b
    Examples:
      strongroom token lookup
      strongroom token lookup --accessor sra.0123456789abcdef01234567
    """
    with translate_errors(), ctx.client() as client:
        info = client.lookup_token(accessor=accessor) if accessor else client.lookup_self()
    emit(ctx, info.to_json(), _lookup_doc(info.to_json()))


@token.command(name="renew")
@click.option("--accessor", help="Renew by accessor instead of the current token.")
@click.option("--increment", help="Requested TTL from now, such as 1h.")
@format_option
@pass_cli
def token_renew(ctx: CliContext, accessor: str | None, increment: str | None) -> None:
    """Extend a token's TTL (never past its max TTL).

    \b
    Examples:
      strongroom token renew --increment 1h
    """
    with translate_errors(), ctx.client() as client:
        if accessor:
            info = client.renew_token(accessor=accessor, increment=increment)
        else:
            info = client.renew_self(increment)
    emit(ctx, info.to_json(), _lookup_doc(info.to_json()))


@token.command(name="revoke")
@click.option("--accessor", help="Revoke by accessor.")
@click.option("--self", "revoke_self", is_flag=True, help="Revoke the current token.")
@click.option("--orphan-children", is_flag=True, help="Keep the children as orphans (sudo).")
@click.option("--token-stdin", is_flag=True, help="Read the token to revoke from stdin.")
@format_option
@pass_cli
def token_revoke(
    ctx: CliContext,
    accessor: str | None,
    revoke_self: bool,
    orphan_children: bool,
    token_stdin: bool,
) -> None:
    """Revoke a token and all its descendants.

    \b
    Examples:
      strongroom token revoke --self
      strongroom token revoke --accessor sra.0123456789abcdef01234567
      echo "$OLD_TOKEN" | strongroom token revoke --token-stdin
    """
    with translate_errors(), ctx.client() as client:
        if revoke_self:
            client.revoke_self()
        elif accessor or token_stdin:
            value = sys.stdin.read().strip() if token_stdin else None
            client.revoke_token(value, accessor=accessor, orphan_children=orphan_children)
        else:
            raise click.UsageError("name the token: --self, --accessor or --token-stdin")
    emit(ctx, {"revoked": True}, "revoked")


@token.command(name="capabilities")
@click.argument("paths", nargs=-1, required=True)
@format_option
@pass_cli
def token_capabilities(ctx: CliContext, paths: tuple[str, ...]) -> None:
    """What the current token may do on each path.

    \b
    Example:
      strongroom token capabilities secret/app/db sys/policies/acl/admin
    """
    with translate_errors(), ctx.client() as client:
        caps = client.capabilities(list(paths))
    emit_table(ctx, caps, ["path", "capabilities"], [(p, ", ".join(c)) for p, c in caps.items()])
