"""KMS key management: CreateKey, key policies, DescribeKey, ListKeys, enabling, deletion,
rotation, description and tags."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import replace

from strongroom.auth import Identity
from strongroom.compat.aws.kms.core import KmsCore
from strongroom.compat.aws.kms.errors import KmsError
from strongroom.compat.aws.kms.models import (
    AWS_KEY_SPECS,
    DAY,
    KEY_SPECS,
    MAX_KEYS_PER_REGION,
    KmsKey,
    default_key_policy,
    kms_namespace,
    parse_key_policy,
)
from strongroom.compat.aws.tags import retagged
from strongroom.policy.aws_documents import (
    Decision,
)
from strongroom.service.named_keys import NamedKey

__all__ = ["KeyManagement"]


class KeyManagement(KmsCore):
    # -- keys
    def create_key(
        self,
        identity: Identity,
        region: str,
        *,
        description: str = "",
        tags: Mapping[str, str] | None = None,
        key_spec: str = "SYMMETRIC_DEFAULT",
        key_usage: str | None = None,
        policy: str | None = None,
        bypass_lockout_check: bool = False,
        multi_region: bool = False,
    ) -> KmsKey:
        """A new key; ``multi_region``: a multi-Region primary key, whose id (``mrk-…``) its
        replicas in other regions share (replicas.py)."""
        self.check_region(region)
        identity.require("create", self._path(region, "keys"))
        if key_spec not in AWS_KEY_SPECS:
            raise KmsError(
                "ValidationException",
                f"1 validation error detected: Value '{key_spec}' at 'KeySpec' failed to satisfy "
                f"constraint: Member must satisfy enum value set: {sorted(AWS_KEY_SPECS)}",
            )
        if key_spec not in KEY_SPECS:
            raise KmsError(
                "UnsupportedOperationException",
                f"KeySpec {key_spec} is not supported here; use one of: {', '.join(KEY_SPECS)}.",
            )
        key_type, usages = KEY_SPECS[key_spec]
        usage = key_usage if key_usage is not None else next(iter(usages))
        if usage not in usages:
            raise KmsError(
                "ValidationException",
                f"KeySpec {key_spec} is for KeyUsage {' or '.join(usages)}, not {usage}.",
            )
        mount = kms_namespace(region)
        self._ensure_namespace(mount)
        if len(self._keys.names()) >= MAX_KEYS_PER_REGION:
            raise KmsError("LimitExceededException", "Too many keys in this region.")
        key_id = f"mrk-{uuid.uuid4().hex}" if multi_region else str(uuid.uuid4())
        now = self._clock.now()
        key = KmsKey(
            key_id,
            region,
            self._account(),
            now,
            description,
            tags=dict(tags or {}),
            key_spec=key_spec,
            key_usage=usage,
            multi_region=multi_region,
        )
        if policy is not None:
            key = replace(
                key, policy=self._checked_policy(identity, key, policy, bypass_lockout_check)
            )
        self._named.create(mount, NamedKey.create(key_id, key_type, now))
        self._keys.create(f"{region}/{key_id}", key)  # a new id: no other request has it
        return key

    # -- key policies
    def _checked_policy(self, identity: Identity, key: KmsKey, text: str, bypass: bool) -> str:
        """``text`` as the policy of ``key``, once it parses and, unless ``bypass``, still lets
        the caller put the key's policy (AWS's lockout safety check)."""
        document = parse_key_policy(text)
        if not bypass:
            request = self._policy_request(identity, key, "PutKeyPolicy", {})
            verdict = document.decide(request)
            may_sudo = identity.allows("sudo", self._path(key.region, "keys", key.key_id))
            if not (verdict is Decision.ALLOW or (verdict is Decision.ACCOUNT and may_sudo)):
                raise KmsError(
                    "MalformedPolicyDocumentException",
                    "The new key policy will not allow you to update the key policy in the future.",
                )
        return document.text

    def get_policy(
        self,
        identity: Identity,
        region: str,
        key_ref: str,
        name: str | None,
        action: str = "GetKeyPolicy",  # or ListKeyPolicies
    ) -> str:
        key = self._resolve(identity, region, key_ref, action)
        if name not in (None, "default"):
            raise KmsError("NotFoundException", f"No such policy: {name}; keys have 'default'.")
        return key.policy or default_key_policy(key.account)

    def put_policy(
        self,
        identity: Identity,
        region: str,
        key_ref: str,
        name: str | None,
        text: str,
        *,
        bypass_lockout_check: bool,
    ) -> None:
        """A new key policy; it needs ``sudo`` on the key (or the old policy naming the caller
        for kms:PutKeyPolicy), since a key policy grants what strongroom's policies do not."""
        key = self._resolve(identity, region, key_ref, "PutKeyPolicy")
        if name not in (None, "default"):
            raise KmsError("ValidationException", "PolicyName is 'default', the only one.")
        self._usable_or_disabled(key)
        checked = self._checked_policy(identity, key, text, bypass_lockout_check)
        self._change(key, lambda current: replace(current, policy=checked))

    def describe(
        self, identity: Identity, region: str, key_ref: str, action: str = "DescribeKey"
    ) -> KmsKey:
        """The key, for DescribeKey or another action that shows what it describes
        (GetKeyRotationStatus, ListResourceTags), each authorized under its own name."""
        return self._resolve(identity, region, key_ref, action)

    def list_keys(self, identity: Identity, region: str) -> list[KmsKey]:
        self.check_region(region)
        identity.require("list", self._path(region, "keys"))
        keys = []
        for name in sorted(self._keys.names()):
            key_region, _, key_id = name.partition("/")
            if key_region == region:
                try:
                    keys.append(self._load(region, key_id))
                except KmsError:
                    continue  # its deletion date passed
        return sorted(keys, key=lambda k: k.key_id)

    def latest_version(self, key: KmsKey) -> int:
        return self._material(key)[0]

    def set_enabled(self, identity: Identity, region: str, key_ref: str, enabled: bool) -> None:
        key = self._resolve(identity, region, key_ref, "EnableKey" if enabled else "DisableKey")
        state = "Enabled" if enabled else "Disabled"

        def set_state(current: KmsKey) -> KmsKey:
            self._usable_or_disabled(current)
            return replace(current, state=state)

        self._change(key, set_state)

    def schedule_deletion(self, identity: Identity, region: str, key_ref: str, days: int) -> KmsKey:
        key = self._resolve(identity, region, key_ref, "ScheduleKeyDeletion")
        if not 7 <= days <= 30:
            raise KmsError(
                "ValidationException",
                f"1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed "
                "to satisfy constraint: Member must have value between 7 and 30",
            )
        when = self._clock.now() + days * DAY

        def schedule(current: KmsKey) -> KmsKey:
            self._usable_or_disabled(current)
            if current.replica_regions:
                raise KmsError(
                    "KMSInvalidStateException",
                    f"{current.arn} is a multi-Region primary key with replicas in "
                    f"{', '.join(current.replica_regions)}: schedule their deletion first.",
                )
            return replace(
                current, state="PendingDeletion", deletion_date=when, pending_window_days=days
            )

        return self._change(key, schedule)

    def cancel_deletion(self, identity: Identity, region: str, key_ref: str) -> KmsKey:
        key = self._resolve(identity, region, key_ref, "CancelKeyDeletion")

        def cancel(current: KmsKey) -> KmsKey:
            if current.state != "PendingDeletion":
                raise KmsError("KMSInvalidStateException", f"{key.arn} is not pending deletion.")
            # AWS leaves a key whose deletion was cancelled disabled
            return replace(current, state="Disabled", deletion_date=0.0, pending_window_days=0)

        return self._change(key, cancel)

    # -- rotation
    def set_rotation(
        self, identity: Identity, region: str, key_ref: str, period_days: int | None
    ) -> None:
        """Automatic rotation every ``period_days`` (90-2560), or off (None). The scheduler
        rotates named keys whose period has passed (compat/vault/transit/keys.py: rotate_due)."""
        action = "EnableKeyRotation" if period_days else "DisableKeyRotation"
        key = self._resolve(identity, region, key_ref, action)
        self._not_a_replica(key, action)
        if key.key_spec != "SYMMETRIC_DEFAULT":
            raise KmsError(
                "UnsupportedOperationException",
                f"{key.arn} is not a symmetric encryption key: it has no automatic rotation.",
            )
        self._usable(key)
        if period_days is not None and not 90 <= period_days <= 2560:
            raise KmsError(
                "ValidationException",
                f"1 validation error detected: Value '{period_days}' at 'rotationPeriodInDays' "
                "failed to satisfy constraint: Member must have value between 90 and 2560",
            )
        seconds = float(period_days or 0) * DAY
        self._named.change(
            kms_namespace(key.home_region),
            key.key_id,
            lambda named: replace(named, auto_rotate_period=seconds),
        )

    def rotate_now(self, identity: Identity, region: str, key_ref: str) -> KmsKey:
        key = self._resolve(identity, region, key_ref, "RotateKeyOnDemand")
        self._not_a_replica(key, "RotateKeyOnDemand")
        if key.key_spec != "SYMMETRIC_DEFAULT":
            raise KmsError(
                "UnsupportedOperationException",
                f"{key.arn} is not a symmetric encryption key: it cannot be rotated on demand.",
            )
        self._usable(key)
        now = self._clock.now()
        self._named.change(
            kms_namespace(key.home_region), key.key_id, lambda named: named.rotated(now)
        )
        return self._change(
            key,
            lambda current: replace(
                current, on_demand_rotations=(*current.on_demand_rotations, now)
            ),
        )

    def rotations(self, identity: Identity, region: str, key_ref: str) -> list[tuple[float, str]]:
        """(date, ON_DEMAND | AUTOMATIC) of every rotation, oldest first."""
        key = self._resolve(identity, region, key_ref, "ListKeyRotations")
        named = self._named.require(kms_namespace(key.home_region), key.key_id)
        primary = self._keys.get(f"{key.home_region}/{key.key_id}") or key  # a replica's
        on_demand = set(primary.on_demand_rotations)
        return [
            (v.created, "ON_DEMAND" if v.created in on_demand else "AUTOMATIC")
            for n, v in sorted(named.versions.items())
            if n > 1
        ]

    def rotation_period(self, key: KmsKey) -> int:
        """Days between automatic rotations (0: off), as the key's named key has it: the one
        place the period is kept, and the one the scheduler reads."""
        named = self._named.require(kms_namespace(key.home_region), key.key_id)
        return round(named.auto_rotate_period / DAY)

    def next_rotation(self, key: KmsKey) -> float | None:
        named = self._named.require(kms_namespace(key.home_region), key.key_id)
        if not named.auto_rotate_period:
            return None
        return named.versions[named.latest_version].created + named.auto_rotate_period

    # -- tags
    def describe_as(self, identity: Identity, region: str, key_ref: str, description: str) -> None:
        """UpdateKeyDescription."""
        key = self._resolve(identity, region, key_ref, "UpdateKeyDescription")
        self._usable_or_disabled(key)
        self._change(key, lambda current: replace(current, description=description))

    def tag(self, identity: Identity, region: str, key_ref: str, tags: Mapping[str, str]) -> None:
        key = self._resolve(identity, region, key_ref, "TagResource")
        for name in tags:
            if name.startswith("aws:"):
                raise KmsError("TagException", "Tags beginning with aws: are reserved")

        def tag(current: KmsKey) -> KmsKey:
            return replace(current, tags=dict(retagged(current.tags, tags, [], _too_many)))

        self._change(key, tag)

    def untag(self, identity: Identity, region: str, key_ref: str, names: list[str]) -> None:
        key = self._resolve(identity, region, key_ref, "UntagResource")

        def untag(current: KmsKey) -> KmsKey:
            return replace(current, tags=dict(retagged(current.tags, {}, names, _too_many)))

        self._change(key, untag)


def _too_many() -> KmsError:
    return KmsError("TagException", "Too many tags")
