"""``strongroom run``: start a program with secrets in its environment (or in in-memory files),
like ``op run`` and ``doppler run``. Nothing is written to disk; the exit code passes through."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from typing import Any

import click

from strongroom.cli.output import CliContext, pass_cli, split_secret_path, translate_errors
from strongroom.config import child_environment

__all__ = ["dangerous", "render_template", "run"]

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLACEHOLDER = re.compile(r"\{\{\s*([^}#\s]+)#([^}\s]+)\s*\}\}")
_ANY_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
# Variables that change how the child, its loader or its interpreter runs: anyone who may write
# a secret under the prefix could otherwise run code as the user who runs `strongroom run`.
_DANGEROUS = frozenset(
    {
        "PATH",
        "IFS",
        "ENV",
        "BASH_ENV",
        "SHELLOPTS",
        "BASHOPTS",
        "PS4",
        "PROMPT_COMMAND",
        "CDPATH",
        "GLOBIGNORE",
        "HOME",
        "TMPDIR",
        "PYTHONPATH",
        "PYTHONHOME",
        "PYTHONSTARTUP",
        "PYTHONINSPECT",
        "PYTHONUSERBASE",
        "PERL5LIB",
        "PERL5OPT",
        "PERLLIB",
        "RUBYLIB",
        "RUBYOPT",
        "NODE_OPTIONS",
        "NODE_PATH",
        "JAVA_TOOL_OPTIONS",
        "_JAVA_OPTIONS",
        "JDK_JAVA_OPTIONS",
        "CLASSPATH",
        "GCONV_PATH",
        "HOSTALIASES",
        "LOCALDOMAIN",
        "RES_OPTIONS",
        "NLSPATH",
        "GIT_SSH",
        "GIT_SSH_COMMAND",
        "GIT_EXEC_PATH",
        "EDITOR",
        "VISUAL",
        "PAGER",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "no_proxy",
        "STRONGROOM_ADDR",
        "STRONGROOM_TOKEN",
        "STRONGROOM_TOKEN_FILE",
        "STRONGROOM_CACERT",
    }
)
_DANGEROUS_PREFIXES = ("LD_", "DYLD_", "BASH_FUNC_", "MALLOC_", "GLIBC_")
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def dangerous(name: str) -> bool:
    """Whether a variable changes how programs run (loader, shell, interpreter, proxy)."""
    return name in _DANGEROUS or name.startswith(_DANGEROUS_PREFIXES)


def _check_name(name: str, where: str, allowed: frozenset[str], parent: dict[str, str]) -> None:
    if dangerous(name) and name not in allowed:
        raise click.UsageError(
            f"{where} would set {name}, which changes how programs run; "
            f"pass --allow-env {name} if that is intended"
        )
    if name in parent and name not in allowed:
        raise click.UsageError(
            f"{where} would replace {name}, which this environment already sets; "
            f"pass --allow-env {name} to let the secret replace it"
        )


def _add(
    env: dict[str, str],
    origin: dict[str, str],
    data: dict[str, Any],
    where: str,
    check: Any,
) -> None:
    for key, value in data.items():
        if not _ENV_NAME.fullmatch(key):
            raise click.UsageError(
                f"{where} has the key {key!r}, which is not a valid environment variable name"
            )
        check(key, where)
        if key in env and origin[key] != where:
            raise click.UsageError(f"{key} is set by both {origin[key]} and {where}; rename one")
        env[key], origin[key] = _text(value), where


def render_template(text: str, read: Any) -> str:
    """Replace each ``{{ namespace/path#key }}`` with that key's value; any other ``{{ … }}``
    is an error, never left in place."""
    for found in _ANY_PLACEHOLDER.finditer(text):
        if not _PLACEHOLDER.fullmatch(found.group(0)):
            raise click.UsageError(
                f"template placeholder {found.group(0)!r} is not {{{{ namespace/path#key }}}}"
            )

    def value_of(match: re.Match[str]) -> str:
        namespace, path = split_secret_path(match.group(1))
        data = read(namespace, path)
        if match.group(2) not in data:
            raise click.UsageError(f"{match.group(1)} has no key {match.group(2)!r}")
        return _text(data[match.group(2)])

    return _PLACEHOLDER.sub(value_of, text)


def _memory_file(name: str, content: str) -> int:
    """An anonymous in-memory file (never on disk) the child inherits as /dev/fd/N."""
    fd = os.memfd_create(name, 0)
    os.write(fd, content.encode("utf-8"))
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


@click.command(context_settings={"ignore_unknown_options": True})
@click.option("--env", "paths", multiple=True, help="NAMESPACE/PATH whose keys become variables.")
@click.option("--prefix", "prefixes", multiple=True, help="Every secret under NAMESPACE/PREFIX.")
@click.option(
    "--template",
    "templates",
    multiple=True,
    help="TEMPLATE=VAR: render TEMPLATE ({{ ns/path#key }}) into memory; VAR names /dev/fd/N.",
)
@click.option(
    "--pass-token",
    is_flag=True,
    help="Also give the program STRONGROOM_TOKEN (and the token file `strongroom login` saved).",
)
@click.option(
    "--allow-env",
    "allowed",
    multiple=True,
    metavar="NAME",
    help="Let a secret set NAME although it changes how programs run (PATH, LD_*, …) or "
    "replaces a variable this environment already sets (repeatable).",
)
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@pass_cli
def run(
    ctx: CliContext,
    paths: tuple[str, ...],
    prefixes: tuple[str, ...],
    templates: tuple[str, ...],
    pass_token: bool,
    allowed: tuple[str, ...],
    command: tuple[str, ...],
) -> None:
    """Run COMMAND with secrets as environment variables; exits with COMMAND's exit code.

    A secret may not set a variable that changes how programs run (PATH, LD_PRELOAD,
    BASH_ENV, PYTHONPATH, proxies, …) or one this environment already sets, unless
    --allow-env names it. The program gets neither your token nor your saved token file
    unless --pass-token is given.

    \b
    Examples:
      strongroom run --env secret/app/prod -- ./server --port 8080
      strongroom run --prefix secret/app/ --env secret/shared/smtp -- env
      strongroom run --template config.tmpl=APP_CONFIG -- sh -c 'cat "$APP_CONFIG"'
    """
    env: dict[str, str] = {}
    origin: dict[str, str] = {}
    child_env = child_environment(keep_token=pass_token)
    permitted = frozenset(allowed)

    def check(name: str, where: str) -> None:
        _check_name(name, where, permitted, child_env)

    fds: list[int] = []
    files: dict[str, str] = {}
    with translate_errors(), ctx.client() as client:
        cache: dict[tuple[str, str], dict[str, Any]] = {}

        def read(namespace: str, path: str) -> dict[str, Any]:
            if (namespace, path) not in cache:
                cache[(namespace, path)] = dict(client.get(namespace, path).data)
            return cache[(namespace, path)]

        for full in prefixes:
            namespace, prefix = split_secret_path(full.rstrip("/") + "/")
            for path in client.list_recursive(namespace, prefix.rstrip("/")):
                _add(env, origin, read(namespace, path), f"{namespace}/{path}", check)
        for full in paths:
            namespace, path = split_secret_path(full)
            _add(env, origin, read(namespace, path), full, check)
        for spec in templates:
            source, sep, variable = spec.partition("=")
            if not sep or not _ENV_NAME.fullmatch(variable):
                raise click.UsageError("--template is TEMPLATE_FILE=VARIABLE_NAME")
            check(variable, f"--template {spec}")
            with open(source, encoding="utf-8") as handle:
                files[variable] = render_template(handle.read(), read)
    for variable, content in files.items():
        fd = _memory_file(variable, content)
        fds.append(fd)
        env[variable] = f"/dev/fd/{fd}"
    child_env.update(env)
    try:
        child = subprocess.Popen(list(command), env=child_env, pass_fds=fds)
    except OSError as exc:
        click.echo(f"Error: cannot start {command[0]!r}: {exc.strerror}", err=True)
        sys.exit(127 if isinstance(exc, FileNotFoundError) else 126)
    for fd in fds:
        os.close(fd)
    for signum in _FORWARDED:
        signal.signal(signum, lambda sig, _frame: child.send_signal(sig))
    code = child.wait()
    sys.exit(128 - code if code < 0 else code)
