"""AWS Secrets Manager as a view of strongroom's secrets (the AWS surface's ``secretsmanager``).

Where things live (per region, as in AWS; docs/compat-aws.md):

- a secret named ``N`` in region ``R`` is the KV v2 secret ``aws-R/N``: every version a strongroom
  version, readable through the native and Vault APIs and the CLI too. Its data is
  ``{"SecretString": s}`` or ``{"SecretBinary": base64}``, so both round-trip byte for byte; a
  secret written elsewhere with other fields reads here as the JSON of its data.
- ``AWSCURRENT``, ``AWSPREVIOUS`` and ``AWSPENDING`` are strongroom's ``current``, ``previous``
  and ``pending`` labels;
- what AWS adds (the ARN's suffix, description, tags, KMS key id, the scheduled deletion, the
  ClientRequestToken of each version) is the record ``aws-secret`` ``R/N``, sealed by the store.

Access is the KV v2 policy map of the namespace ``aws-R``: GetSecretValue is ``read`` on
``aws-R/data/N``; CreateSecret and PutSecretValue ``create``/``update`` there; DescribeSecret and
ListSecretVersionIds ``read`` on ``aws-R/metadata/N``; UpdateSecret, tags and RestoreSecret
``update`` there; DeleteSecret ``delete`` there; ListSecrets shows what ``list``/``read`` on the
metadata (or ``read`` on the data) lets the caller see. A secret's resource policy is enforced on
top, as AWS combines it with IAM's (``_authorize``); a refusal has the same words whether the
secret exists or not."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from strongroom.auth import Identity
from strongroom.auth.aws_keys import principal_arn
from strongroom.clock import Clock
from strongroom.errors import AccessDenied, BadRequest, NotFound, SecretDeleted
from strongroom.paths import check_path
from strongroom.policy.aws_documents import (
    Decision,
    DocumentCache,
    PolicyDocument,
    PolicyDocumentError,
    PolicyRequest,
)
from strongroom.policy.kv import DATA, METADATA, kv_policy_path
from strongroom.service.aws_schedules import RotationSchedule, function_of
from strongroom.service.aws_stored_values import binary_value
from strongroom.service.secrets import SecretService
from strongroom.service.staging import check_label
from strongroom.store.protocol import SecretRecord, Store
from strongroom.types import SecretValue

__all__ = [
    "CONDITION_KEYS",
    "MAX_CUSTOM_STAGES",
    "MAX_RESOURCE_POLICY",
    "MAX_TOKENS",
    "RECORD_KIND",
    "Rotations",
    "SecretsManagerError",
    "SecretsManagerService",
    "SmSecret",
    "StoredValue",
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
_NAME = re.compile(r"^[A-Za-z0-9/_+=.@!-]{1,512}$")
_TOKEN = re.compile(r"^[A-Za-z0-9-]{32,64}$")
_DAY = 86_400.0
_VERSION_NAMESPACE = uuid.UUID("9d5c1f0e-7b2a-4c3e-8f61-2a4b5c6d7e8f")
_STAGES = {"AWSCURRENT": "current", "AWSPREVIOUS": "previous", "AWSPENDING": "pending"}
_MARKED = "You can't perform this operation on the secret because it was marked for deletion."


class SecretsManagerError(BadRequest):
    """An answer with Secrets Manager's own code."""

    def __init__(self, aws_code: str, message: str) -> None:
        super().__init__(message)
        self.aws_code = aws_code


class _Unread:
    """A record not read yet (``_load`` reads it)."""


_UNREAD = _Unread()


def _not_found(message: str = "Secrets Manager can't find the specified secret.") -> Exception:
    return SecretsManagerError("ResourceNotFoundException", message)


def secrets_namespace(region: str) -> str:
    return f"aws-{region}"


@dataclass(frozen=True)
class StoredValue:
    """A secret value as Secrets Manager returns it: exactly one of the two is set."""

    string: str | None = field(default=None, repr=False)
    binary: bytes | None = field(default=None, repr=False)

    def data(self) -> dict[str, str]:
        if self.binary is not None:
            return {"SecretBinary": base64.b64encode(self.binary).decode()}
        return {"SecretString": self.string or ""}

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.data(), sort_keys=True).encode()).hexdigest()

    @classmethod
    def of(cls, data: Any) -> StoredValue:
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

    @property
    def rotation_enabled(self) -> bool:
        return bool(self.rotation_days or self.rotation_schedule)

    resource_policy: str = field(default="", repr=False)

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

    def _derived_prefix(self) -> str:
        return str(uuid.uuid5(_VERSION_NAMESPACE, f"{self.region}/{self.name}"))[:24]

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
        return cls(**json.loads(raw))


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
        params: dict[str, Any] | None = None,
    ) -> object: ...

    def running_token(self, namespace: str, path: str) -> str | None: ...

    def rotate_now(
        self, identity: Identity, namespace: str, path: str, token: str | None = None
    ) -> Any: ...

    def cancel(self, identity: Identity, namespace: str, path: str) -> bool: ...

    def remove(self, identity: Identity, namespace: str, path: str) -> None: ...

    def status(self, identity: Identity, namespace: str, path: str) -> Any: ...

    def knows(self, rotator: str) -> bool: ...


