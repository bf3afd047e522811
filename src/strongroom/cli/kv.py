"""``strongroom kv …``: read and write secrets.

Longer than 400 lines: one click group of sixteen small commands that share their path parsing,
value input (--file, stdin, key=value) and output helpers; each command is a screen or less."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

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
from strongroom.types import format_time

__all__ = [
    "F",
    "delete",
    "destroy",
    "get",
    "history",
    "kv",
    "label",
    "list_",
    "metadata",
    "metadata_get",
    "metadata_put",
    "parse_pairs",
    "patch",
    "put",
    "rollback",
    "search",
    "undelete",
]

F = TypeVar("F", bound=Callable[..., Any])


def parse_pairs(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``key=value``, ``key=@file``, ``key=-`` (value from stdin), or a lone ``-`` (a JSON
    object from stdin)."""
    if pairs == ("-",):
        try:
            doc = json.load(sys.stdin)
        except ValueError:
            raise click.UsageError("stdin is not a JSON object") from None
        if not isinstance(doc, dict):
            raise click.UsageError("stdin must hold a JSON object")
        return doc
    data: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.UsageError(
                f"{pair!r} is not key=value (use key=@file or key=- to read a file or stdin)"
            )
        if value.startswith("@"):
            try:
                value = Path(value[1:]).read_text("utf-8")
            except OSError as exc:
                raise click.UsageError(f"cannot read {value[1:]}: {exc.strerror}") from None
        elif value == "-":
            value = sys.stdin.read()
        data[key] = value
    if not data:
        raise click.UsageError("give at least one key=value pair, or - to read JSON from stdin")
    return data


def _version_line(meta: Any) -> str:
    return f"version {meta.version} written at {format_time(meta.created_time)}"


@click.group()
def kv() -> None:
    """Read and write versioned secrets (Vault KV v2 semantics)."""


@kv.command()
@click.argument("path")
@click.argument("pairs", nargs=-1, required=True)
@click.option("--cas", type=int, help="Write only if the current version is this (0: only if new).")
@format_option
@pass_cli
def put(ctx: CliContext, path: str, pairs: tuple[str, ...], cas: int | None) -> None:
    """Write a new version of a secret.

    \b
    Examples:
      strongroom kv put secret/app/db user=app password=s3cret
      strongroom kv put secret/app/tls cert=@tls.pem
      echo '{"token": "abc"}' | strongroom kv put secret/app/api -
    """
    namespace, sub = split_secret_path(path)
    data = parse_pairs(pairs)
    with translate_errors(), ctx.client() as client:
        meta = client.put(namespace, sub, data, cas=cas)
    emit(ctx, meta.to_json(), _version_line(meta))


@kv.command()
@click.argument("path")
@click.option("--version", type=int, help="Read this version instead of the current one.")
@click.option("--stage", help="Read the version under this label (pending, previous, custom).")
@click.option("--field", help="Print only this field's value (raw, for scripts).")
@format_option
@pass_cli
def get(
    ctx: CliContext, path: str, version: int | None, stage: str | None, field: str | None
) -> None:
    """Read a secret (the current version, or --version N, or --stage LABEL).

    \b
    Examples:
      strongroom kv get secret/app/db
      strongroom kv get --field password secret/app/db
      strongroom kv get --version 2 --format json secret/app/db
      strongroom kv get --stage previous secret/app/db
    """
    namespace, sub = split_secret_path(path)
    with translate_errors(), ctx.client() as client:
        value = client.get(namespace, sub, version=version, stage=stage)
    if field is not None:
        if field not in value.data:
            click.echo(
                f"Error: no field {field!r} in {path} (fields: {', '.join(value.data)})", err=True
            )
            sys.exit(4)
        item = value.data[field]
        click.echo(item if isinstance(item, str) else json.dumps(item))
        return
    rows = [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in value.data.items()]
    if ctx.format == "json":
        emit(ctx, value.to_json())
        return
    click.echo(
        f"== {path} (version {value.metadata.version}, {format_time(value.metadata.created_time)})"
    )
    emit_table(ctx, None, ["key", "value"], rows)


