"""A secret's resource policy: GetResourcePolicy, PutResourcePolicy, DeleteResourcePolicy and
ValidateResourcePolicy (the policy is enforced by ``SecretsCore._authorized``)."""

from __future__ import annotations

from strongroom.auth import Identity
from strongroom.compat.aws.secretsmanager.core import SecretsCore
from strongroom.compat.aws.secretsmanager.errors import SecretsManagerError
from strongroom.compat.aws.secretsmanager.models import SmSecret
from strongroom.policy.aws_documents import Decision

__all__ = ["ResourcePolicies"]


class ResourcePolicies(SecretsCore):
    def get_resource_policy(self, identity: Identity, region: str, secret_id: str) -> SmSecret:
        name = self._name_of(region, secret_id)
        record, grant = self._authorized(identity, region, name, "GetResourcePolicy")
        return self._load(region, name, grant, deleted_ok=True, record=record)

    def put_resource_policy(
        self, identity: Identity, region: str, secret_id: str, text: str, *, block: bool
    ) -> SmSecret:
        """Attach ``text``; it needs ``sudo`` on the secret's metadata, since a resource policy
        can grant what strongroom's policies do not. ``block`` refuses one open to anyone."""
        name = self._name_of(region, secret_id)
        record, grant = self._authorized(identity, region, name, "PutResourcePolicy")
        document = self.parse_policy(text)
        if block and document.broad():
            raise SecretsManagerError(
                "PublicPolicyException",
                "You can't apply a resource-based policy that allows any principal access to "
                "the secret while BlockPublicPolicy is set.",
            )
        found = self._load(region, name, grant, record=record)

        def attach(secret: SmSecret) -> None:
            secret.resource_policy = document.text

        self._change(found, attach)
        return found

    def delete_resource_policy(self, identity: Identity, region: str, secret_id: str) -> SmSecret:
        name = self._name_of(region, secret_id)
        record, grant = self._authorized(identity, region, name, "DeleteResourcePolicy")
        found = self._load(region, name, grant, record=record)

        def detach(secret: SmSecret) -> None:
            secret.resource_policy = ""

        self._change(found, detach)
        return found

    def validate_resource_policy(
        self, identity: Identity, region: str, secret_id: str | None, text: str
    ) -> list[tuple[str, str]]:
        """(check, message) for each problem of ``text`` as a policy of the secret: one open to
        anyone, or one that would refuse the caller the right to change it again. A document
        outside the language is MalformedPolicyDocumentException."""
        found = None
        if secret_id is not None:
            name = self._name_of(region, secret_id)
            record, grant = self._authorized(identity, region, name, "ValidateResourcePolicy")
            found = self._load(region, name, grant, deleted_ok=True, record=record)
        document = self.parse_policy(text)
        problems = []
        if document.broad():
            problems.append(
                ("BROAD_ACCESS", "The policy allows any principal access to the secret.")
            )
        if found is not None:
            for action in ("PutResourcePolicy", "DeleteResourcePolicy"):
                request = self._policy_request(identity, found, action, {})
                if document.decide(request) is Decision.DENY:
                    problems.append(
                        (
                            "LOCKOUT",
                            f"The policy denies you secretsmanager:{action}, so you could not "
                            "change it again.",
                        )
                    )
        return problems
