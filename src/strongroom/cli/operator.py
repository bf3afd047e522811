"""``strongroom operator …``: init, unseal, seal, status, rekey."""

from __future__ import annotations

import sys

import click

from strongroom.cli.output import CliContext, emit, format_option, pass_cli, translate_errors
from strongroom.types import SealStatusInfo

__all__ = [
    "operator",
    "operator_init",
    "operator_migrate_seal",
    "operator_rekey",
    "operator_seal",
    "operator_status",
    "operator_unseal",
]


def _status_text(status: SealStatusInfo) -> str:
    lines = [
        f"seal type:   {status.type}",
        f"initialized: {str(status.initialized).lower()}",
        f"sealed:      {str(status.sealed).lower()}",
    ]
    if status.type == "shamir" and status.initialized:
        lines.append(f"threshold:   {status.threshold} of {status.shares}")
        if status.sealed and status.nonce:
            lines.append(f"progress:    {status.progress}/{status.threshold}")
            lines.append(f"nonce:       {status.nonce}")
            lines.append(f"Next operator: strongroom operator unseal --nonce {status.nonce}")
    if status.rekey_pending:
        lines.append("rekey:       pending; finish with: strongroom operator rekey --verify NONCE")
    return "\n".join(lines)


@click.group()
def operator() -> None:
    """Initialize, unseal, seal and rekey the server."""


@operator.command(name="init")
@click.option("--shares", type=int, default=5, show_default=True, help="shamir: shares to make.")
@click.option("--threshold", type=int, default=3, show_default=True, help="shamir: shares needed.")
@format_option
@pass_cli
def operator_init(ctx: CliContext, shares: int, threshold: int) -> None:
    """Initialize a new server: root keys, unseal shares (shamir) and a root token.

    The shares and the root token are shown once. Give each share to a different operator.

    \b
    Example:
      strongroom operator init --shares 5 --threshold 3 --format json > init.json
    """
    with translate_errors(), ctx.client() as client:
        status = client.seal_status()
        if status.type != "shamir":
            shares = threshold = 1
        result = client.init(shares, threshold)
    lines = [f"unseal share {i}: {key}" for i, key in enumerate(result.keys, start=1)]
    lines.append(f"root token:     {result.root_token}")
    if result.keys:
        lines.append(f"\nThe server is sealed. Unseal it with {threshold} of these shares:")
        lines.append("  strongroom operator unseal")
    emit(ctx, result.to_json(), "\n".join(lines))


@operator.command(name="unseal")
@click.option("--key-stdin", is_flag=True, help="Read the share from stdin instead of a prompt.")
@click.option(
    "--nonce",
    default="",
    help="Join the unseal attempt with this nonce (printed by the first operator's unseal).",
)
@format_option
@pass_cli
def operator_unseal(ctx: CliContext, key_stdin: bool, nonce: str) -> None:
    """Give one unseal share (each operator runs this with their own share).

    The first operator starts an unseal attempt and gets its nonce; the others pass it with
    --nonce. Shares only join the attempt they name, so nobody else can spoil it.

    \b
    Example:
      strongroom operator unseal
      strongroom operator unseal --nonce 5f0c…
    """
    if key_stdin:
        key = sys.stdin.read().strip()
    else:
        key = click.prompt("Unseal share", hide_input=True).strip()
    with translate_errors(), ctx.client() as client:
        status = client.unseal(key, nonce)
    emit(ctx, status.to_json(), _status_text(status))


@operator.command(name="seal")
@format_option
@pass_cli
def operator_seal(ctx: CliContext) -> None:
    """Seal the server now: it forgets its keys and answers only status and unseal.

    A kms or file seal stays sealed until the server restarts.

    \b
    Example:
      strongroom operator seal
    """
    with translate_errors(), ctx.client() as client:
        client.seal()
    emit(ctx, {"sealed": True}, "sealed")


@operator.command(name="migrate-seal")
@click.option(
    "--to",
    "to",
    required=True,
    help="A key provider the server was started with: its --key-provider NAME or its URI.",
)
@format_option
@pass_cli
def operator_migrate_seal(ctx: CliContext, to: str) -> None:
    """Move the root key to another key provider, online (from a kms, file or shamir seal).

    Everything the root key wraps (the namespaces' keyrings, the record key, the token and
    audit HMAC keys) is re-wrapped by the new provider: a few provider calls each, no secret
    re-encrypted. The seal becomes a kms seal on that provider, recorded in the store, so the
    server must keep being started with --key-provider NAME=URI. Interrupted, run it again:
    until it finishes, both providers are used. Other nodes follow; a node without the new
    provider seals itself. Needs sudo on sys/seal/migrate.

    \b
    Example:
      strongroom server --data-dir /srv/sr --key-provider 'hsm=pkcs11:token=sr;object=root?…'
      strongroom operator migrate-seal --to hsm
    """
    with translate_errors(), ctx.client() as client:
        result = client.migrate_seal(to)
    emit(
        ctx,
        result.to_json(),
        f"the root key is now in key provider {result.provider} ({result.key_ref}); "
        f"{result.rewrapped} wrapped keys re-wrapped",
    )


@operator.command(name="status")
@format_option
@pass_cli
def operator_status(ctx: CliContext) -> None:
    """Show the seal type and state (needs no token).

    \b
    Example:
      strongroom operator status --format json
    """
    with translate_errors(), ctx.client() as client:
        status = client.seal_status()
    emit(ctx, status.to_json(), _status_text(status))


@operator.command(name="rekey")
@click.option("--shares", type=int, default=5, show_default=True, help="shamir: new shares.")
@click.option("--threshold", type=int, default=3, show_default=True, help="shamir: new threshold.")
@click.option("--keys-stdin", is_flag=True, help="Read shares from stdin, one per line.")
@click.option("--verify", "nonce", metavar="NONCE", help="Finish a shamir rekey: new shares.")
@click.option("--cancel", is_flag=True, help="Cancel a pending shamir rekey.")
@format_option
@pass_cli
def operator_rekey(
    ctx: CliContext,
    shares: int,
    threshold: int,
    keys_stdin: bool,
    nonce: str | None,
    cancel: bool,
) -> None:
    """Replace the unseal key. file: rewrites the seal key file. shamir: two steps. Start with
    the threshold of current shares; this prints the new shares and a nonce. The old key stays
    in force until the threshold of the new shares comes back with --verify, so a lost answer or
    a crash never locks you out.

    \b
    Example:
      strongroom operator rekey --shares 5 --threshold 3 --keys-stdin < current-shares.txt
      strongroom operator rekey --verify NONCE --keys-stdin < three-new-shares.txt
    """
    keys: list[str] = []
    if keys_stdin:
        keys = [line.strip() for line in sys.stdin if line.strip()]
    with translate_errors(), ctx.client() as client:
        if cancel:
            client.rekey_cancel()
            emit(ctx, {"cancelled": True}, "the pending rekey was cancelled")
            return
        if nonce is not None:
            client.rekey_verify(nonce, keys)
            emit(ctx, {"complete": True}, "rekey complete: the new shares are now in force")
            return
        result = client.rekey(keys, shares, threshold)
    lines = [f"new unseal share {i}: {key}" for i, key in enumerate(result.keys, start=1)]
    if result.verification_required:
        lines.append(f"nonce: {result.nonce}")
        lines.append(
            "The old shares stay in force until you finish with "
            f"--verify {result.nonce} and {threshold} of the new shares."
        )
    emit(ctx, result.to_json(), "\n".join(lines or ["rekeyed"]))
