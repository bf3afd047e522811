"""``strongroom rotate …`` and ``strongroom gen password``."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click

from strongroom.cli.output import (
    CliContext,
    emit,
    emit_table,
    format_option,
    pass_cli,
    split_secret_path,
    translate_errors,
)
from strongroom.errors import RotationFailed
from strongroom.password_generation import (
    DEFAULT_CLASSES,
    PasswordPolicy,
    generate_password,
)

__all__ = [
    "EXIT_ROTATION_FAILED",
    "cancel",
    "configure",
    "gen",
    "history",
    "now",
    "password",
    "remove",
    "rotate",
    "status",
]

EXIT_ROTATION_FAILED = RotationFailed.exit_code  # 10


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "never"
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _params(pairs: tuple[str, ...], params_json: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if params_json:
        loaded = json.loads(params_json)
        if not isinstance(loaded, dict):
            raise click.BadParameter("must be a JSON object", param_hint="--params-json")
        params.update(loaded)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--param")
        params[key] = value
    return params


@click.group()
def rotate() -> None:
    """Rotate secret values on a schedule: configure, run now, watch, cancel.

    A rotation has four steps (create the pending value, set it in the target system, test
    it, promote it to current). Readers get the current value throughout. See docs/rotation.md.
    """


@rotate.command(name="configure")
@click.argument("path")
@click.option("--rotator", required=True, help="random, postgres, webhook, or a plugin's name.")
@click.option("--interval", help="Rotate every … (30d, 12h, seconds).")
@click.option(
    "--cron", help='Or on a cron schedule, UTC ("0 3 * * MON", "*/30 * * * *", "@daily").'
)
@click.option("--param", "param_pairs", multiple=True, help="Rotator parameter KEY=VALUE.")
@click.option("--params-json", help="Rotator parameters as a JSON object (for lists, numbers).")
@click.option("--expire-after", help="The value expires this long after a rotation.")
@click.option("--notify-url", help="POST signed events here (success, failure, expiry).")
@click.option("--notify-secret", help="ns/path of the secret whose 'key' signs the events.")
@format_option
@pass_cli
def configure(
    ctx: CliContext,
    path: str,
    rotator: str,
    interval: str | None,
    cron: str | None,
    param_pairs: tuple[str, ...],
    params_json: str | None,
    expire_after: str | None,
    notify_url: str | None,
    notify_secret: str | None,
) -> None:
    """Rotate PATH with ROTATOR on a schedule.

    \b
    Examples:
      strongroom rotate configure secret/app/api-key --rotator random --interval 30d
      strongroom rotate configure secret/app/db --rotator postgres --interval 7d \\
          --params-json '{"strategy": "alternating", "usernames": ["app_a", "app_b"],
                          "admin": "secret/pg-admin", "host": "db.internal", "dbname": "app"}'
    """
    namespace, sub = split_secret_path(path)
    try:
        params = _params(param_pairs, params_json)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc.msg}", param_hint="--params-json") from None
    with translate_errors(), ctx.client() as client:
        described = client.configure_rotation(
            namespace,
            sub,
            rotator,
            params=params,
            interval=interval,
            cron=cron,
            expire_after=expire_after,
            notify_url=notify_url,
            notify_secret=notify_secret,
        )
    emit(ctx, described, f"{path} rotates with {rotator}; next {_when(described['next_due'])}")


@rotate.command(name="now")
@click.argument("path")
@format_option
@pass_cli
def now(ctx: CliContext, path: str) -> None:
    """Rotate PATH now (or resume a run that stopped). Exits 10 when the run failed.

    \b
    Example:
      strongroom rotate now secret/app/db
    """
    namespace, sub = split_secret_path(path)
    with translate_errors(), ctx.client() as client:
        result = client.rotate_now(namespace, sub)
    outcome = result.result
    text = f"{path}: {outcome}"
    if outcome == "success":
        text += f"; version {result.version} is current"
    elif result.error:
        text += f" ({result.error})"
    if outcome == "removed":
        text += " (the secret no longer exists, so its rotation was removed)"
    emit(ctx, result.to_json(), text)
    if outcome == "removed":
        sys.exit(4)  # not found
    if outcome not in ("success", "not_due"):
        sys.exit(EXIT_ROTATION_FAILED)


@rotate.command(name="status")
@click.argument("path", required=False)
@format_option
@pass_cli
def status(ctx: CliContext, path: str | None) -> None:
    """Show PATH's rotation (labels, next run, a run in progress); without PATH, list all.

    \b
    Examples:
      strongroom rotate status
      strongroom rotate status secret/app/db --format json
    """
    with translate_errors(), ctx.client() as client:
        if path is None:
            items = client.list_rotations()
            rows = [
                (
                    f"{i.namespace}/{i.path}",
                    i.rotator,
                    _when(i.last_rotated),
                    _when(i.next_due),
                    i.in_progress.step if i.in_progress else "",
                    i.failures,
                )
                for i in items
            ]
            headers = ["secret", "rotator", "last rotated", "next", "running", "failures"]
            emit_table(ctx, [i.to_json() for i in items], headers, rows)
            return
        namespace, sub = split_secret_path(path)
        doc = client.rotation_status(namespace, sub)
    labels = ", ".join(f"{k}={v}" for k, v in sorted(doc.labels.items())) or "none"
    lines = [
        f"secret:       {path}",
        f"rotator:      {doc.rotator}",
        f"schedule:     {json.dumps(doc.schedule)}",
        f"labels:       {labels}",
        f"last rotated: {_when(doc.last_rotated)}",
        f"next:         {_when(doc.next_due)}",
        f"failures:     {doc.failures}",
    ]
    running = doc.in_progress
    if running:
        lines.append(f"running:      step {running.step} (attempts {running.attempts})")
        if running.error:
            lines.append(f"last error:   {running.error}")
    emit(ctx, doc.to_json(), "\n".join(lines))


@rotate.command(name="history")
@click.argument("path")
@format_option
@pass_cli
def history(ctx: CliContext, path: str) -> None:
    """The last 50 runs of PATH's rotation, newest first.

    \b
    Example:
      strongroom rotate history secret/app/db
    """
    namespace, sub = split_secret_path(path)
    with translate_errors(), ctx.client() as client:
        runs = client.rotation_status(namespace, sub).history
    rows = [
        (_when(r["time"]), r["result"], r.get("version", ""), r.get("error", ""), r["token"])
        for r in runs
    ]
    emit_table(ctx, runs, ["time", "result", "version", "error", "rotation token"], rows)


@rotate.command(name="cancel")
@click.argument("path")
@format_option
@pass_cli
def cancel(ctx: CliContext, path: str) -> None:
    """Stop PATH's run in progress and roll it back (the current value stays).

    \b
    Example:
      strongroom rotate cancel secret/app/db
    """
    namespace, sub = split_secret_path(path)
    with translate_errors(), ctx.client() as client:
        cancelled = client.cancel_rotation(namespace, sub)
    emit(
        ctx,
        {"cancelled": cancelled},
        "the run was rolled back" if cancelled else "no run was in progress",
    )


@rotate.command(name="remove")
@click.argument("path")
@format_option
@pass_cli
def remove(ctx: CliContext, path: str) -> None:
    """Stop rotating PATH (its versions and labels stay).

    \b
    Example:
      strongroom rotate remove secret/app/db
    """
    namespace, sub = split_secret_path(path)
    with translate_errors(), ctx.client() as client:
        client.remove_rotation(namespace, sub)
    emit(ctx, {"removed": True}, f"{path} no longer rotates")


@click.group()
def gen() -> None:
    """Generate values."""


@gen.command(name="password")
@click.option("--length", "-l", default=32, show_default=True, help="Characters.")
@click.option(
    "--classes",
    default=",".join(DEFAULT_CLASSES),
    show_default=True,
    help="Character classes, comma-separated: lower, upper, digits, symbols.",
)
@click.option("--exclude", default="", help='Characters never to use, e.g. "0O1lI".')
@click.option(
    "--require-each/--no-require-each",
    default=True,
    show_default=True,
    help="At least one character of every class.",
)
@click.option("--count", "-n", default=1, show_default=True, help="How many passwords.")
@format_option
@pass_cli
def password(
    ctx: CliContext, length: int, classes: str, exclude: str, require_each: bool, count: int
) -> None:
    """Print random passwords (the rotators' generator; runs locally, no server needed).

    \b
    Examples:
      strongroom gen password
      strongroom gen password --length 20 --classes lower,digits --exclude 0O1l
      strongroom gen password --format json     # with the entropy
    """
    names = tuple(c.strip() for c in classes.split(",") if c.strip())
    with translate_errors():
        policy = PasswordPolicy(length, names, exclude, require_each)
    passwords = [generate_password(policy) for _ in range(max(1, count))]
    doc = {"passwords": passwords, "entropy_bits": round(policy.entropy_bits, 1)}
    if ctx.format != "json":
        click.echo(f"entropy: about {policy.entropy_bits:.0f} bits each", err=True)
    emit(ctx, doc, "\n".join(passwords))
