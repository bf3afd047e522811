"""Multi-Region KMS keys: ReplicateKey, as views of one data model.

A multi-Region key (``CreateKey`` with ``MultiRegion``) has an id of the form ``mrk-…`` that its
replicas share. A replica is a key record in its own region naming its primary's region: its
description, tags, key policy and enabled state are its own (as on AWS); its material and its
rotation are the primary's, read from the primary's region, so a ciphertext made by either is
opened by the other and a rotation of the primary is every replica's at once. Rotation is set
through the primary (a replica refuses it); a primary with replicas is not deleted until they
are. Making a replica needs ``ReplicateKey`` on the primary (``update`` on its key path, and its
key policy) and ``create`` on ``aws-kms-B/keys`` in the replica's region B, as CreateKey there."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from strongroom.auth import Identity
from strongroom.compat.aws.kms.aliases import Aliases
from strongroom.compat.aws.kms.errors import KmsError
from strongroom.compat.aws.kms.models import MAX_KEYS_PER_REGION, KmsKey

__all__ = ["Replicas"]


class Replicas(Aliases):
    def replicate_key(
        self,
        identity: Identity,
        region: str,
        key_ref: str,
        replica_region: str,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        policy: str | None = None,
        bypass_lockout_check: bool = False,
    ) -> KmsKey:
        """The replica of the multi-Region primary ``key_ref`` made in ``replica_region``."""
        key = self._resolve(identity, region, key_ref, "ReplicateKey")
        if not key.multi_region:
            raise KmsError(
                "UnsupportedOperationException",
                f"{key.arn} is not a multi-Region key: only a multi-Region key is replicated.",
            )
        if key.primary_region:
            raise KmsError(
                "UnsupportedOperationException",
                f"{key.arn} is a replica key: replicate its primary key in {key.primary_region}.",
            )
        self.check_region(replica_region)
        if replica_region == region:
            raise KmsError("ValidationException", f"The replica region must differ from {region}.")
        identity.require("create", self._path(replica_region, "keys"))
        self._usable_or_disabled(key)

        def listed(current: KmsKey) -> KmsKey:
            regions = tuple(sorted({*current.replica_regions, replica_region}))
            return replace(current, replica_regions=regions)

        there = self._keys.get(f"{replica_region}/{key.key_id}")
        if there is not None:
            if there.primary_region == region and replica_region not in key.replica_regions:
                self._change(key, listed)  # made by a request that died before listing it
                return there
            raise KmsError(
                "AlreadyExistsException",
                f"{key.arn_in(replica_region)} already exists.",
            )
        if len(self._keys.names()) >= MAX_KEYS_PER_REGION:
            raise KmsError("LimitExceededException", "Too many keys in this region.")
        replica = KmsKey(
            key.key_id,
            replica_region,
            key.account,
            self._clock.now(),
            description if description is not None else key.description,
            tags=dict(tags or {}),
            key_spec=key.key_spec,
            key_usage=key.key_usage,
            multi_region=True,
            primary_region=region,
        )
        if policy is not None:
            checked = self._checked_policy(identity, replica, policy, bypass_lockout_check)
            replica = replace(replica, policy=checked)
        if not self._keys.create(f"{replica_region}/{key.key_id}", replica):
            raise KmsError(
                "AlreadyExistsException", f"{key.arn_in(replica_region)} already exists."
            )

        self._change(key, listed)
        return replica

    def primary_of(self, key: KmsKey) -> KmsKey | None:
        """A multi-Region key's primary (itself, for the primary), for DescribeKey."""
        if not key.multi_region:
            return None
        if not key.primary_region:
            return key
        return self._keys.get(f"{key.primary_region}/{key.key_id}")
