"""``strongroom namespace …`` and ``strongroom keys …``."""

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
from strongroom.types import format_time

__all__ = [
    "keys",
    "migrate",
    "namespace",
    "namespace_create",
    "namespace_delete",
    "namespace_list",
    "retire",
    "rewrap",
    "rotate",
    "rotate_root",
    "status",
]


@click.group()
def namespace() -> None:
    """Create, list and delete namespaces (each has its own keyring)."""


@namespace.command(name="create")
@click.argument("name")
@click.option("--description", default="", help="What the namespace is for.")
@click.option(
    "--provider",
    default="",
    help="Wrap its keyring with this key provider of the server's (--key-provider NAME=URI) "
    "instead of the root key.",
)
@format_option
@pass_cli
def namespace_create(ctx: CliContext, name: str, description: str, provider: str) -> None:
    """Create a namespace with a fresh keyring.

    \b
    Examples:
      strongroom namespace create prod
      strongroom namespace create payments --provider hsm --description "card tokens"
    """
    with translate_errors(), ctx.client() as client:
        info = client.create_namespace(name, description=description, provider=provider)
    emit(ctx, info.to_json(), f"created namespace {info.name}")


@namespace.command(name="list")
@format_option
@pass_cli
def namespace_list(ctx: CliContext) -> None:
    """List namespaces.

    \b
    Example:
      strongroom namespace list --format json
    """
    with translate_errors(), ctx.client() as client:
        items = client.namespaces()
    rows = [(n.name, n.active_term, n.key_provider, format_time(n.created_time)) for n in items]
    emit_table(
        ctx,
        {"namespaces": [n.to_json() for n in items]},
        ["name", "term", "key provider", "created"],
        rows,
    )


