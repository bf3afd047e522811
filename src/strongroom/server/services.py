"""The services a route may call, typed: what an unsealed node offers its surfaces. Routes reach
nothing else (no store, no keyrings, no provider)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from strongroom.auth.approle import AppRoleAuth
from strongroom.auth.aws_keys import AccessKeyRegistry
from strongroom.auth.identity_store import IdentityStore
from strongroom.auth.jwt_auth import JwtAuth
from strongroom.auth.kubernetes_auth import KubernetesAuth
from strongroom.auth.oidc_provider import OidcProvider
from strongroom.auth.token_service import TokenService
from strongroom.auth.tokens import TokenRegistry
from strongroom.auth.userpass import UserpassAuth
from strongroom.compat.aws.kms.operations import KmsService
from strongroom.compat.aws.secretsmanager.values import SecretsManagerService
from strongroom.compat.aws.ssm.parameters import SsmService
from strongroom.compat.vault.transit.operations import TransitService
from strongroom.limits import Limits
from strongroom.rotation import RotationService
from strongroom.rotation.aws_lambda import LambdaFunctions
from strongroom.service.admin import SystemService
from strongroom.service.auth_methods import AuthMethodService
from strongroom.service.aws_credentials import AwsCredentialService
from strongroom.service.backup import BackupService
from strongroom.service.dev_reset import DevReset
from strongroom.service.encryption_key import EncryptionKeyService
from strongroom.service.keys import DataKeyService
from strongroom.service.kv_v1 import KvVersion1
from strongroom.service.listing import ListingService
from strongroom.service.namespaces import NamespaceService
from strongroom.service.quotas import QuotaService
from strongroom.service.secrets import SecretService
from strongroom.service.wrapping import WrappingService

__all__ = ["Services"]


@dataclass(frozen=True)
class Services:
    secrets: SecretService
    listing: ListingService
    kv_v1: KvVersion1
    namespaces: NamespaceService
    keys: DataKeyService
    encryption_key: EncryptionKeyService
    admin: SystemService
    tokens: TokenService
    token_registry: TokenRegistry
    approle: AppRoleAuth
    userpass: UserpassAuth
    rotation: RotationService
    transit: TransitService
    auth_methods: AuthMethodService
    jwt: JwtAuth
    kubernetes: KubernetesAuth
    identity_tokens: OidcProvider
    identity: IdentityStore
    wrapping: WrappingService
    quotas: QuotaService
    aws_kms: KmsService
    aws_secrets: SecretsManagerService
    aws_ssm: SsmService
    aws_keys: AccessKeyRegistry
    aws_credentials: AwsCredentialService
    aws_lambdas: LambdaFunctions
    dev_reset: DevReset
    backup: BackupService
    limits: Limits
    pause_if_busy: Callable[[], None]  # long batch jobs yield to request traffic
