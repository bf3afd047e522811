"""``strongroom policy …``."""

from __future__ import annotations

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
from strongroom.errors import StrongroomError
from strongroom.policy import format_policy, parse_policy

__all__ = ["policy", "policy_delete", "policy_fmt", "policy_list", "policy_read", "policy_write"]


@click.group()
def policy() -> None:
    """Write, read, list, delete and format ACL policies (Vault's HCL or JSON)."""


@policy.command(name="write")
@click.argument("name")
@click.argument("file", type=click.File("r"))
@format_option
@pass_cli
def policy_write(ctx: CliContext, name: str, file: IO[str]) -> None:
    """Write a policy from FILE ('-' for stdin); a Vault policy works as it is.

    \b
    Example:
      strongroom policy write app-read app-read.hcl
      echo 'path "secret/app/*" { capabilities = ["read"] }' | strongroom policy write app -
    """
    text = file.read()
    with translate_errors(), ctx.client() as client:
        client.write_policy(name, text)
    emit(ctx, {"name": name, "written": True}, f"wrote policy {name}")


@policy.command(name="read")
@click.argument("name")
@format_option
@pass_cli
def policy_read(ctx: CliContext, name: str) -> None:
    """Print a policy's text as it was written.

    \b
    Example:
      strongroom policy read app-read
    """
    with translate_errors(), ctx.client() as client:
        text = client.read_policy(name)
    emit(ctx, {"name": name, "policy": text}, text.rstrip("\n"))


@policy.command(name="list")
@format_option
@pass_cli
def policy_list(ctx: CliContext) -> None:
    """List policy names.

    \b
    Example:
      strongroom policy list
    """
    with translate_errors(), ctx.client() as client:
        names = client.list_policies()
    emit_table(ctx, {"keys": names}, ["name"], [(n,) for n in names])


@policy.command(name="delete")
@click.argument("name")
@format_option
@pass_cli
def policy_delete(ctx: CliContext, name: str) -> None:
    """Delete a policy; tokens that carry it lose its rules within a second.

    \b
    Example:
      strongroom policy delete app-read
    """
    with translate_errors(), ctx.client() as client:
        client.delete_policy(name)
    emit(ctx, {"name": name, "deleted": True}, f"deleted policy {name}")


@policy.command(name="fmt")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--check", is_flag=True, help="Only check; exit 2 if the file is not valid.")
def policy_fmt(file: str, check: bool) -> None:
    """Check a policy file offline and rewrite it in canonical HCL.

    \b
    Example:
      strongroom policy fmt app-read.hcl
    """
    with open(file, encoding="utf-8") as handle:
        text = handle.read()
    with translate_errors():
        try:
            parsed = parse_policy("fmt", text)
        except StrongroomError as exc:
            exc.message = exc.message.replace("policy 'fmt'", file)
            raise
    if check:
        click.echo(f"{file}: valid, {len(parsed.rules)} rules")
        return
    with open(file, "w", encoding="utf-8") as handle:
        handle.write(format_policy(parsed))
    click.echo(f"formatted {file}")