@namespace.command(name="delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@format_option
@pass_cli
def namespace_delete(ctx: CliContext, name: str, yes: bool) -> None:
    """Delete a namespace: its keyring is destroyed, so its data can never be read again.

    \b
    Example:
      strongroom namespace delete staging --yes
    """
    if not yes and not click.confirm(f"Destroy namespace {name!r} and every secret in it?"):
        sys.exit(1)
    with translate_errors(), ctx.client() as client:
        client.delete_namespace(name)
    emit(ctx, {"deleted": name}, f"deleted namespace {name} (keyring destroyed)")


@click.group()
def keys() -> None:
    """Rotate, rewrap and inspect namespace keyrings."""


@keys.command()
@click.argument("namespace_name", metavar="NAMESPACE")
@format_option
@pass_cli
def rotate(ctx: CliContext, namespace_name: str) -> None:
    """Add a new keyring term; new writes use it, old terms still decrypt.

    \b
    Example:
      strongroom keys rotate secret && strongroom keys rewrap secret
    """
    with translate_errors(), ctx.client() as client:
        info = client.rotate_keys(namespace_name)
    emit(ctx, info.to_json(), f"namespace {info.name} now encrypts with term {info.active_term}")


@keys.command()
@click.argument("namespace_name", metavar="NAMESPACE")
@format_option
@pass_cli
def status(ctx: CliContext, namespace_name: str) -> None:
    """Show each keyring term, its encryptions, and how many versions still use it.

    \b
    Example:
      strongroom keys status secret
    """
    with translate_errors(), ctx.client() as client:
        terms = client.key_status(namespace_name)
    rows = [
        (
            t.term,
            "active" if t.active else "",
            t.encryptions,
            t.versions_in_use,
            format_time(t.created_time),
        )
        for t in terms
    ]
    emit_table(
        ctx,
        {"namespace": namespace_name, "terms": [t.to_json() for t in terms]},
        ["term", "state", "encryptions", "versions in use", "created"],
        rows,
    )


@keys.command()
@click.argument("namespace_name", metavar="NAMESPACE")
@click.option(
    "--batch-size", default=500, show_default=True, help="Versions re-sealed per request."
)
@format_option
@pass_cli
def rewrap(ctx: CliContext, namespace_name: str, batch_size: int) -> None:
    """Re-seal every version under the active term, in resumable batches.

    Safe to interrupt: run it again and it continues where it stopped.

    \b
    Example:
      strongroom keys rewrap secret --batch-size 1000
    """
    with translate_errors(), ctx.client() as client:
        terms = client.key_status(namespace_name)
        total = sum(t.versions_in_use for t in terms if not t.active)
        rewrapped = 0
        show = ctx.format != "json" and total > 0
        with click.progressbar(
            length=max(total, 1),
            label=f"rewrapping {namespace_name}",
            file=sys.stderr,
            show_pos=True,
        ) as bar:
            while True:
                progress = client.rewrap_batch(namespace_name, batch_size=batch_size)
                rewrapped += progress.rewrapped
                if show:
                    bar.update(progress.rewrapped)
                if progress.done:
                    break
    emit(
        ctx,
        {**progress.to_json(), "rewrapped": rewrapped},
        f"rewrapped {rewrapped} versions; {progress.remaining} left under older terms",
    )


@keys.command()
@click.argument("namespace_name", metavar="NAMESPACE")
@click.argument("term", type=int)
@format_option
@pass_cli
def retire(ctx: CliContext, namespace_name: str, term: int) -> None:
    """Remove an old keyring term for good: only an inactive term that no stored version uses
    (rewrap first). Data keys an app keeps outside strongroom under that term can no longer be
    opened, so rewrap those too.

    \b
    Example:
      strongroom keys rotate secret && strongroom keys rewrap secret
      strongroom keys retire secret 1
    """
    with translate_errors(), ctx.client() as client:
        info = client.retire_key_term(namespace_name, term)
    emit(ctx, info, f"term {term} of {namespace_name} retired")


@keys.command(name="rotate-root")
@click.option(
    "--rewrap-only",
    is_flag=True,
    help="The provider rotated its key itself (AWS KMS, Transit): only re-wrap the keyrings.",
)
@click.option(
    "--provider",
    default="",
    help="Rotate this --key-provider of the server's (e.g. a PKCS#11 one) instead of the seal's.",
)
@format_option
@pass_cli
def rotate_root(ctx: CliContext, rewrap_only: bool, provider: str) -> None:
    """A new root key version, then every keyring re-wrapped under it. The data is not touched:
    two key-provider calls per namespace, whatever the number of secrets. Needs sudo.

    The local KMS and PKCS#11 keys are rotated by strongroom (a new key version; older ones
    still unwrap). AWS KMS and Transit keys rotate themselves: rotate them there, then run
    this with --rewrap-only.

    \b
    Examples:
      strongroom keys rotate-root
      strongroom keys rotate-root --provider hsm
      strongroom keys rotate-root --rewrap-only
    """
    with translate_errors(), ctx.client() as client:
        result = client.rotate_root_key(rewrap_only=rewrap_only, provider=provider)
    version = result.root_key_version
    text = f"re-wrapped {result.keyrings} keyrings"
    emit(ctx, result.to_json(), text if version is None else f"root key version {version}; {text}")


@keys.command()
@click.option("--namespace", "namespace_name", required=True, help="The namespace to move.")
@click.option(
    "--to",
    "to",
    required=True,
    help="A key provider the server was started with: its --key-provider NAME, its URI, or "
    "'root' for the seal's root key.",
)
@format_option
@pass_cli
def migrate(ctx: CliContext, namespace_name: str, to: str) -> None:
    """Wrap a namespace's keyring under another key provider, online.

    The data is not re-encrypted: the keyring is unwrapped by its current provider and wrapped
    by the new one (a few provider calls, whatever the number of secrets), and every node
    reloads it. Both providers must be configured on the server (--key-provider NAME=URI).
    Needs sudo on sys/namespaces/NAMESPACE/keys; the move is in the audit log.

    \b
    Examples:
      strongroom keys migrate --namespace prod --to hsm
      strongroom keys migrate --namespace prod --to 'awskms:alias/strongroom-prod?region=eu-west-1'
      strongroom keys migrate --namespace prod --to root
    """
    with translate_errors(), ctx.client() as client:
        info = client.migrate_keyring(namespace_name, to)
    where = info.provider or "the root key"
    emit(
        ctx,
        info.to_json(),
        f"{namespace_name}'s keyring is now wrapped by {where} ({info.key_provider})",
    )
