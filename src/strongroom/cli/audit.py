"""``strongroom audit …``."""

from __future__ import annotations

import sys

import click

from strongroom.cli.output import (
    CliContext,
    emit,
    emit_table,
    format_option,
    pass_cli,
    translate_errors,
)

__all__ = ["audit", "audit_disable", "audit_enable", "audit_hash", "audit_list", "audit_verify"]


@click.group()
def audit() -> None:
    """Audit sinks: enable, list, verify the hash chain, hash a value to search for."""


@audit.command(name="enable")
@click.argument("name")
@click.option(
    "--type", "sink_type", type=click.Choice(["file", "store"]), default="file", show_default=True
)
@format_option
@pass_cli
def audit_enable(ctx: CliContext, name: str, sink_type: str) -> None:
    """Enable a sink. File sinks are written to the server's audit directory as NAME.log.

    \b
    Example:
      strongroom audit enable backup --type store
    """
    with translate_errors(), ctx.client() as client:
        client.enable_audit(name, sink_type)
    emit(ctx, {"name": name, "enabled": True}, f"enabled audit sink {name}")


@audit.command(name="disable")
@click.argument("name")
@format_option
@pass_cli
def audit_disable(ctx: CliContext, name: str) -> None:
    """Disable a sink (its entries stay where they are).

    \b
    Example:
      strongroom audit disable backup
    """
    with translate_errors(), ctx.client() as client:
        client.disable_audit(name)
    emit(ctx, {"name": name, "enabled": False}, f"disabled audit sink {name}")


@audit.command(name="list")
@format_option
@pass_cli
def audit_list(ctx: CliContext) -> None:
    """List sinks with their type, entries written and path.

    \b
    Example:
      strongroom audit list
    """
    with translate_errors(), ctx.client() as client:
        sinks = client.list_audit()
    rows = [(s.name, s.type, s.entries, s.path or "") for s in sinks]
    emit_table(
        ctx, {"sinks": [s.to_json() for s in sinks]}, ["name", "type", "entries", "path"], rows
    )


@audit.command(name="verify")
@click.argument("name")
@format_option
@pass_cli
def audit_verify(ctx: CliContext, name: str) -> None:
    """Check a sink's hash chain: exit 0 when intact, 9 when an entry was edited, deleted,
    inserted, reordered or cut off.

    \b
    Example:
      strongroom audit verify file
    """
    with translate_errors(), ctx.client() as client:
        result = client.verify_audit(name)
    if result.ok:
        emit(ctx, result.to_json(), f"ok: {result.entries} entries, chain intact")
        return
    emit(ctx, result.to_json(), f"TAMPERED at line {result.line}: {result.problem}")
    sys.exit(9)


@audit.command(name="hash")
@click.argument("name")
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the value from stdin.")
@click.argument("value", required=False)
@format_option
@pass_cli
def audit_hash(ctx: CliContext, name: str, from_stdin: bool, value: str | None) -> None:
    """The HMAC a sink writes for VALUE, to find a token or secret in the log.

    \b
    Example:
      echo -n "$TOKEN" | strongroom audit hash file --stdin
      grep "$(strongroom audit hash file some-value)" audit.log
    """
    if from_stdin:
        value = sys.stdin.read()
    if value is None:
        raise click.UsageError("give VALUE or --stdin")
    with translate_errors(), ctx.client() as client:
        digest = client.audit_hash(name, value)
    emit(ctx, {"hash": digest}, digest)