class SecretsManagerService:
    def __init__(
        self,
        store: Store,
        secrets: SecretService,
        clock: Clock,
        account: Callable[[], str],
        ensure_namespace: Callable[[str], None],
        rotations: Callable[[], Rotations] | None = None,
        lambda_functions: Callable[[str], bool] = lambda name: False,
    ) -> None:
        self._store = store
        self._secrets = secrets
        self._clock = clock
        self._account = account
        self._ensure_namespace = ensure_namespace
        self._rotations = rotations
        self._lambda_functions = lambda_functions
        self._documents = DocumentCache(self.parse_policy)

    # -- names
    def _check_name(self, name: object) -> str:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise SecretsManagerError(
                "ValidationException",
                "Invalid name. Must be a valid name containing alphanumeric characters, or any "
                "of the following: -/_+=.@!",
            )
        try:
            check_path(name)
        except BadRequest:
            raise SecretsManagerError(
                "ValidationException",
                "Invalid name: strongroom keeps secret names canonical (no leading, trailing "
                "or doubled '/', no '.' or '..' segment; docs/compat-aws.md).",
            ) from None
        return name

    def _name_of(self, region: str, secret_id: object) -> str:
        """The secret's name from a name, a full ARN or a partial ARN (without the suffix)."""
        if not isinstance(secret_id, str) or not 1 <= len(secret_id) <= 2048:
            raise SecretsManagerError("ValidationException", "SecretId must be 1-2048 characters.")
        prefix = f"arn:aws:secretsmanager:{region}:{self._account()}:secret:"
        if not secret_id.startswith("arn:"):
            return self._existing_name(secret_id)
        if not secret_id.startswith(prefix):
            raise _not_found()
        tail = secret_id[len(prefix) :]
        base, _, suffix = tail.rpartition("-")
        if base and len(suffix) == 6:
            raw = self._store.get_record(RECORD_KIND, f"{region}/{base}")
            if raw is not None and SmSecret.decode(raw).suffix == suffix:
                return base
        return self._existing_name(tail)

    def _existing_name(self, name: str) -> str:
        """A name a secret could have: one no secret can have is not found (it was never
        created), as AWS answers a SecretId it does not know."""
        try:
            return self._check_name(name)
        except SecretsManagerError:
            raise _not_found() from None

    def _path(self, region: str, area: str, name: str) -> str:
        return kv_policy_path(secrets_namespace(region), area, name)

    def _load(
        self,
        region: str,
        name: str,
        *,
        deleted_ok: bool = False,
        record: SmSecret | _Unread | None = _UNREAD,
        before_write: Callable[[], None] = lambda: None,
    ) -> SmSecret:
        """The secret's record (``record``, when the caller read it already)."""
        if isinstance(record, _Unread):
            raw = self._store.get_record(RECORD_KIND, f"{region}/{name}")
            record = SmSecret.decode(raw) if raw is not None else None
        if record is None:
            if self._store.get_secret(secrets_namespace(region), name) is not None:
                before_write()
                return self._adopt(region, name)
            raise _not_found()
        found = record
        if found.deletion_date:
            if self._clock.now() >= found.deletion_date:
                before_write()
                self._purge(found)
                raise _not_found()
            if not deleted_ok:
                raise SecretsManagerError("InvalidRequestException", _MARKED)
        return found

    def _adopt(self, region: str, name: str) -> SmSecret:
        """A secret written through another surface, seen here first: it gets an ARN."""
        secret = self._store.get_secret(secrets_namespace(region), name)
        created = secret.created_time if secret else self._clock.now()
        found = SmSecret(name, region, self._account(), _suffix(), created, last_changed=created)
        self._store.replace_record(RECORD_KIND, f"{region}/{name}", None, found.encode())
        raw = self._store.get_record(RECORD_KIND, f"{region}/{name}")
        return SmSecret.decode(raw) if raw is not None else found

    def _exists_elsewhere(self, region: str, name: str) -> bool:
        """A secret with no record yet, written through another surface."""
        return self._store.get_secret(secrets_namespace(region), name) is not None

    def _save(self, found: SmSecret) -> None:
        self._store.put_record(RECORD_KIND, f"{found.region}/{found.name}", found.encode())

    def _purge(self, found: SmSecret) -> None:
        self._store.delete_secret(secrets_namespace(found.region), found.name)
        self._store.delete_record(RECORD_KIND, f"{found.region}/{found.name}")

    # -- access: strongroom's policies, with the secret's resource policy
    def _authorize(
        self,
        identity: Identity,
        region: str,
        name: str,
        action: str,
        allowed: bool,
        context: Mapping[str, str] | None = None,
    ) -> SmSecret | None:
        """Strongroom's own check (``allowed``) combined with the secret's resource policy as AWS
        combines an identity's policies with a resource's: a ``Deny`` there refuses, an ``Allow``
        naming the caller grants, else ``allowed`` decides. Returns the record it read, so the
        operation reads it once. A refusal has the same words whether the secret
        exists or not, and whatever refused it; they name the action, never the secret's resolved
        name (a name resolved from an ARN's suffix would tell whether the suffix was right)."""
        raw = self._store.get_record(RECORD_KIND, f"{region}/{name}")
        found = SmSecret.decode(raw) if raw is not None else None
        verdict = Decision.NONE
        if found is not None and found.resource_policy:
            request = self._policy_request(identity, found, action, context or {})
            verdict = self._documents.get(found.resource_policy).decide(request)
        if verdict is Decision.DENY or not (allowed or verdict is Decision.ALLOW):
            raise AccessDenied(
                f"permission denied: secretsmanager:{action} on this secret "
                "(docs/compat-aws.md lists the capability each action needs)"
            )
        return found

    def _policy_request(
        self, identity: Identity, found: SmSecret, action: str, context: Mapping[str, str]
    ) -> PolicyRequest:
        principal = principal_arn(identity, self._account())
        facts = {
            "aws:principalarn": (principal,),
            "aws:principalaccount": (found.account,),
            "secretsmanager:secretid": (found.arn,),
            **{f"secretsmanager:{k.lower()}": (v,) for k, v in context.items()},
        }
        for tag, value in found.tags.items():
            facts[f"aws:resourcetag/{tag.lower()}"] = (value,)
            facts[f"secretsmanager:resourcetag/{tag.lower()}"] = (value,)
        return PolicyRequest(principal, found.account, f"secretsmanager:{action}", found.arn, facts)

    @staticmethod
    def parse_policy(text: object) -> PolicyDocument:
        try:
            return PolicyDocument.parse(
                text,
                service="secretsmanager",
                max_chars=MAX_RESOURCE_POLICY,
                condition_keys=CONDITION_KEYS,
            )
        except PolicyDocumentError as exc:
            raise SecretsManagerError("MalformedPolicyDocumentException", exc.message) from None

    def _metadata_check(
        self, identity: Identity, region: str, name: str, action: str, capability: str
    ) -> SmSecret | None:
        path = self._path(region, METADATA, name)
        allowed = identity.allows(capability, path)
        return self._authorize(identity, region, name, action, allowed)

    # -- resource policies
    def get_resource_policy(self, identity: Identity, region: str, secret_id: object) -> SmSecret:
        name = self._name_of(region, secret_id)
        record = self._metadata_check(identity, region, name, "GetResourcePolicy", "read")
        return self._load(region, name, deleted_ok=True, record=record)

    def put_resource_policy(
        self, identity: Identity, region: str, secret_id: object, text: object, *, block: bool
    ) -> SmSecret:
        """Attach ``text``; it needs ``sudo`` on the secret's metadata, since a resource policy
        can grant what strongroom's policies do not. ``block`` refuses one open to anyone."""
        name = self._name_of(region, secret_id)
        record = self._metadata_check(identity, region, name, "PutResourcePolicy", "sudo")
        document = self.parse_policy(text)
        if block and document.broad():
            raise SecretsManagerError(
                "PublicPolicyException",
                "You can't apply a resource-based policy that allows any principal access to "
                "the secret while BlockPublicPolicy is set.",
            )
        found = self._load(region, name, record=record)
        found.resource_policy = document.text
        self._save(found)
        return found

    def delete_resource_policy(
        self, identity: Identity, region: str, secret_id: object
    ) -> SmSecret:
        name = self._name_of(region, secret_id)
        record = self._metadata_check(identity, region, name, "DeleteResourcePolicy", "sudo")
        found = self._load(region, name, record=record)
        found.resource_policy = ""
        self._save(found)
        return found

    def validate_resource_policy(
        self, identity: Identity, region: str, secret_id: object, text: object
    ) -> list[tuple[str, str]]:
        """(check, message) for each problem of ``text`` as a policy of the secret: one open to
        anyone, or one that would refuse the caller the right to change it again. A document
        outside the language is MalformedPolicyDocumentException."""
        found = None
        if secret_id is not None:
            name = self._name_of(region, secret_id)
            record = self._metadata_check(identity, region, name, "ValidateResourcePolicy", "sudo")
            found = self._load(region, name, deleted_ok=True, record=record)
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

    # -- values
    @staticmethod
    def value_of(string: object, binary: bytes | None) -> StoredValue | None:
        if string is not None and binary is not None:
            raise SecretsManagerError(
                "InvalidParameterException",
                "You can't specify both a binary secret value and a string secret value in the "
                "same secret.",
            )
        if binary is not None:
            return StoredValue(binary=binary)
        if string is not None:
            if not isinstance(string, str) or len(string.encode()) > 65536:
                raise SecretsManagerError(
                    "ValidationException", "SecretString must be at most 65,536 bytes."
                )
            return StoredValue(string=string)
        return None

    def _check_token(self, token: object) -> str:
        if token is None:
            return str(uuid.uuid4())
        if not isinstance(token, str) or not _TOKEN.fullmatch(token):
            raise SecretsManagerError(
                "ValidationException", "ClientRequestToken must be 32-64 letters, digits or '-'."
            )
        return token

    def _write(
        self, identity: Identity, found: SmSecret, value: StoredValue, token: str
    ) -> tuple[int, bool]:
        """(version, written): the version under ``token``; with a token already used for the
        same value, that version and nothing written (ClientRequestToken is idempotent)."""
        known = found.tokens.get(token)
        if known is not None:
            if known[1] != value.digest():
                raise SecretsManagerError(
                    "ResourceExistsException",
                    f"You can't use ClientRequestToken {token} because that value is already "
                    f"in use for a version of secret {found.arn}.",
                )
            return int(known[0]), False
        namespace = secrets_namespace(found.region)
        written = self._secrets.write_unchecked(namespace, found.name, value.data())
        found.remember(token, written.version, value.digest())
        found.last_changed = self._clock.now()
        self._save(found)
        return written.version, True

    # -- operations
    def create(
        self,
        identity: Identity,
        region: str,
        name: object,
        value: StoredValue | None,
        *,
        token: object = None,
        description: str = "",
        kms_key_id: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> tuple[SmSecret, int | None]:
        checked = self._check_name(name)
        namespace = secrets_namespace(region)
        if not identity.allows("create", self._path(region, DATA, checked)):
            raise AccessDenied(
                f"permission denied: create on {self._path(region, DATA, checked)!r}"
            )
        chosen = self._check_token(token)
        self._ensure_namespace(namespace)
        raw = self._store.get_record(RECORD_KIND, f"{region}/{checked}")
        if raw is not None or self._store.get_secret(namespace, checked) is not None:
            existing = SmSecret.decode(raw) if raw is not None else None
            if existing is not None and existing.deletion_date:
                raise SecretsManagerError(
                    "InvalidRequestException",
                    "You can't create this secret because a secret with this name is already "
                    "scheduled for deletion.",
                )
            if existing is not None and value is not None and chosen in existing.tokens:
                version, _ = self._write(identity, existing, value, chosen)
                return existing, version  # the same request again
            raise SecretsManagerError(
                "ResourceExistsException",
                f"The operation failed because the secret {checked} already exists.",
            )
        now = self._clock.now()
        found = SmSecret(
            checked,
            region,
            self._account(),
            _suffix(),
            now,
            description,
            kms_key_id,
            dict(tags or {}),
            last_changed=now,
            tagged=bool(tags),
        )
        if not self._store.replace_record(RECORD_KIND, f"{region}/{checked}", None, found.encode()):
            raise SecretsManagerError(
                "ResourceExistsException",
                f"The operation failed because the secret {checked} already exists.",
            )
        if value is None:
            return found, None
        version, _ = self._write(identity, found, value, chosen)
        return found, version

    def get_value(
        self,
        identity: Identity,
        region: str,
        secret_id: object,
        version_id: object = None,
        stage: object = None,
        before_write: Callable[[], None] = lambda: None,
    ) -> tuple[SmSecret, SecretValue, list[str]]:
        """(secret, value, its stages). Reads only, unless the secret must be adopted or
        purged: ``before_write`` is called first (a caller on the event loop moves to a
        thread)."""
        name = self._name_of(region, secret_id)
        namespace = secrets_namespace(region)
        if version_id is not None and not isinstance(version_id, str):
            raise SecretsManagerError("ValidationException", "VersionId is a string.")
        if stage is not None and not isinstance(stage, str):
            raise SecretsManagerError("ValidationException", "VersionStage is a string.")
        path = self._path(region, DATA, name)
        asked = {"VersionId": version_id, "VersionStage": stage}
        record = self._authorize(
            identity,
            region,
            name,
            "GetSecretValue",
            identity.allows("read", path),
            {k: v for k, v in asked.items() if v is not None},
        )
        found = self._load(region, name, record=record, before_write=before_write)
        if version_id is None and stage is None:  # the common read: one query
            try:
                value, secret = self._secrets.read_with_secret(namespace, name, None)
            except (NotFound, SecretDeleted):
                raise _not_found(
                    "Secrets Manager can't find the specified secret value for staging label: "
                    "AWSCURRENT"
                ) from None
            stages = self._stages_of(found, secret)
            return found, value, stages.get(value.metadata.version, [])
        stages = self.stages(found)
        number: int | None = None
        if version_id is not None:
            number = found.version_of(version_id)
            if number is None:
                raise _not_found(
                    "Secrets Manager can't find the specified secret value for VersionId: "
                    f"{version_id}"
                )
            if stage is not None and stage not in stages.get(number, []):
                raise SecretsManagerError(
                    "InvalidRequestException",
                    "You provided a VersionStage that is not associated to the provided VersionId.",
                )
        elif stage is not None:
            number = next((n for n, s in stages.items() if stage in s), None)
            if number is None:
                raise _not_found(
                    f"Secrets Manager can't find the specified secret value for staging label: "
                    f"{stage}"
                )
        else:
            number = next((n for n, s in stages.items() if "AWSCURRENT" in s), None)
            if number is None:
                raise _not_found(
                    "Secrets Manager can't find the specified secret value for staging label: "
                    "AWSCURRENT"
                )
        try:
            value = self._secrets.read_unchecked(namespace, name, number)
        except (NotFound, SecretDeleted):
            raise _not_found() from None
        return found, value, stages.get(number, [])

    def keys_in_memory(self, region: str) -> bool:
        return self._secrets.keys_in_memory(secrets_namespace(region))

    def stages(self, found: SmSecret) -> dict[int, list[str]]:
        """Version -> its Secrets Manager stages."""
        namespace = secrets_namespace(found.region)
        secret = self._store.get_secret(namespace, found.name)
        if secret is None:
            return {}
        return self._stages_of(found, secret)

    @staticmethod
    def _stages_of(found: SmSecret, secret: SecretRecord) -> dict[int, list[str]]:
        labels: dict[str, int] = dict(secret.settings.get("labels", {}))
        if "current" not in labels and secret.current_version:
            labels["current"] = secret.current_version
            if secret.current_version > 1 and "previous" not in labels:
                labels["previous"] = secret.current_version - 1
        by_version: dict[int, list[str]] = {}
        reverse = {v: k for k, v in _STAGES.items()}
        for label, version in sorted(labels.items()):
            by_version.setdefault(int(version), []).append(reverse.get(label, label))
        for stage, version in sorted(found.custom_stages.items()):
            by_version.setdefault(int(version), []).append(stage)
        return by_version

    def version_stages(self, found: SmSecret) -> dict[str, list[str]]:
        """VersionId -> stages, as DescribeSecret shows them. While a rotation waits for its
        function's createSecret to write the new value, the rotation's token is listed with
        AWSPENDING already, as AWS lists it (rotation functions check for it)."""
        staged = {found.version_id(n): s for n, s in sorted(self.stages(found).items())}
        token = None
        if found.rotation_enabled and self._rotations is not None:
            token = self._rotations().running_token(secrets_namespace(found.region), found.name)
        if token is not None and token not in staged:
            staged = {v: [s for s in stages if s != "AWSPENDING"] for v, stages in staged.items()}
            staged = {v: stages for v, stages in staged.items() if stages}
            staged[token] = ["AWSPENDING"]
        return staged

    def put_value(
        self,
        identity: Identity,
        region: str,
        secret_id: object,
        value: StoredValue,
        token: object,
        *,
        stages: object = None,
    ) -> tuple[SmSecret, int, list[str]]:
        """A new version and its stages: ``VersionStages`` (default [AWSCURRENT]), each moved
        to it from the version that had it. Without AWSCURRENT readers keep the current value
        ([AWSPENDING]: a rotation function's createSecret step), unless the secret had none:
        its first version is AWSCURRENT, as in AWS."""
        wanted = self._check_stages(stages)
        name = self._name_of(region, secret_id)
        record = self._authorize(
            identity,
            region,
            name,
            "PutSecretValue",
            self._may_write(identity, region, name),
        )
        found = self._load(region, name, record=record)
        self._ensure_labels(found)
        chosen = self._check_token(token)
        if wanted == ["AWSCURRENT"] or chosen in found.tokens:
            version, _ = self._write(identity, found, value, chosen)
            return found, version, self.stages(found).get(version, [])
        namespace = secrets_namespace(region)
        before = self._secrets.labels(namespace, name).get("labels", {})
        written = self._secrets.write_pending(namespace, name, value.data(), chosen)
        found.remember(chosen, written.version, value.digest())
        found.last_changed = self._clock.now()
        self._save(found)
        if "AWSPENDING" not in wanted:  # writing it pending moved AWSPENDING: back it goes
            self._secrets.move_label(namespace, name, "pending", before.get("pending"))
        if "current" not in before and "AWSCURRENT" not in wanted:
            wanted.append("AWSCURRENT")  # the first version is current
        for stage in wanted:
            if stage != "AWSPENDING":
                self._place_stage(found, stage, written.version)
        return found, written.version, wanted

    @staticmethod
    def _check_stages(stages: object) -> list[str]:
        if stages is None:
            return ["AWSCURRENT"]
        if (
            not isinstance(stages, list)
            or not 1 <= len(stages) <= 20
            or not all(
                isinstance(s, str) and 1 <= len(s) <= 256 and s.isprintable() for s in stages
            )
        ):
            raise SecretsManagerError(
                "ValidationException",
                "VersionStages is a list of 1 to 20 stages of 1-256 printable characters.",
            )
        return list(dict.fromkeys(stages))

    def _may_write(self, identity: Identity, region: str, name: str) -> bool:
        """Vault's rule for a new version: ``update``, or ``create`` while the secret has no
        value yet (CreateSecret without one)."""
        path = self._path(region, DATA, name)
        if identity.allows("update", path):
            return True
        namespace = secrets_namespace(region)
        return identity.allows("create", path) and self._store.get_secret(namespace, name) is None

    def _ensure_labels(self, found: SmSecret) -> None:
        """Give the secret explicit labels before a write, so the write moves AWSCURRENT and
        AWSPREVIOUS as Secrets Manager does (staging.py)."""
        namespace = secrets_namespace(found.region)
        secret = self._store.get_secret(namespace, found.name)
        if secret is not None and secret.current_version and "labels" not in secret.settings:
            self._secrets.promote(namespace, found.name, secret.current_version)

    def update(
        self,
        identity: Identity,
        region: str,
        secret_id: object,
        *,
        value: StoredValue | None,
        token: object,
        description: object = None,
        kms_key_id: object = None,
    ) -> tuple[SmSecret, int | None]:
        name = self._name_of(region, secret_id)
        metadata = self._path(region, METADATA, name)
        allowed = identity.allows("update", metadata) and (
            value is None or self._may_write(identity, region, name)
        )
        record = self._authorize(identity, region, name, "UpdateSecret", allowed)
        found = self._load(region, name, record=record)
        if description is not None:
            if not isinstance(description, str) or len(description) > 2048:
                raise SecretsManagerError(
                    "ValidationException", "Description is at most 2048 characters."
                )
            found.description = description
        if kms_key_id is not None:
            if not isinstance(kms_key_id, str):
                raise SecretsManagerError("ValidationException", "KmsKeyId is a string.")
            found.kms_key_id = kms_key_id
        self._save(found)
        if value is None:
            return found, None
        self._ensure_labels(found)
        version, _ = self._write(identity, found, value, self._check_token(token))
        return found, version

    def describe(
        self, identity: Identity, region: str, secret_id: object, action: str = "DescribeSecret"
    ) -> SmSecret:
        name = self._name_of(region, secret_id)
        record = self._metadata_check(identity, region, name, action, "read")
        return self._load(region, name, deleted_ok=True, record=record)

    def versions(
        self, identity: Identity, region: str, secret_id: object
    ) -> tuple[SmSecret, list[tuple[int, float]]]:
        found = self.describe(identity, region, secret_id, "ListSecretVersionIds")
        listed = self._store.list_versions(secrets_namespace(region), found.name)
        return found, [(v.version, v.created_time) for v in listed if not v.destroyed]

    def list_secrets(
        self, identity: Identity, region: str, *, include_deleted: bool = False
    ) -> list[SmSecret]:
        namespace = secrets_namespace(region)
        names = {
            name
            for record in self._store.list_records(RECORD_KIND)
            for record_region, _, name in [record.partition("/")]
            if record_region == region
        }
        after = ""
        while True:  # and those written through another surface, not seen here yet
            page = self._store.scan_secrets(namespace, after, 1000)
            names.update(secret.path for secret in page)
            if len(page) < 1000:
                break
            after = page[-1].path
        found = []
        for name in sorted(names):
            if not identity.can_see_secret(namespace, name):
                continue
            try:
                found.append(self._load(region, name, deleted_ok=include_deleted))
            except SecretsManagerError:
                continue
        return found

    def delete(
        self,
        identity: Identity,
        region: str,
        secret_id: object,
        *,
        window_days: int | None,
        force: bool,
    ) -> SmSecret:
        name = self._name_of(region, secret_id)
        record = self._metadata_check(identity, region, name, "DeleteSecret", "delete")
        days = 30 if window_days is None else window_days
        if not 7 <= days <= 30:
            raise SecretsManagerError(
                "InvalidParameterException",
                "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).",
            )
        if force and window_days is not None:
            raise SecretsManagerError(
                "InvalidParameterException",
                "You can't use ForceDeleteWithoutRecovery in conjunction with "
                "RecoveryWindowInDays.",
            )
        now = self._clock.now()
        if force and record is None and not self._exists_elsewhere(region, name):
            # AWS answers a forced deletion of a secret it does not know as done
            return SmSecret(name, region, self._account(), "", now, deletion_date=now)
        found = self._load(region, name, deleted_ok=True, record=record)
        if force:
            self._purge(found)
            found.deletion_date = now
            return found
        if found.deletion_date:
            raise SecretsManagerError("InvalidRequestException", _MARKED)
        found.deletion_date = now + days * _DAY
        self._save(found)
        return found

    def restore(self, identity: Identity, region: str, secret_id: object) -> SmSecret:
        name = self._name_of(region, secret_id)
        record = self._metadata_check(identity, region, name, "RestoreSecret", "update")
        found = self._load(region, name, deleted_ok=True, record=record)
        found.deletion_date = 0.0
        self._save(found)
        return found

    def move_stage(
        self,
        identity: Identity,
        region: str,
        secret_id: object,
        stage: object,
        *,
        remove_from: object = None,
        move_to: object = None,
    ) -> SmSecret:
        """UpdateSecretVersionStage: a stage moves to ``move_to`` (taken off ``remove_from``,
        which must be the version holding it), or comes off ``remove_from``. AWSCURRENT
        moving takes AWSPREVIOUS to the version it left. A custom stage whose name is a
        strongroom label (1-64 of a-z, 0-9, '-' and '_') is that label, seen by every surface;
        any other is kept in the secret's record (MAX_CUSTOM_STAGES of them)."""
        name = self._name_of(region, secret_id)
        record = self._metadata_check(identity, region, name, "UpdateSecretVersionStage", "update")
        if not isinstance(stage, str) or not 1 <= len(stage) <= 256 or not stage.isprintable():
            raise SecretsManagerError(
                "ValidationException", "VersionStage is 1-256 printable characters."
            )
        label = _STAGES.get(stage, stage)
        found = self._load(region, name, record=record)
        holder = next((n for n, s in self.stages(found).items() if stage in s), None)
        source = self._version_arg(found, remove_from, "RemoveFromVersionId")
        target = self._version_arg(found, move_to, "MoveToVersionId")
        if holder is not None and target is not None and source != holder:
            raise SecretsManagerError(
                "InvalidParameterException",
                "The parameter RemoveFromVersionId can't be empty. Staging label "
                f"{stage} is currently attached to version {found.version_id(holder)}, so you "
                "must explicitly reference that version in RemoveFromVersionId.",
            )
        if source is not None and holder != source:
            raise SecretsManagerError(
                "InvalidParameterException",
                f"The staging label {stage} is not attached to version {found.version_id(source)}.",
            )
        if target is None and label == "current":
            raise SecretsManagerError(
                "InvalidParameterException",
                "You can't remove the staging label AWSCURRENT; move it to another version.",
            )
        self._place_stage(found, stage, target)
        return found

    def _place_stage(self, found: SmSecret, stage: str, target: int | None) -> None:
        """Put ``stage`` on version ``target`` (None: take it off): AWS's stages and those
        named as strongroom labels are labels; any other is kept in the record."""
        label = _STAGES.get(stage, stage)
        if label == stage and not _is_label(stage):
            self._move_recorded_stage(found, stage, target)
            return
        self._ensure_labels(found)
        self._secrets.move_label(secrets_namespace(found.region), found.name, label, target)

    def _move_recorded_stage(self, found: SmSecret, stage: str, target: int | None) -> None:
        if target is None:
            found.custom_stages.pop(stage, None)
        else:
            found.custom_stages[stage] = target
            if len(found.custom_stages) > MAX_CUSTOM_STAGES:
                raise SecretsManagerError(
                    "LimitExceededException",
                    f"A secret has at most {MAX_CUSTOM_STAGES} custom stages that are not "
                    "strongroom labels.",
                )
        self._save(found)

    def _version_arg(self, found: SmSecret, version_id: object, field: str) -> int | None:
        if version_id is None:
            return None
        if not isinstance(version_id, str):
            raise SecretsManagerError("ValidationException", f"{field} is a string.")
        number = found.version_of(version_id)
        if number is None:
            message = f"Not a valid version: {version_id}"
            raise SecretsManagerError("InvalidParameterException", message)
        return number

    # -- rotation, on strongroom's rotation engine
    def rotate(
        self,
        identity: Identity,
        region: str,
        secret_id: object,
        *,
        lambda_arn: object,
        days: int | None,
        immediately: bool,
        schedule: RotationSchedule | None = None,
        token: object = None,
    ) -> tuple[SmSecret, int | None]:
        """Configure the secret's rotation and, unless told not to, run it now: (the secret,
        the version that became AWSCURRENT). ``RotationLambdaARN``'s function is a Lambda
        function registered here (a webhook, rotation/aws_lambda.py) or a rotator registered
        under that name; without one, the secret's function, else ``aws-default``. It runs every
        ``days`` or on ``schedule`` (else as before, else every 30 days)."""
        rotations = self._rotation_engine()
        name = self._name_of(region, secret_id)
        namespace = secrets_namespace(region)
        record = self._rotation_check(identity, region, name, "RotateSecret")
        found = self._load(region, name, record=record)
        arn = found.rotation_lambda_arn
        if lambda_arn is not None:
            if not isinstance(lambda_arn, str) or function_of(lambda_arn) is None:
                raise SecretsManagerError(
                    "InvalidParameterException",
                    "RotationLambdaARN is arn:aws:lambda:REGION:ACCOUNT:function:NAME.",
                )
            arn = lambda_arn
        function = function_of(arn) if arn else None
        rotator, params = "aws-default", {}
        if function is not None and self._lambda_functions(function):
            rotator, params = "aws-lambda", {"function": function, "secret_arn": found.arn}
        elif function is not None:
            rotator = function
        if not rotations.knows(rotator):
            raise SecretsManagerError(
                "InvalidRequestException",
                f"No function or rotator named {rotator!r} is registered with this server: "
                "register the function's webhook (strongroom aws-lambda create), or a rotator "
                "under its name (docs/compat-aws.md), or leave RotationLambdaARN out for the "
                "default rotation.",
            )
        if days is not None:
            schedule = RotationSchedule.every_days(days)
        elif schedule is None:  # as configured before, else every 30 days
            schedule = (
                RotationSchedule.parse(found.rotation_schedule, found.rotation_duration)
                if found.rotation_schedule
                else RotationSchedule.every_days(found.rotation_days or 30)
            )
        rotations.configure(
            identity,
            namespace,
            name,
            rotator=rotator,
            interval=schedule.interval,
            cron=schedule.cron,
            params=params,
        )
        found.rotation_lambda_arn = arn
        found.rotation_cancelled = False
        found.rotation_days = schedule.days
        found.rotation_schedule = schedule.expression
        found.rotation_duration = schedule.duration
        self._save(found)
        if not immediately:
            return found, None
        chosen = self._check_token(token) if token is not None else None
        if chosen is not None and chosen in found.tokens:
            return found, int(found.tokens[chosen][0])  # the same request again
        result = rotations.rotate_now(identity, namespace, name, chosen)
        if result.result != "success":
            detail = f": {result.error}" if result.error else ""
            raise SecretsManagerError(
                "InvalidRequestException",
                f"The rotation did not complete ({result.result}){detail}",
            )
        found = self._load(region, name)
        version = int(result.version)
        if result.token and result.token not in found.tokens:  # the version's VersionId
            written = self._secrets.read_unchecked(namespace, name, version)
            found.remember(result.token, version, StoredValue.of(written.data).digest())
        found.last_changed = self._clock.now()
        self._save(found)
        return found, version

    def cancel_rotation(self, identity: Identity, region: str, secret_id: object) -> SmSecret:
        rotations = self._rotation_engine()
        name = self._name_of(region, secret_id)
        record = self._rotation_check(identity, region, name, "CancelRotateSecret")
        found = self._load(region, name, record=record)
        namespace = secrets_namespace(region)
        if not found.rotation_enabled:
            raise SecretsManagerError(
                "InvalidRequestException", "No rotation is configured for this secret."
            )
        rotations.cancel(identity, namespace, name)
        rotations.remove(identity, namespace, name)
        found.rotation_days = 0
        found.rotation_schedule = found.rotation_duration = ""
        found.rotation_cancelled = True
        self._save(found)
        return found

    def _rotation_check(
        self, identity: Identity, region: str, name: str, action: str
    ) -> SmSecret | None:
        """``update`` on the secret's rotation (the engine checks the rest), before any look-up;
        a resource policy may deny it, and cannot grant it."""
        path = f"sys/rotation/{secrets_namespace(region)}/{name}"
        return self._authorize(identity, region, name, action, identity.allows("update", path))

    def rotation_dates(
        self, identity: Identity, found: SmSecret
    ) -> tuple[float | None, float | None]:
        """(LastRotatedDate, NextRotationDate) of a secret whose rotation is on."""
        if not found.rotation_enabled or self._rotations is None:
            return None, None
        try:
            status = self._rotations().status(identity, secrets_namespace(found.region), found.name)
        except (AccessDenied, NotFound):
            return None, None
        return status.last_rotated, status.next_due

    def _rotation_engine(self) -> Rotations:
        if self._rotations is None:
            raise SecretsManagerError("InvalidRequestException", "Rotation is not available.")
        return self._rotations()

    def tag(
        self, identity: Identity, region: str, secret_id: object, tags: Mapping[str, str]
    ) -> None:
        name = self._name_of(region, secret_id)
        record = self._metadata_check(identity, region, name, "TagResource", "update")
        found = self._load(region, name, record=record)
        found.tags = {**found.tags, **tags}
        found.tagged = True
        if len(found.tags) > 50:
            raise SecretsManagerError("LimitExceededException", "A secret has at most 50 tags.")
        self._save(found)

    def untag(self, identity: Identity, region: str, secret_id: object, names: list[str]) -> None:
        name = self._name_of(region, secret_id)
        record = self._metadata_check(identity, region, name, "UntagResource", "update")
        found = self._load(region, name, record=record)
        found.tags = {k: v for k, v in found.tags.items() if k not in names}
        found.tagged = True
        self._save(found)


def _is_label(stage: str) -> bool:
    try:
        check_label(stage)
    except BadRequest:
        return False
    return True


def _suffix() -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(6))
