"""What Secrets Manager tells of secrets without their values: DescribeSecret,
ListSecretVersionIds and ListSecrets (each secret the caller may see, a replica's as its
primary's, replication.py)."""

from __future__ import annotations

from strongroom.auth import Identity
from strongroom.compat.aws.secretsmanager.errors import SecretsManagerError
from strongroom.compat.aws.secretsmanager.models import ListedVersion, SmSecret, secrets_namespace
from strongroom.compat.aws.secretsmanager.stages import Stages
from strongroom.policy.grants import Grant, grant_listed

__all__ = ["Descriptions"]


class Descriptions(Stages):
    def describe(
        self, identity: Identity, region: str, secret_id: str, action: str = "DescribeSecret"
    ) -> tuple[SmSecret, Grant]:
        """The secret's record, and the grant that lets the caller see its rows (stages)."""
        name = self._name_of(region, secret_id)
        record, grant = self._authorized(identity, region, name, action)
        return self._load(region, name, grant, deleted_ok=True, record=record), grant

    def versions(
        self, identity: Identity, region: str, secret_id: str
    ) -> tuple[SmSecret, list[ListedVersion]]:
        """The secret and its versions, newest first, each with its stages."""
        found, grant = self.describe(identity, region, secret_id, "ListSecretVersionIds")
        stages = self.stages(found, grant)
        listed = [v for v in self._rows.versions(grant) if not v.destroyed]
        return found, [
            ListedVersion(v.version, v.created_time, tuple(stages.get(v.version, ())))
            for v in sorted(listed, key=lambda v: v.version, reverse=True)
        ]

    def list_secrets(
        self, identity: Identity, region: str, *, include_deleted: bool = False
    ) -> list[tuple[SmSecret, Grant]]:
        """Each secret the caller may see, with the grant that lets it see the secret's rows."""
        namespace = secrets_namespace(region)
        names = {
            name
            for record in self._records.names()
            for record_region, _, name in [record.partition("/")]
            if record_region == region
        }
        after = ""
        while True:  # and those written through another surface, not seen here yet
            page = self._rows.names(namespace, after, 1000)
            names.update(page)
            if len(page) < 1000:
                break
            after = page[-1]
        found = []
        for name in sorted(names):
            record = self._record(region, name)
            home = secrets_namespace(record.home_region) if record is not None else namespace
            grant = grant_listed(identity, namespace, name, rows_in=home)
            if grant is None:
                continue
            try:
                loaded = self._load(region, name, grant, deleted_ok=include_deleted, record=record)
            except SecretsManagerError:
                continue
            found.append((loaded, grant))
        return found
