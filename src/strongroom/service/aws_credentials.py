"""Issuing and revoking the AWS access keys callers sign AWS API requests with: ``sudo`` on
``sys/aws/credentials``. A key carries strongroom policies; its holder gets exactly what those
policies grant, on every AWS service (docs/compat-aws.md). As with tokens, a caller can give a
key only policies it holds itself (root: any, ``root`` included)."""

from __future__ import annotations

from collections.abc import Sequence

from strongroom.auth.aws_keys import AccessKey, AccessKeyRegistry
from strongroom.auth.identity import Identity
from strongroom.errors import AccessDenied, BadRequest
from strongroom.policy.parse import assignable_policies
from strongroom.policy.store import PolicyStore

__all__ = ["AwsCredentialService"]

_PATH = "sys/aws/credentials"


class AwsCredentialService:
    def __init__(self, registry: AccessKeyRegistry, policies: PolicyStore) -> None:
        self._registry = registry
        self._policies = policies

    def create(self, identity: Identity, policies: Sequence[str], display_name: str) -> AccessKey:
        identity.require("sudo", _PATH)
        assignable_policies(policies)
        if not identity.root:
            # The token-creation rule: a key carries only policies its maker holds.
            if "root" in policies:
                raise AccessDenied("only a root token can issue an access key with root")
            extra = sorted(set(policies) - set(identity.policies))
            if extra:
                raise AccessDenied(
                    "an access key can only carry policies you hold; not held: " + ", ".join(extra)
                )
        unknown = [p for p in policies if p != "root" and not self._policies.exists(p)]
        if unknown:
            raise BadRequest(
                f"no policy {unknown[0]!r}; write it first: strongroom policy write NAME FILE"
            )
        return self._registry.create(tuple(policies), display_name)

    def list(self, identity: Identity) -> list[AccessKey]:
        identity.require("sudo", _PATH)
        return self._registry.list()

    def revoke(self, identity: Identity, access_key_id: str) -> None:
        identity.require("sudo", _PATH)
        self._registry.revoke(access_key_id)
