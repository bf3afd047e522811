"""Rendering for ``--format table|json``, and the shared CLI context."""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from strongroom.config import client_settings_from_env
from strongroom.errors import StrongroomError

if TYPE_CHECKING:
    from strongroom.client import Client

__all__ = [
    "CliContext",
    "emit",
    "emit_table",
    "fail",
    "format_option",
    "pass_cli",
    "split_secret_path",
    "translate_errors",
]


@dataclass
class CliContext:
    addr: str | None
    token: str | None
    ca_cert: str | None
    format: str

    def client(self) -> Client:
        from strongroom.client import Client

        settings = client_settings_from_env(self.addr, self.token, self.ca_cert)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            client = Client(settings.addr, settings.token, verify=settings.ca_cert or True)
        for warning in caught:
            click.echo(f"Warning: {warning.message}", err=True)
        return client


pass_cli = click.make_pass_decorator(CliContext)


def split_secret_path(full: str) -> tuple[str, str]:
    """``secret/app/db`` → namespace ``secret``, path ``app/db``."""
    namespace, sep, path = full.partition("/")
    if not sep or not namespace:
        raise click.UsageError(f"{full!r} is not NAMESPACE/PATH, for example secret/app/db")
    return namespace, path


def emit(ctx: CliContext, doc: Any, text: str | None = None) -> None:
    if ctx.format == "json":
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    elif text is not None:
        click.echo(text)
    else:
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))


def emit_table(
    ctx: CliContext, doc: Any, headers: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    if ctx.format == "json":
        emit(ctx, doc)
        return
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    click.echo("  ".join("-" * w for w in widths))
    for row in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def fail(code: str, message: str, exit_code: int, *, as_json: bool) -> None:
    """Print an error on stderr (``Error: …``, or ``{"error": {"code", "message"}}`` under
    ``--format json``) and exit with ``exit_code``."""
    if as_json:
        click.echo(json.dumps({"error": {"code": code, "message": message}}), err=True)
    else:
        click.echo(f"Error: {message}", err=True)
    sys.exit(exit_code)


def _json_wanted() -> bool:
    current = click.get_current_context(silent=True)
    cli_ctx = current.find_object(CliContext) if current is not None else None
    return cli_ctx is not None and cli_ctx.format == "json"


@contextmanager
def translate_errors() -> Iterator[None]:
    """Print a strongroom error and exit with its meaningful exit code."""
    try:
        yield
    except StrongroomError as exc:
        fail(exc.code, exc.message, exc.exit_code, as_json=_json_wanted())


def _set_format(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        cli_ctx = ctx.find_object(CliContext)
        if cli_ctx is not None:
            cli_ctx.format = value


format_option = click.option(
    "--format",
    "-f",
    type=click.Choice(["table", "json"]),
    default=None,
    expose_value=False,
    is_eager=True,
    callback=_set_format,
    help="Output format (table or json); overrides the global --format.",
)