@kv.command()
@click.argument("path")
@click.argument("pairs", nargs=-1, required=True)
@click.option("--cas", type=int, help="Patch only if the current version is this.")
@format_option
@pass_cli
def patch(ctx: CliContext, path: str, pairs: tuple[str, ...], cas: int | None) -> None:
    """Merge keys into the latest version, writing a new version.

    \b
    Example:
      strongroom kv patch secret/app/db password=rotated
    """
    namespace, sub = split_secret_path(path)
    data = parse_pairs(pairs)
    with translate_errors(), ctx.client() as client:
        meta = client.patch(namespace, sub, data, cas=cas)
    emit(ctx, meta.to_json(), _version_line(meta))


@kv.command(name="list")
@click.argument("path")
@click.option(
    "--recursive", "-r", is_flag=True, help="List every secret below PATH, not one level."
)
@format_option
@pass_cli
def list_(ctx: CliContext, path: str, recursive: bool) -> None:
    """List secrets under a namespace or folder.

    \b
    Examples:
      strongroom kv list secret
      strongroom kv list secret/app
      strongroom kv list --recursive secret/app
    """
    namespace, _, sub = path.partition("/")
    with translate_errors(), ctx.client() as client:
        keys = (
            client.list_recursive(namespace, sub) if recursive else client.list_keys(namespace, sub)
        )
    emit(ctx, {"keys": keys}, "\n".join(keys))


@kv.command()
@click.argument("namespace")
@click.option("--prefix", default="", help="Only paths under this folder.")
@click.option("--name", default="", help="Substring of the path, or a glob such as '*/db'.")
@click.option(
    "--metadata",
    "-m",
    multiple=True,
    help="Custom metadata key=value (repeatable; all must match).",
)
@format_option
@pass_cli
def search(
    ctx: CliContext, namespace: str, prefix: str, name: str, metadata: tuple[str, ...]
) -> None:
    """Find secrets by name and custom metadata.

    \b
    Examples:
      strongroom kv search secret --name db
      strongroom kv search secret --name 'app/*' -m owner=payments
    """
    filters = {}
    for pair in metadata:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.UsageError(f"{pair!r} is not key=value")
        filters[key] = value
    with translate_errors(), ctx.client() as client:
        keys = client.search(namespace, prefix=prefix, name=name, metadata=filters)
    emit(ctx, {"keys": keys}, "\n".join(keys))


@kv.group()
def metadata() -> None:
    """Read and write a secret's metadata."""


@metadata.command(name="get")
@click.argument("path")
@format_option
@pass_cli
def metadata_get(ctx: CliContext, path: str) -> None:
    """Show metadata and versions.

    \b
    Example:
      strongroom kv metadata get secret/app/db
    """
    namespace, sub = split_secret_path(path)
    with translate_errors(), ctx.client() as client:
        meta = client.metadata(namespace, sub)
    doc = meta.to_json()
    text = "\n".join(
        f"{k}: {json.dumps(v) if not isinstance(v, str) else v}"
        for k, v in doc.items()
        if k != "versions"
    )
    emit(ctx, doc, text)


@metadata.command(name="put")
@click.argument("path")
@click.option("--max-versions", type=int, help="Versions to keep (0: the default, 10).")
@click.option(
    "--cas-required/--no-cas-required", default=None, help="Require --cas on every write."
)
@click.option(
    "--custom", "-c", multiple=True, help="Custom metadata key=value (repeatable; replaces all)."
)
@format_option
@pass_cli
def metadata_put(
    ctx: CliContext,
    path: str,
    max_versions: int | None,
    cas_required: bool | None,
    custom: tuple[str, ...],
) -> None:
    """Set max versions, CAS-required and custom metadata.

    \b
    Example:
      strongroom kv metadata put --max-versions 5 -c owner=payments secret/app/db
    """
    namespace, sub = split_secret_path(path)
    custom_metadata = None
    if custom:
        custom_metadata = {}
        for pair in custom:
            key, sep, value = pair.partition("=")
            if not sep:
                raise click.UsageError(f"{pair!r} is not key=value")
            custom_metadata[key] = value
    with translate_errors(), ctx.client() as client:
        meta = client.write_metadata(
            namespace,
            sub,
            max_versions=max_versions,
            cas_required=cas_required,
            custom_metadata=custom_metadata,
        )
    emit(ctx, meta.to_json() if meta else {}, f"metadata of {path} updated")


