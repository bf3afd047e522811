"""``strongroom migrate from-vault``: copy KV v2 mounts and ACL policies from Vault or OpenBao.

Resumable without a state file: versions are append-only on both sides, so a secret whose
strongroom copy has fewer versions than its source continues from the next one, and one that has
them all is only reconciled (deletions, destructions, metadata). Run it again after an
interruption, or later to pick up what changed at the source."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import click

from strongroom.cli.output import CliContext, emit, format_option, pass_cli, translate_errors
from strongroom.cli.vault_source import SourceSecret, VaultSource
from strongroom.errors import NotFound, StrongroomError
from strongroom.policy.parse import format_policy, parse_policy

if TYPE_CHECKING:
    from strongroom.client import Client
    from strongroom.types import SecretMetadata

__all__ = [
    "MigrationReport",
    "copy_secret",
    "from_vault",
    "migrate",
    "policy_for_namespaces",
]


@dataclass
class MigrationReport:
    secrets: int = 0
    copied: int = 0  # secrets that got at least one new version
    versions_written: int = 0
    up_to_date: int = 0
    deleted: int = 0
    destroyed: int = 0
    policies: list[str] = field(default_factory=list)
    rewritten: list[str] = field(default_factory=list)  # "policy: old path -> new path"
    failed: list[dict[str, str]] = field(default_factory=list)

    def add(self, other: MigrationReport) -> None:
        self.secrets += other.secrets
        self.copied += other.copied
        self.versions_written += other.versions_written
        self.up_to_date += other.up_to_date
        self.deleted += other.deleted
        self.destroyed += other.destroyed
        self.failed.extend(other.failed)

    def to_json(self, dry_run: bool) -> dict[str, Any]:
        return {
            "dry_run": dry_run,
            "secrets": self.secrets,
            "copied": self.copied,
            "versions_written": self.versions_written,
            "up_to_date": self.up_to_date,
            "versions_deleted": self.deleted,
            "versions_destroyed": self.destroyed,
            "policies": self.policies,
            "rewritten_policy_paths": self.rewritten,
            "failed": self.failed,
        }


def _target(client: Client, namespace: str, path: str) -> SecretMetadata | None:
    try:
        return client.metadata(namespace, path)
    except NotFound:
        return None


def copy_secret(
    source: VaultSource,
    client: Client,
    mount: str,
    namespace: str,
    secret: SourceSecret,
    *,
    dry_run: bool,
) -> MigrationReport:
    """Bring one secret on strongroom level with its source: new versions in order (a deleted,
    destroyed or pruned source version becomes an empty version, deleted or destroyed, so the
    numbers stay the same), then the versions' states and the metadata. What it did, as a
    report of one secret."""
    report = MigrationReport(secrets=1)
    target = _target(client, namespace, secret.path)
    states = {v.version: v.state for v in target.versions} if target else {}
    have = target.current_version if target else 0
    missing = [v for v in secret.versions if v.number > have]
    if not missing:
        report.up_to_date += 1
    if dry_run:
        report.versions_written += len(missing)
        report.copied += bool(missing)
        return report
    if target is None:  # new on strongroom: the settings first, so pruning follows the source's
        client.write_metadata(
            namespace,
            secret.path,
            max_versions=secret.max_versions or None,
            cas_required=secret.cas_required,
            custom_metadata=secret.custom_metadata,
            delete_version_after=secret.delete_version_after or None,
        )
    for version in missing:
        data = None
        if not (version.deleted or version.destroyed):
            data = source.version_data(mount, secret.path, version.number)
        client.put(namespace, secret.path, data or {}, cas=version.number - 1)
        report.versions_written += 1
        states[version.number] = "live"
    report.copied += bool(missing)
    gone = [v.number for v in secret.versions if v.deleted and states.get(v.number) == "live"]
    shredded = [
        v.number
        for v in secret.versions
        if v.destroyed and states.get(v.number) not in (None, "destroyed")
    ]
    if gone:
        client.delete(namespace, secret.path, gone)
        report.deleted += len(gone)
    if shredded:
        client.destroy(namespace, secret.path, shredded)
        report.destroyed += len(shredded)
    changed = target is not None and (
        target.custom_metadata != secret.custom_metadata
        or target.cas_required != secret.cas_required
    )
    if changed:  # an earlier run made it: keep its metadata current
        client.write_metadata(
            namespace,
            secret.path,
            custom_metadata=secret.custom_metadata,
            cas_required=secret.cas_required,
        )
    return report


def _mapping(spec: str) -> tuple[str, str]:
    source, _, target = spec.partition(":")
    source, target = source.strip("/"), (target or source).strip("/")
    if not source or "/" in source or "/" in target:
        raise click.BadParameter(f"{spec!r}: a mount is one segment, as in secret or secret:team")
    return source, target


@click.group()
def migrate() -> None:
    """Move secrets and policies into strongroom from another secrets manager."""


@migrate.command(name="from-vault")
@click.option(
    "--addr",
    "vault_addr",
    required=True,
    help="The Vault or OpenBao server to copy from. Never read from VAULT_ADDR, which often "
    "names strongroom itself.",
)
@click.option(
    "--token",
    "vault_token",
    required=True,
    help="A token of the source server that may list and read the mounts. Never read from "
    "VAULT_TOKEN, which often holds a strongroom token that must not be sent elsewhere.",
)
@click.option(
    "--mount",
    "mounts",
    multiple=True,
    required=True,
    metavar="MOUNT[:NAMESPACE]",
    help="A KV v2 mount to copy (repeatable); into the namespace of the same name "
    "unless NAMESPACE is given. Created when missing.",
)
@click.option(
    "--policies/--no-policies",
    default=True,
    show_default=True,
    help="Copy the ACL policies (all but root and default).",
)
@click.option("--vault-ca-cert", default=None, help="CA bundle to verify the Vault server.")
@click.option("--dry-run", is_flag=True, help="Count what would be copied; write nothing.")
@click.option(
    "--parallel",
    type=click.IntRange(1, 16),
    default=4,
    show_default=True,
    help="Secrets copied at once (each secret's versions stay in order).",
)
@format_option
@pass_cli
def from_vault(
    ctx: CliContext,
    vault_addr: str,
    vault_token: str,
    mounts: tuple[str, ...],
    policies: bool,
    vault_ca_cert: str | None,
    dry_run: bool,
    parallel: int,
) -> None:
    """Copy KV v2 secrets (every version, its state, custom metadata and settings) and ACL
    policies from Vault or OpenBao. Resumable: run it again and it continues; secrets already
    copied are only brought up to date. The source is only read.

    \b
    Examples:
      strongroom migrate from-vault --addr https://vault:8200 --token "$VAULT_TOKEN" \\
          --mount secret --dry-run
      strongroom migrate from-vault --addr https://vault:8200 --token "$OLD_VAULT_TOKEN" \\
          --mount secret --mount kv:team

    A policy that names a mount copied under another name (kv:team) is copied with its paths
    rewritten to the new namespace (team/...), and the report says so.

    Exit codes: 0 everything copied, 1 some secrets or policies failed (listed), others as for
    every command.
    """
    report = MigrationReport()
    chosen = [_mapping(spec) for spec in mounts]
    source = VaultSource(vault_addr, vault_token, verify=vault_ca_cert or True)
    try:
        with translate_errors(), ctx.client() as client:
            plans = []
            for mount, namespace in chosen:
                source.check_kv2(mount)
                plans.append((mount, namespace, list(source.paths(mount))))
                if not dry_run:
                    try:
                        client.namespace(namespace)
                    except NotFound:
                        client.create_namespace(namespace)
            total = sum(len(paths) for _, _, paths in plans)
            show = ctx.format != "json" and total > 0

            def one(mount: str, namespace: str, path: str) -> MigrationReport:
                try:
                    secret = source.secret(mount, path)
                    if secret is None:  # deleted at the source meanwhile
                        return MigrationReport(secrets=1)
                    return copy_secret(source, client, mount, namespace, secret, dry_run=dry_run)
                except StrongroomError as exc:
                    failure = {"secret": f"{mount}/{path}", "error": exc.message}
                    return MigrationReport(secrets=1, failed=[failure])

            label = "counting" if dry_run else "copying secrets"
            with _progress(show, total, label) as bar, ThreadPoolExecutor(parallel) as pool:
                jobs = [
                    pool.submit(one, mount, namespace, path)
                    for mount, namespace, paths in plans
                    for path in paths
                ]
                for job in as_completed(jobs):
                    report.add(job.result())
                    bar.update(1)
            if policies:
                renames = {mount: namespace for mount, namespace in chosen if mount != namespace}
                for name, text in source.policies().items():
                    try:
                        text, rewritten = policy_for_namespaces(name, text, renames)
                        if not dry_run:
                            client.write_policy(name, text)
                        report.policies.append(name)
                        report.rewritten.extend(f"{name}: {r}" for r in rewritten)
                    except StrongroomError as exc:
                        report.failed.append({"policy": name, "error": exc.message})
    finally:
        source.close()
    verb = "would copy" if dry_run else "copied"
    emit(
        ctx,
        report.to_json(dry_run),
        f"{verb} {report.versions_written} versions of {report.copied} secrets "
        f"({report.up_to_date} of {report.secrets} already up to date), "
        f"{len(report.policies)} policies; {len(report.failed)} failed"
        + "".join(f"\n  rewritten: {r}" for r in report.rewritten)
        + "".join(f"\n  failed: {next(iter(f.values()))}: {f['error']}" for f in report.failed),
    )
    if report.failed:
        sys.exit(1)


def policy_for_namespaces(name: str, text: str, renames: dict[str, str]) -> tuple[str, list[str]]:
    """``text`` with every rule path under a renamed mount moved to its namespace (``secret/…``
    to ``team/…``), and what was rewritten; unchanged (comments kept) when nothing names one.
    A path whose first segment is a wildcard applies to any mount and is left as it is."""
    if not renames:
        return text, []
    policy = parse_policy(name, text)
    rules, rewritten = [], []
    for rule in policy.rules:
        mount, sep, rest = rule.path.partition("/")
        if mount in renames and (sep or not rest):
            path = f"{renames[mount]}{sep}{rest}"
            rewritten.append(f"{rule.path} -> {path}")
            rule = replace(rule, path=path)
        rules.append(rule)
    if not rewritten:
        return text, []
    return format_policy(replace(policy, rules=tuple(rules))), rewritten


class _NoBar:
    def update(self, steps: int) -> None:
        pass


def _progress(show: bool, total: int, label: str) -> AbstractContextManager[Any]:
    """A progress bar on stderr, or nothing (JSON output; nothing to copy)."""
    if not show:
        return nullcontext(_NoBar())
    return click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)
