"""``strongroom server --config FILE``: the server's flags in a TOML file, one key per flag under
the flag's name (``data-dir = "/var/lib/strongroom"``, ``key-provider = ["hsm=pkcs11:…"]``,
``dev = true``). A flag given on the command line wins over the file; a key that names no flag is
refused, so a misspelt setting is never silently ignored."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = ["config_option", "flags_of"]

_F = TypeVar("_F", bound=Callable[..., Any])


def flags_of(command: click.Command) -> dict[str, tuple[str, bool]]:
    """Each long flag's name -> (its parameter's name, whether it is the "off" side of an on/off
    flag: ``no-access-log`` of ``--access-log/--no-access-log``)."""
    flags: dict[str, tuple[str, bool]] = {}
    for param in command.params:
        if isinstance(param, click.Option) and param.name and param.name != "config":
            for opt in param.opts:
                if opt.startswith("--"):
                    flags[opt[2:]] = (param.name, False)
            for opt in param.secondary_opts:
                if opt.startswith("--"):
                    flags[opt[2:]] = (param.name, True)
    return flags


def _load(ctx: click.Context, _param: click.Parameter, path: Path | None) -> None:
    if path is None:
        return
    try:
        doc = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise click.BadParameter(f"cannot read {path} as TOML: {exc}") from None
    flags = flags_of(ctx.command)
    settings: dict[str, Any] = {}
    for key, value in doc.items():
        found = flags.get(key) or flags.get(key.replace("_", "-"))
        if found is None:
            known = ", ".join(sorted(flags))
            raise click.BadParameter(f"{path}: {key!r} is not a server flag; use one of: {known}")
        name, off_side = found
        if off_side and isinstance(value, bool):
            value = not value  # no-access-log = true is access-log = false
        settings[name] = value
    ctx.default_map = {**(ctx.default_map or {}), **settings}


def config_option(command: _F) -> _F:
    return click.option(
        "--config",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        is_eager=True,
        expose_value=False,
        callback=_load,
        help="A TOML file of these flags, one key per flag (port = 8200, "
        'data-dir = "/var/lib/strongroom", key-provider = ["hsm=…"]); flags on the command '
        "line win.",
    )(command)