@kv.command()
@click.argument("path")
@format_option
@pass_cli
def history(ctx: CliContext, path: str) -> None:
    """Show every kept version and its state.

    \b
    Example:
      strongroom kv history secret/app/db
    """
    namespace, sub = split_secret_path(path)
    with translate_errors(), ctx.client() as client:
        meta = client.metadata(namespace, sub)
    rows = [
        (v.version, v.state, format_time(v.created_time), format_time(v.deletion_time))
        for v in meta.versions
    ]
    emit_table(
        ctx,
        {"versions": [v.to_json() for v in meta.versions]},
        ["version", "state", "created", "deleted"],
        rows,
    )


def _versions_option(required: bool) -> Callable[[F], F]:
    return click.option(
        "--versions",
        "-v",
        multiple=True,
        type=int,
        required=required,
        help="Version number (repeatable).",
    )


@kv.command()
@click.argument("path")
@_versions_option(False)
@click.option(
    "--all", "all_versions", is_flag=True, help="Delete every version and the metadata, for good."
)
@format_option
@pass_cli
def delete(ctx: CliContext, path: str, versions: tuple[int, ...], all_versions: bool) -> None:
    """Soft-delete the latest version (or --versions); --all removes the secret for good.

    \b
    Examples:
      strongroom kv delete secret/app/db
      strongroom kv delete -v 1 -v 2 secret/app/db
      strongroom kv delete --all secret/app/db
    """
    namespace, sub = split_secret_path(path)
    with translate_errors(), ctx.client() as client:
        if all_versions:
            client.delete_all(namespace, sub)
        else:
            client.delete(namespace, sub, list(versions) or None)
    emit(ctx, {"deleted": path}, f"deleted {path}")


def _change_versions(ctx: CliContext, done: str, path: str, versions: tuple[int, ...]) -> None:
    """Undelete or destroy ``versions`` of ``path`` and report it (``done``: the past tense)."""
    namespace, sub = split_secret_path(path)
    with translate_errors(), ctx.client() as client:
        change = client.undelete if done == "undeleted" else client.destroy
        change(namespace, sub, list(versions))
    emit(ctx, {done: list(versions)}, f"{done} versions {list(versions)} of {path}")


@kv.command()
@click.argument("path")
@_versions_option(True)
@format_option
@pass_cli
def undelete(ctx: CliContext, path: str, versions: tuple[int, ...]) -> None:
    """Restore soft-deleted versions.

    \b
    Example:
      strongroom kv undelete -v 3 secret/app/db
    """
    _change_versions(ctx, "undeleted", path, versions)


@kv.command()
@click.argument("path")
@_versions_option(True)
@format_option
@pass_cli
def destroy(ctx: CliContext, path: str, versions: tuple[int, ...]) -> None:
    """Permanently destroy versions (their data cannot be restored).

    \b
    Example:
      strongroom kv destroy -v 1 secret/app/db
    """
    _change_versions(ctx, "destroyed", path, versions)


@kv.command()
@click.argument("path")
@click.option(
    "--version", type=int, required=True, help="The version whose data becomes the newest."
)
@format_option
@pass_cli
def rollback(ctx: CliContext, path: str, version: int) -> None:
    """Write the data of an older version as a new version.

    \b
    Example:
      strongroom kv rollback --version 2 secret/app/db
    """
    namespace, sub = split_secret_path(path)
    with translate_errors(), ctx.client() as client:
        meta = client.rollback(namespace, sub, version)
    emit(ctx, meta.to_json(), _version_line(meta))


@kv.command()
@click.argument("path")
@click.argument("label")
@click.argument("version", type=int, required=False)
@format_option
@pass_cli
def label(ctx: CliContext, path: str, label: str, version: int | None) -> None:
    """Point a custom staging label at a version (without VERSION: remove it). current,
    pending and previous are moved by rotation.

    \b
    Examples:
      strongroom kv label secret/app/db blue 4
      strongroom kv get --stage blue secret/app/db
    """
    namespace, sub = split_secret_path(path)
    with translate_errors(), ctx.client() as client:
        labels = client.set_label(namespace, sub, label, version)
    text = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
    emit(ctx, {"labels": labels}, f"labels of {path}: {text or 'none'}")
