"""The CLI's composition root."""

from __future__ import annotations

import sys

import click

from strongroom import __version__
from strongroom.cli.audit import audit
from strongroom.cli.auth import login, token
from strongroom.cli.aws import aws_credentials, aws_lambda
from strongroom.cli.backup import backup_command
from strongroom.cli.kms_plugin import kms_plugin
from strongroom.cli.kv import kv
from strongroom.cli.machine import approle, userpass
from strongroom.cli.migrate import migrate
from strongroom.cli.namespace import keys, namespace
from strongroom.cli.operator import operator
from strongroom.cli.output import CliContext, fail
from strongroom.cli.policy import policy
from strongroom.cli.restore import restore_command
from strongroom.cli.rotate import gen, rotate
from strongroom.cli.run import run
from strongroom.cli.server import server

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="strongroom")
@click.option("--addr", envvar="STRONGROOM_ADDR", help="Server address [env: STRONGROOM_ADDR].")
@click.option("--token", envvar="STRONGROOM_TOKEN", help="Token [env: STRONGROOM_TOKEN].")
@click.option(
    "--ca-cert",
    envvar="STRONGROOM_CACERT",
    help="CA bundle to verify the server [env: STRONGROOM_CACERT].",
)
@click.option(
    "--format",
    "-f",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Output format; json is for scripts.",
)
@click.pass_context
def cli(
    ctx: click.Context, addr: str | None, token: str | None, ca_cert: str | None, output_format: str
) -> None:
    """strongroom: a self-hosted secrets manager.

    \b
    Example:
      strongroom server --dev          # in one shell
      strongroom kv put secret/app/db password=s3cret
      strongroom kv get secret/app/db

    Exit codes: 0 ok, 1 error, 2 bad input, 3 not authenticated or permission denied,
    4 not found, 5 conflict, 6 decryption failed, 7 server, key provider or audit
    unavailable (or sealed), 8 rate limited or locked out, 9 audit log tampered,
    10 a rotation failed.
    `strongroom run` exits with its program's code.
    """
    ctx.obj = CliContext(addr, token, ca_cert, output_format)


cli.add_command(kv)
cli.add_command(rotate)
cli.add_command(gen)
cli.add_command(namespace)
cli.add_command(keys)
cli.add_command(server)
cli.add_command(login)
cli.add_command(token)
cli.add_command(policy)
cli.add_command(approle)
cli.add_command(userpass)
cli.add_command(audit)
operator.add_command(backup_command)
operator.add_command(restore_command)
cli.add_command(operator)
cli.add_command(run)
cli.add_command(migrate)
cli.add_command(aws_credentials)
cli.add_command(aws_lambda)
cli.add_command(kms_plugin)


def _json_in(argv: list[str]) -> bool:
    """Whether the command line asks for JSON output (read from argv: a usage error can come
    before any option is parsed)."""
    for i, arg in enumerate(argv):
        if arg in ("--format=json", "-fjson"):
            return True
        if arg in ("--format", "-f") and argv[i + 1 : i + 2] == ["json"]:
            return True
    return False


def main() -> None:
    try:
        cli.main(prog_name="strongroom", standalone_mode=False)
    except click.ClickException as exc:  # usage errors too: JSON under --format json
        if _json_in(sys.argv[1:]):
            fail("bad_request", exc.format_message(), exc.exit_code, as_json=True)
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("Aborted!", err=True)
        sys.exit(1)
