"""What a tune changed on a mount (Vault's ``sys/mounts/:path/tune`` and ``sys/auth/:path/tune``):
its default and maximum lease TTLs and its description.

An auth method's TTLs bound the tokens its logins issue (a role's own TTLs come first, within the
mount's maximum); a KV version 1 mount's default is the lease its reads report. A TTL of 0 is
the system's: 768 hours each, as Vault's. A mount's tuning goes with the mount: disabling it
forgets what was tuned."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace

from strongroom.durations import parse_duration
from strongroom.errors import BadRequest
from strongroom.store.protocol import Store
from strongroom.store.records import Records

__all__ = [
    "MAX_TUNED_DESCRIPTION",
    "SYSTEM_DEFAULT_TTL",
    "SYSTEM_MAX_TTL",
    "MountTuning",
    "MountTunings",
    "TuneRequest",
    "auth_mount_key",
    "secrets_mount_key",
]

SYSTEM_DEFAULT_TTL = 32 * 24 * 3600.0  # Vault's 768h
SYSTEM_MAX_TTL = 32 * 24 * 3600.0
MAX_TUNED_DESCRIPTION = 1024
_KIND = "mount-tuning"


def auth_mount_key(path: str) -> str:
    return f"auth/{path.strip('/')}"


def secrets_mount_key(name: str) -> str:
    return f"mounts/{name.strip('/')}"


@dataclass(frozen=True)
class MountTuning:
    default_lease_ttl: float = 0.0  # 0: the system's
    max_lease_ttl: float = 0.0
    description: str | None = None  # None: as the mount was enabled

    @property
    def default_ttl(self) -> float:
        return self.default_lease_ttl or SYSTEM_DEFAULT_TTL

    @property
    def max_ttl(self) -> float:
        return self.max_lease_ttl or SYSTEM_MAX_TTL

    def encode(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def decode(cls, raw: bytes) -> MountTuning:
        doc = json.loads(raw)
        description = doc.get("description")
        return cls(
            float(doc.get("default_lease_ttl", 0)),
            float(doc.get("max_lease_ttl", 0)),
            description if isinstance(description, str) else None,
        )


def _ttl(value: object, name: str) -> float | None:
    """Vault's forms: seconds, a duration ("1h"), or "system" for the system's (0)."""
    if isinstance(value, str) and value.strip() == "system":
        return 0.0
    return parse_duration(value, name)


@dataclass(frozen=True)
class TuneRequest:
    """What a tune asks to change; None leaves a field as it is."""

    default_lease_ttl: float | None = None
    max_lease_ttl: float | None = None
    description: str | None = None

    @classmethod
    def parse(cls, doc: Mapping[str, object]) -> TuneRequest:
        description = doc.get("description")
        if description is not None and (
            not isinstance(description, str) or len(description) > MAX_TUNED_DESCRIPTION
        ):
            raise BadRequest(f"description is text of at most {MAX_TUNED_DESCRIPTION} characters")
        return cls(
            _ttl(doc.get("default_lease_ttl"), "default_lease_ttl"),
            _ttl(doc.get("max_lease_ttl"), "max_lease_ttl"),
            description,
        )

    def applied_to(self, current: MountTuning) -> MountTuning:
        tuned = replace(
            current,
            default_lease_ttl=_keep(self.default_lease_ttl, current.default_lease_ttl),
            max_lease_ttl=_keep(self.max_lease_ttl, current.max_lease_ttl),
            description=current.description if self.description is None else self.description,
        )
        if tuned.default_ttl > tuned.max_ttl:
            raise BadRequest(  # Vault's words
                f"backend max lease TTL of {int(tuned.max_ttl)} would be less than backend "
                f"default lease TTL of {int(tuned.default_ttl)}"
            )
        return tuned


def _keep(wanted: float | None, current: float) -> float:
    return current if wanted is None else wanted


class MountTunings:
    """Each mount's tuning, by ``auth_mount_key`` or ``secrets_mount_key``."""

    def __init__(self, store: Store) -> None:
        self._records = Records(store, _KIND, MountTuning.decode, MountTuning.encode)

    def of(self, key: str) -> MountTuning:
        return self._records.get(key) or MountTuning()

    def of_token_path(self, path: str) -> MountTuning:
        """The tuning of the auth method a token was issued through (``auth/<mount>/…``)."""
        parts = path.split("/", 2)
        if len(parts) < 2 or parts[0] != "auth" or not parts[1]:
            return MountTuning()
        return self.of(auth_mount_key(parts[1]))

    def tune(self, key: str, request: TuneRequest) -> MountTuning:
        return self._records.change(key, lambda now: request.applied_to(now or MountTuning()))

    def forget(self, key: str) -> None:
        self._records.delete(key)
