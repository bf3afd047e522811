"""Builds the object graph of an unsealed server from its settings, store and root-key provider
(used by the server's node only)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strongroom.audit import AuditBroker
from strongroom.auth import TokenRegistry
from strongroom.auth.approle import AppRoleAuth
from strongroom.auth.aws_keys import AccessKeyRegistry
from strongroom.auth.hash_queue import HashQueue
from strongroom.auth.identity_store import IdentityStore
from strongroom.auth.jwt_auth import JwtAuth
from strongroom.auth.jwt_keys import KeySource
from strongroom.auth.kubernetes_auth import KubernetesAuth
from strongroom.auth.lockout import LoginGuard
from strongroom.auth.oidc_provider import OidcProvider
from strongroom.auth.token_service import TokenService
from strongroom.auth.userpass import UserpassAuth
from strongroom.clock import Clock
from strongroom.compat.aws.kms.models import ALIAS_KIND, KEY_KIND
from strongroom.compat.aws.kms.operations import KmsService
from strongroom.compat.aws.secretsmanager.models import RECORD_KIND as SM_RECORD_KIND
from strongroom.compat.aws.secretsmanager.values import SecretsManagerService
from strongroom.compat.aws.ssm.models import LABELS_KIND, METADATA_KIND, TAGS_KIND
from strongroom.compat.aws.ssm.parameters import SsmService
from strongroom.compat.aws.stored_values import check_stored_value
from strongroom.compat.vault.transit.operations import TransitService
from strongroom.config import ServerSettings
from strongroom.cursors import Cursors
from strongroom.egress import EgressPolicy
from strongroom.errors import KeyProviderUnavailable
from strongroom.keyproviders.provider import KeyProvider
from strongroom.keyproviders.registry import ProviderRegistry
from strongroom.keys import Keyrings
from strongroom.policy.store import PolicyStore
from strongroom.record_migration import migrate_records
from strongroom.rotation import RotationService
from strongroom.rotation.aws_lambda import AwsLambdaRotator, LambdaFunctions
from strongroom.rotation.notify import Notifier
from strongroom.rotation.registry import RotatorRegistry
from strongroom.sealed_store import open_sealed_store, rewrap_record_key
from strongroom.server.services import Services
from strongroom.service.admin import SystemService
from strongroom.service.auth_methods import AuthMethodService
from strongroom.service.aws_credentials import AwsCredentialService
from strongroom.service.backup import BackupService
from strongroom.service.backup_targets import BackupTarget, DirectoryTarget
from strongroom.service.dev_reset import DevReset
from strongroom.service.encryption_key import EncryptionKeyService
from strongroom.service.keys import DataKeyService
from strongroom.service.kv_v1 import KvVersion1
from strongroom.service.listing import ListingService
from strongroom.service.named_keys import NamedKeyStore
from strongroom.service.namespaces import NamespaceService
from strongroom.service.quotas import QuotaService
from strongroom.service.records import Repository
from strongroom.service.secret_rows import SecretRows
from strongroom.service.secrets import SecretService
from strongroom.service.wrapping import WrappingService
from strongroom.store.protocol import Store

__all__ = ["AWS_RECORD_KINDS", "Runtime", "backup_target"]

# What the AWS backends keep beside the secrets (dev mode's reset removes them all).
AWS_RECORD_KINDS = (KEY_KIND, ALIAS_KIND, SM_RECORD_KIND, METADATA_KIND, TAGS_KIND, LABELS_KIND)


def _unknown(name: str) -> KeyProvider:
    raise KeyProviderUnavailable(
        f"a namespace uses key provider {name!r}, which this server was not started with: "
        f"add --key-provider {name}=<URI>"
    )


@dataclass
class Runtime:
    settings: ServerSettings
    store: Store
    provider: KeyProvider
    keyrings: Keyrings
    policies: PolicyStore
    tokens: TokenRegistry
    token_service: TokenService
    approle: AppRoleAuth
    userpass: UserpassAuth
    audit: AuditBroker
    secrets: SecretService
    namespaces: NamespaceService
    datakeys: DataKeyService
    system: SystemService
    rotation: RotationService
    login_guard: LoginGuard
    services: Services = field(init=False)
    rotators: RotatorRegistry = field(init=False)
    root_token: str | None = None
    stop_listening: Callable[[], None] | None = None

    @classmethod
    def build(
        cls,
        settings: ServerSettings,
        raw_store: Store,
        provider: KeyProvider,
        clock: Clock,
        pause_if_busy: Callable[[], None] = lambda: None,
        rotators: RotatorRegistry | None = None,
        registry: ProviderRegistry | None = None,
    ) -> Runtime:
        # Every service sees records sealed and secret rows MAC'd; only the seal sees the raw
        # store (docs/security.md: what a database writer can and cannot do).
        store = open_sealed_store(raw_store, provider)
        migrate_records(store, provider)
        registry = registry or ProviderRegistry()
        uris = dict(settings.key_providers)
        keyrings = Keyrings(
            store,
            provider,
            clock,
            rotate_after=settings.rotate_after_encryptions,
            providers=lambda name: registry.build(uris[name]) if name in uris else _unknown(name),
        )
        policies = PolicyStore(store, clock)
        tokens = TokenRegistry(store, provider, clock, policies)
        # A cached token holds the ACL of its policies: a policy change must drop it too.
        policies.on_change.append(lambda: tokens.forget(""))
        guard = LoginGuard(store, clock, max_attempts=settings.login_attempts)
        audit = AuditBroker(
            store,
            provider,
            clock,
            settings.resolved_audit_dir,
            node_name=settings.node_name,
            file_paths={"file": settings.audit_file} if settings.audit_file else None,
        )
        named_keys = NamedKeyStore(store, keyrings)
        namespaces = NamespaceService(store, keyrings, clock, settings.limits, uris, named_keys)
        secrets = SecretService(store, keyrings, clock, settings.limits, namespaces.kind)
        secrets.value_checks.append(check_stored_value)
        listing = ListingService(store, keyrings, settings.limits, Cursors(store), namespaces.kind)
        transit = TransitService(named_keys, clock, namespaces.kind)
        egress = EgressPolicy(settings.egress_allow)
        hashing = HashQueue()  # one bound on password hashing for every userpass mount
        rotation_registry = rotators or RotatorRegistry()
        aws_lambdas = LambdaFunctions(store)
        rotation_registry.register(AwsLambdaRotator(aws_lambdas.get))
        notifier = Notifier(secrets, egress)
        rotation = RotationService(
            store,
            secrets,
            clock,
            lease_seconds=settings.rotation_lease,
            audit=lambda record, run_token: audit.event(
                "rotation", record, request_id=run_token, time=clock.now()
            ),
            rotators=rotation_registry,
            notify=notifier.send,
            egress=egress,
        )
        runtime = cls(
            settings,
            store,
            provider,
            keyrings,
            policies,
            tokens,
            TokenService(tokens, store),
            AppRoleAuth(store, tokens, guard, clock),
            UserpassAuth(store, tokens, guard, hashing),
            audit,
            secrets,
            namespaces,
            DataKeyService(keyrings, settings.limits),
            SystemService(policies, audit),
            rotation,
            guard,
        )
        runtime.rotators = rotation_registry
        key_source = KeySource(egress)

        def auth_backend(kind: str, mount: str) -> Any:
            """An auth method of type ``kind`` at ``mount`` (service/auth_methods.py)."""
            if kind == "approle":
                return AppRoleAuth(store, tokens, guard, clock, mount)
            if kind == "userpass":
                return UserpassAuth(store, tokens, guard, hashing, mount)
            if kind == "jwt":
                return JwtAuth(store, tokens, key_source, mount)
            return KubernetesAuth(store, tokens, key_source, egress, mount)

        jwt_auth = JwtAuth(store, tokens, key_source)
        kubernetes_auth = KubernetesAuth(store, tokens, key_source, egress)
        aws_kms = KmsService(
            Repository(store),
            keyrings,
            named_keys,
            clock,
            lambda: settings.aws_account_id,
            lambda mount: runtime.namespaces.ensure(mount, kind="aws-kms"),
        )
        dev_key = settings.aws_dev_key if settings.dev else None
        auth_methods = AuthMethodService(
            store,
            tokens,
            auth_backend,
            {
                "approle": runtime.approle,
                "userpass": runtime.userpass,
                "jwt": jwt_auth,
                "kubernetes": kubernetes_auth,
            },
        )
        identity = IdentityStore(store, clock, auth_methods.mounted)
        identity.on_change.append(lambda: tokens.forget(""))  # cached tokens hold its policies
        auth_methods.on_disable.append(identity.forget_mount)
        tokens.identities = identity
        aws_keys = AccessKeyRegistry(store, policies, clock, dev_key)
        runtime.services = Services(
            secrets=runtime.secrets,
            listing=listing,
            kv_v1=KvVersion1(secrets, listing, store, settings.limits, namespaces.kind),
            namespaces=runtime.namespaces,
            keys=runtime.datakeys,
            encryption_key=EncryptionKeyService(store, keyrings, clock),
            admin=runtime.system,
            tokens=runtime.token_service,
            token_registry=tokens,
            approle=runtime.approle,
            userpass=runtime.userpass,
            rotation=rotation,
            transit=transit,
            auth_methods=auth_methods,
            jwt=jwt_auth,
            kubernetes=kubernetes_auth,
            identity_tokens=OidcProvider(store, tokens, clock),
            identity=identity,
            wrapping=WrappingService(store, tokens, clock),
            quotas=QuotaService(store, clock, namespaces.kind, auth_methods.kind_at),
            aws_kms=aws_kms,
            aws_ssm=SsmService(
                SecretRows(store),
                Repository(store),
                secrets,
                aws_kms,
                clock,
                lambda: settings.aws_account_id,
                lambda namespace: runtime.namespaces.ensure(namespace),
            ),
            aws_secrets=SecretsManagerService(
                SecretRows(store),
                Repository(store),
                secrets,
                clock,
                lambda: settings.aws_account_id,
                lambda namespace: runtime.namespaces.ensure(namespace),
                lambda: rotation,
                aws_lambdas.exists,
            ),
            aws_keys=aws_keys,
            aws_credentials=AwsCredentialService(aws_keys, policies),
            aws_lambdas=aws_lambdas,
            dev_reset=DevReset(store, namespaces, AWS_RECORD_KINDS, dev=settings.dev),
            backup=BackupService(
                store,
                provider,
                clock,
                backup_target(settings.backup_dir) if settings.backup_dir else None,
                settings.backup_every,
                settings.backup_keep,
                raw_store,
            ),
            limits=settings.limits,
            pause_if_busy=pause_if_busy,
        )
        runtime.stop_listening = store.subscribe(runtime.on_change_elsewhere)
        if settings.audit_file is not None:
            runtime.audit.ensure_file("file", settings.audit_file)
        if settings.dev:  # a chosen root token is a dev-mode convenience, never production's
            runtime.namespaces.ensure(settings.default_namespace)
            runtime.root_token = tokens.dev_root_token(settings.root_token)
        return runtime

    def rewrap_root_wrapped(self, raw_store: Store) -> int:
        """Wrap everything the root key wraps again, with the root key as it is now (a seal
        migration): the record key, the token and audit HMAC keys, and the keyrings of the
        namespaces on the root key. A few provider calls each; no secret is touched."""
        rewrap_record_key(raw_store, self.provider)
        count = 1 + self.tokens.rewrap_root_wrapped() + self.audit.rewrap_keys()
        return count + self.keyrings.rewrap_under_root(only_root=True)

    def on_change_elsewhere(self, topic: str, key: str) -> None:
        """Another node (or this one) changed cached state: drop our copy. ``*``: we may have
        missed some, drop everything."""
        if topic in ("token", "*"):
            self.tokens.forget("" if topic == "*" else key)
        if topic in ("aws-key", "*"):
            self.services.aws_keys.forget("" if topic == "*" else key)
        if topic in ("policy", "*"):
            self.policies.forget()
        if topic in ("identity", "*"):
            self.services.identity.forget()
        if topic in ("keyring", "*"):
            self.keyrings.forget("" if topic == "*" else key)
            self.namespaces.forget_kinds()

    def close(self) -> None:
        if self.stop_listening is not None:
            self.stop_listening()
        self.audit.close()


def backup_target(where: str | Path) -> BackupTarget:
    """A directory, or S3-compatible storage for ``s3://BUCKET/PREFIX`` (the aws extra, imported
    only when chosen)."""
    text = str(where)
    if text.startswith("s3://"):
        from strongroom.service.s3_backups import S3Target

        return S3Target(text)
    return DirectoryTarget(Path(where))
