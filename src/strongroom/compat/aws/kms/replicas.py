"""Multi-Region KMS keys: ReplicateKey and UpdatePrimaryRegion, as views of one data model.

A multi-Region key (``CreateKey`` with ``MultiRegion``) has an id of the form ``mrk-…`` that its
replicas share. A replica is a key record in its own region naming its primary's region: its
description, tags, key policy and enabled state are its own (as on AWS); its material and its
rotation are the primary's, read from the primary's region, so a ciphertext made by either is
opened by the other and a rotation of the primary is every replica's at once. Rotation is set
through the primary (a replica refuses it); a primary with replicas is not deleted until they
are. Making a replica needs ``ReplicateKey`` on the primary (``update`` on its key path, and its
key policy) and ``create`` on ``aws-kms-B/keys`` in the replica's region B, as CreateKey there.
UpdatePrimaryRegion needs ``update`` on the key's path in both regions (and both key policies)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import replace

from strongroom.auth import Identity
from strongroom.compat.aws.kms.aliases import Aliases
from strongroom.compat.aws.kms.errors import KmsError
from strongroom.compat.aws.kms.models import MAX_KEYS_PER_REGION, KmsKey, kms_namespace
from strongroom.errors import StrongroomError
from strongroom.service.named_keys import NamedKey

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
        self._not_a_replica(key, "ReplicateKey")  # nor while its primary Region moves

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

    def update_primary_region(
        self, identity: Identity, region: str, key_ref: str, primary_region: str
    ) -> None:
        """Make the replica in ``primary_region`` the primary, and this primary its replica.

        The material moves with the primary: it is copied into the new primary's region (sealed
        under that region's keyring), every record is pointed there, and the copy left behind is
        removed. Blobs name no region, so every one made before opens after. While it moves the
        key is Updating: no rotation, replication or deletion; a move cut short is finished by
        calling again (each step can run twice)."""
        key = self._resolve(identity, region, key_ref, "UpdatePrimaryRegion")
        if not key.multi_region:
            raise KmsError("UnsupportedOperationException", f"{key.arn} is not a multi-Region key.")
        if key.primary_region:
            raise KmsError(
                "UnsupportedOperationException",
                f"{key.arn} is a replica key: call UpdatePrimaryRegion on its primary key in "
                f"{key.primary_region}.",
            )
        self.check_region(primary_region)
        if primary_region == region:
            raise KmsError("ValidationException", f"{key.arn} is already the primary key.")
        self._usable_or_disabled(key)
        target = self._resolve(identity, primary_region, key.key_id, "UpdatePrimaryRegion")
        if target.primary_region != region:
            raise self._missing(primary_region, key.key_id)
        self._usable_or_disabled(target)
        key = self._change(key, lambda current: replace(current, updating_to=primary_region))
        self._move_material(key, primary_region)
        others = tuple(r for r in key.replica_regions if r != primary_region)
        self._change(
            target,
            lambda current: replace(
                current,
                primary_region="",
                replica_regions=tuple(sorted({*others, region})),
                on_demand_rotations=key.on_demand_rotations,
            ),
        )
        for other in others:
            found = self._keys.get(f"{other}/{key.key_id}")
            if found is not None:
                self._change(found, lambda current: replace(current, primary_region=primary_region))
        self._move_material(key, primary_region)  # a rotation that raced the first copy
        self._change(
            key,
            lambda current: replace(
                current,
                primary_region=primary_region,
                replica_regions=(),
                updating_to="",
                on_demand_rotations=(),
            ),
        )
        # Done: the copy left behind is garbage now. If it cannot go, the move is still answered
        # done; the replica's deletion removes it (core.KmsCore._destroy).
        with contextlib.suppress(StrongroomError):
            self._named.delete(kms_namespace(region), key.key_id)

    def _move_material(self, key: KmsKey, to_region: str) -> None:
        """Every version of the key's material in ``to_region`` too (merged into a copy made
        before), and no more automatic rotation where it was: the copy rotates from now on."""
        here, there = kms_namespace(key.region), kms_namespace(to_region)
        source = self._named.require(here, key.key_id)
        self._ensure_namespace(there)
        if not self._named.create(there, source):

            def merged(current: NamedKey) -> NamedKey:
                versions = {**source.versions, **current.versions}
                latest = max(versions)
                return replace(current, versions=versions, latest_version=latest)

            self._named.change(there, key.key_id, merged)
        if source.auto_rotate_period:
            self._named.change(here, key.key_id, lambda named: replace(named, auto_rotate_period=0))

    def primary_of(self, key: KmsKey) -> KmsKey | None:
        """A multi-Region key's primary (itself, for the primary), for DescribeKey."""
        if not key.multi_region:
            return None
        if not key.primary_region:
            return key
        return self._keys.get(f"{key.primary_region}/{key.key_id}")
