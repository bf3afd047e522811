"""``strongroom approle …`` (machine identities) and ``strongroom userpass …`` (people)."""

from __future__ import annotations

import sys
from typing import Any

import click

from strongroom.cli.output import (
    CliContext,
    emit,
    emit_table,
    format_option,
    pass_cli,
    translate_errors,
)

__all__ = [
    "approle",
    "approle_delete",
    "approle_list",
    "approle_read",
    "approle_role_id",
    "approle_secret_id",
    "approle_write",
    "userpass",
    "userpass_delete",
    "userpass_list",
    "userpass_write",
]


@click.group()
def approle() -> None:
    """AppRole: roles for machines, which log in with role_id + secret_id."""


@approle.command(name="write")
@click.argument("name")
@click.option("--policy", "policies", multiple=True, help="Policy for its tokens (repeatable).")
@click.option("--token-ttl", help="TTL of issued tokens, such as 1h.")
@click.option("--token-max-ttl", help="Max TTL of issued tokens.")
@click.option("--secret-id-ttl", help="How long a secret_id stays valid.")
@click.option("--secret-id-num-uses", type=int, help="Logins per secret_id (0: any).")
@click.option("--cidr", "cidrs", multiple=True, help="Only log in from this CIDR (repeatable).")
@format_option
@pass_cli
def approle_write(
    ctx: CliContext,
    name: str,
    policies: tuple[str, ...],
    token_ttl: str | None,
    token_max_ttl: str | None,
    secret_id_ttl: str | None,
    secret_id_num_uses: int | None,
    cidrs: tuple[str, ...],
) -> None:
    """Create or update a role: an update changes only the options given.

    \b
    Examples:
      strongroom approle write billing-worker --policy billing --token-ttl 1h --cidr 10.0.0.0/8
      strongroom approle write billing-worker --secret-id-num-uses 1
    """
    given: dict[str, Any] = {
        "token_policies": list(policies),
        "token_ttl": token_ttl,
        "token_max_ttl": token_max_ttl,
        "secret_id_ttl": secret_id_ttl,
        "secret_id_num_uses": secret_id_num_uses,
        "secret_id_bound_cidrs": list(cidrs),
    }
    settings = {name: value for name, value in given.items() if value not in (None, [])}
    with translate_errors(), ctx.client() as client:
        client.write_approle(name, **settings)
    emit(ctx, {"name": name, "written": True}, f"wrote role {name}")


@approle.command(name="read")
@click.argument("name")
@format_option
@pass_cli
def approle_read(ctx: CliContext, name: str) -> None:
    """Show a role's settings.

    \b
    Example:
      strongroom approle read billing-worker
    """
    with translate_errors(), ctx.client() as client:
        role = client.read_approle(name)
    emit(ctx, role, "\n".join(f"{k:22} {v}" for k, v in role.items()))


@approle.command(name="list")
@format_option
@pass_cli
def approle_list(ctx: CliContext) -> None:
    """List roles.

    \b
    Example:
      strongroom approle list
    """
    with translate_errors(), ctx.client() as client:
        names = client.list_approles()
    emit_table(ctx, {"keys": names}, ["role"], [(n,) for n in names])


@approle.command(name="delete")
@click.argument("name")
@format_option
@pass_cli
def approle_delete(ctx: CliContext, name: str) -> None:
    """Delete a role and all its secret ids.

    \b
    Example:
      strongroom approle delete billing-worker
    """
    with translate_errors(), ctx.client() as client:
        client.delete_approle(name)
    emit(ctx, {"name": name, "deleted": True}, f"deleted role {name}")


@approle.command(name="role-id")
@click.argument("name")
@format_option
@pass_cli
def approle_role_id(ctx: CliContext, name: str) -> None:
    """Print a role's role_id.

    \b
    Example:
      ROLE_ID=$(strongroom approle role-id billing-worker)
    """
    with translate_errors(), ctx.client() as client:
        role_id = client.approle_role_id(name)
    emit(ctx, {"role_id": role_id}, role_id)


@approle.command(name="secret-id")
@click.argument("name")
@click.option("--ttl", help="Validity of this secret_id.")
@click.option("--num-uses", type=int, default=0, help="Logins allowed (0: the role's default).")
@click.option("--destroy-accessor", help="Destroy the secret_id with this accessor instead.")
@format_option
@pass_cli
def approle_secret_id(
    ctx: CliContext, name: str, ttl: str | None, num_uses: int, destroy_accessor: str | None
) -> None:
    """Issue a new secret_id for a role (printed once), or destroy one by accessor.

    \b
    Examples:
      strongroom approle secret-id billing-worker --ttl 24h --format json
      strongroom approle secret-id billing-worker --destroy-accessor 5f0c…
    """
    with translate_errors(), ctx.client() as client:
        if destroy_accessor:
            client.destroy_approle_secret_id(name, accessor=destroy_accessor)
            emit(ctx, {"destroyed": True}, "destroyed")
            return
        issued = client.approle_secret_id(name, ttl=ttl, num_uses=num_uses)
    lines = (
        f"secret_id:          {issued['secret_id']}\n"
        f"secret_id_accessor: {issued['secret_id_accessor']}"
    )
    emit(ctx, issued, lines)


@click.group()
def userpass() -> None:
    """Userpass: people log in with a name and a password (Argon2id)."""


@userpass.command(name="write")
@click.argument("name")
@click.option("--policy", "policies", multiple=True, help="Policy for the user's tokens.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@format_option
@pass_cli
def userpass_write(
    ctx: CliContext, name: str, policies: tuple[str, ...], password_stdin: bool
) -> None:
    """Create or update a user; the password comes from a prompt or stdin.

    \b
    Example:
      strongroom userpass write alice --policy app-read
    """
    if password_stdin:
        password = sys.stdin.read().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with translate_errors(), ctx.client() as client:
        client.write_user(name, password, policies=list(policies))
    emit(ctx, {"name": name, "written": True}, f"wrote user {name}")


@userpass.command(name="delete")
@click.argument("name")
@format_option
@pass_cli
def userpass_delete(ctx: CliContext, name: str) -> None:
    """Delete a user.

    \b
    Example:
      strongroom userpass delete alice
    """
    with translate_errors(), ctx.client() as client:
        client.delete_user(name)
    emit(ctx, {"name": name, "deleted": True}, f"deleted user {name}")


@userpass.command(name="list")
@format_option
@pass_cli
def userpass_list(ctx: CliContext) -> None:
    """List users.

    \b
    Example:
      strongroom userpass list
    """
    with translate_errors(), ctx.client() as client:
        names = client.list_users()
    emit_table(ctx, {"keys": names}, ["user"], [(n,) for n in names])
