"""What Secrets Manager adds to a strongroom secret (``SmSecret``, one record per secret), and a
value in Secrets Manager's two forms (``StoredValue``)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Protocol

import orjson

from strongroom.auth import Identity
from strongroom.compat.aws.secretsmanager.errors import SecretsManagerError
from strongroom.compat.aws.stored_values import binary_value
from strongroom.results import RotationStatus, RunResult
from strongroom.types import SecretData

__all__ = [
    "CONDITION_KEYS",
    "DAY",
    "MAX_CUSTOM_STAGES",
    "MAX_RESOURCE_POLICY",
    "MAX_TOKENS",
    "NAME",
    "RECORD_KIND",
    "STAGES",
    "TOKEN",
    "VERSION_NAMESPACE",
    "ListedVersion",
    "Rotations",
    "SmSecret",
    "StoredValue",
    "new_suffix",
    "secrets_namespace",
]

RECORD_KIND = "aws-secret"
MAX_TOKENS = 100  # ClientRequestTokens remembered per secret
MAX_CUSTOM_STAGES = 20  # per secret, beside those that are strongroom labels
MAX_RESOURCE_POLICY = 20_480  # characters, as botocore's model
# the condition keys a resource policy may test (policy/aws_documents.py)
CONDITION_KEYS = (
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "secretsmanager:SecretId",
    "secretsmanager:VersionId",
    "secretsmanager:VersionStage",
    "secretsmanager:ResourceTag/",
    "aws:ResourceTag/",
)
NAME = re.compile(r"^[A-Za-z0-9/_+=.@!-]{1,512}$")
TOKEN = re.compile(r"^[A-Za-z0-9-]{32,64}$")
DAY = 86_400.0
VERSION_NAMESPACE = uuid.UUID("9d5c1f0e-7b2a-4c3e-8f61-2a4b5c6d7e8f")
STAGES = {"AWSCURRENT": "current", "AWSPREVIOUS": "previous", "AWSPENDING": "pending"}


def secrets_namespace(region: str) -> str:
    return f"aws-{region}"


@dataclass(frozen=True)
class StoredValue:
    """A secret value as Secrets Manager returns it: exactly one of the two is set."""

    string: str | None = field(default=None, repr=False)
    binary: bytes | None = field(default=None, repr=False)

    def data(self) -> Mapping[str, str]:
        if self.binary is not None:
            return {"SecretBinary": base64.b64encode(self.binary).decode()}
        return {"SecretString": self.string or ""}

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.data(), sort_keys=True).encode()).hexdigest()

    @classmethod
    def of(cls, data: SecretData) -> StoredValue:
        if isinstance(data, dict) and set(data) == {"SecretString"}:
            return cls(string=str(data["SecretString"]))
        if isinstance(data, dict) and set(data) == {"SecretBinary"}:
            binary = binary_value(data["SecretBinary"])
            if binary is None:  # stored before writes were checked: this version fails alone
                raise SecretsManagerError(
                    "DecryptionFailure",
                    "This version's stored SecretBinary is not base64, so it cannot be read; "
                    "put a new version of the secret.",
                )
            return cls(binary=binary)
        return cls(string=json.dumps(data, separators=(",", ":"), sort_keys=True))


@dataclass(frozen=True)
class ListedVersion:
    """A version as ListSecretVersionIds shows it (no stage: a deprecated version)."""

    number: int
    created: float
    stages: tuple[str, ...]


@dataclass
class SmSecret:
    """What Secrets Manager adds to a strongroom secret."""

    name: str
    region: str
    account: str
    suffix: str
    created: float
    description: str = ""
    kms_key_id: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    deletion_date: float = 0.0
    # token -> [version, digest of the value]: a digest is no value, and still kept from reprs
    tokens: dict[str, list[Any]] = field(default_factory=dict, repr=False)
    last_changed: float = 0.0
    last_accessed: float = 0.0
    rotation_lambda_arn: str = ""
    rotation_days: int = 0  # AutomaticallyAfterDays; 0 with a schedule, or with rotation off
    rotation_schedule: str = ""  # ScheduleExpression, as given: rate(…) or cron(…)
    rotation_duration: str = ""  # Duration, as given (shown; a rotation runs at its start)
    rotation_cancelled: bool = False  # shown as RotationEnabled false, as AWS shows it
    tagged: bool = False  # ever tagged: Tags is shown, [] once the last tag is removed, as AWS
    # custom stages that are no strongroom label ("Blue", "current"): stage -> version
    custom_stages: dict[str, int] = field(default_factory=dict)
    primary_region: str = ""  # a replica's: its values, stages and metadata are the primary's
    replicas: dict[str, str] = field(default_factory=dict)  # a primary's: region -> KmsKeyId

    @property
    def rotation_enabled(self) -> bool:
        return bool(self.rotation_days or self.rotation_schedule)

    resource_policy: str = field(default="", repr=False)

    def as_replica(self, replica: SmSecret) -> SmSecret:
        """This primary seen through ``replica``, in the replica's region (its ARN, its
        KmsKeyId), every other field the primary's."""
        return replace(
            self,
            region=replica.region,
            primary_region=self.region,
            kms_key_id=replica.kms_key_id or self.kms_key_id,
        )

    @property
    def arn(self) -> str:
        """The secret's ARN (a partial one, without the suffix, for a secret never made)."""
        tail = f"{self.name}-{self.suffix}" if self.suffix else self.name
        return f"arn:aws:secretsmanager:{self.region}:{self.account}:secret:{tail}"

    def remember(self, token: str, version: int, digest: str) -> None:
        """The version a ClientRequestToken wrote; the newest MAX_TOKENS are kept (older
        versions are pruned by then, and their ids become the derived ones)."""
        self.tokens[token] = [version, digest]
        if len(self.tokens) > MAX_TOKENS:
            oldest = sorted(self.tokens, key=lambda t: int(self.tokens[t][0]))
            for stale in oldest[: len(self.tokens) - MAX_TOKENS]:
                del self.tokens[stale]

    @property
    def home_region(self) -> str:
        """Where the secret's values live: its own region, or a replica's primary's."""
        return self.primary_region or self.region

    def _derived_prefix(self) -> str:
        return str(uuid.uuid5(VERSION_NAMESPACE, f"{self.home_region}/{self.name}"))[:24]

    def version_id(self, number: int) -> str:
        """The ClientRequestToken the version was written with; for a version written through
        another surface, an id in UUID form derived from the secret and ending in the number."""
        for token, (version, _) in self.tokens.items():
            if version == number:
                return token
        return f"{self._derived_prefix()}{number:012x}"

    def version_of(self, version_id: str) -> int | None:
        entry = self.tokens.get(version_id)
        if entry is not None:
            return int(entry[0])
        prefix, number = version_id[:24], version_id[24:]
        if prefix != self._derived_prefix() or len(number) != 12:
            return None
        try:
            return int(number, 16) or None
        except ValueError:
            return None

    def encode(self) -> bytes:
        return json.dumps(self.__dict__, sort_keys=True).encode()

    @classmethod
    def decode(cls, raw: bytes) -> SmSecret:
        # orjson: GetSecretValue decodes the record on every call (half the time of json's)
        doc = orjson.loads(raw)
        if isinstance(doc, dict) and doc.keys() == _SM_FIELDS:
            # Every field and nothing else (as encode writes them): set directly, at a sixth of
            # __init__'s cost. An older record, without the fields added since, goes through
            # __init__ for their defaults.
            found = object.__new__(cls)
            found.__dict__.update(doc)
            return found
        return cls(**doc)


_SM_FIELDS = frozenset(f.name for f in fields(SmSecret))


class Rotations(Protocol):
    """What RotateSecret needs of strongroom's rotation engine (rotation/engine.py)."""

    def configure(
        self,
        identity: Identity,
        namespace: str,
        path: str,
        *,
        rotator: str,
        interval: float | None = None,
        cron: str | None = None,
        params: Mapping[str, str] | None = None,
    ) -> RotationStatus: ...

    def running_token(self, namespace: str, path: str) -> str | None: ...

    def rotate_now(
        self, identity: Identity, namespace: str, path: str, token: str | None = None
    ) -> RunResult: ...

    def cancel(self, identity: Identity, namespace: str, path: str) -> bool: ...

    def remove(self, identity: Identity, namespace: str, path: str) -> None: ...

    def status(self, identity: Identity, namespace: str, path: str) -> RotationStatus: ...

    def knows(self, rotator: str) -> bool: ...


def new_suffix() -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(6))
