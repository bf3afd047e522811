"""AWS Systems Manager Parameter Store as a view of strongroom's secrets (the AWS surface's
``AmazonSSM``).

Where things live (per region; docs/compat-aws.md):

- a parameter ``/a/b/c`` (or ``name``) in region ``R`` is the KV v2 secret ``aws-ssm-R/a/b/c``
  (the leading slash is the surface's: ``/a`` and ``a`` are one name here, and the second one
  made is refused as existing). Each version's data holds what Parameter Store keeps per
  version: ``Value``, ``Type``, ``Description``, ``AllowedPattern``, ``Tier``, ``DataType`` and,
  for a ``SecureString``, ``KeyId``. Versions are strongroom's, numbered from 1 as in SSM.
- a ``SecureString``'s value is a KMS ``CiphertextBlob`` of strongroom's AWS KMS (the key named by
  ``KeyId``, by default ``alias/aws/ssm``, made on first use), bound to the parameter's ARN as
  AWS binds it (``{"PARAMETER_ARN": arn}``): reading it in clear needs ``decrypt`` on that key as
  well as ``read`` on the parameter.
- tags are the record ``aws-ssm-tags`` ``R/<name>``.

Access is the KV v2 policy map of ``aws-ssm-R``, checked before any look-up."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from strongroom.auth import Identity
from strongroom.clock import Clock
from strongroom.errors import AccessDenied, BadRequest, NotFound, SecretDeleted
from strongroom.policy.kv import DATA, METADATA, kv_policy_path
from strongroom.service.aws_kms import KmsError, KmsService
from strongroom.service.aws_stored_values import PARAMETER_TYPES, ciphertext_of
from strongroom.service.secrets import SecretService
from strongroom.store.protocol import Store

__all__ = [
    "DEFAULT_KEY",
    "LABELS_KIND",
    "MAX_LABELS",
    "MAX_VALUE_BYTES",
    "TAGS_KIND",
    "TYPES",
    "Parameter",
    "SsmError",
    "SsmService",
    "ssm_namespace",
]

TAGS_KIND = "aws-ssm-tags"
LABELS_KIND = "aws-ssm-labels"
MAX_LABELS = 10  # on one parameter version
_LABEL = re.compile(r"^[A-Za-z_.\-][A-Za-z0-9_.\-]{0,99}$")
TYPES = PARAMETER_TYPES
DEFAULT_KEY = "alias/aws/ssm"
MAX_VALUE_BYTES = {"Standard": 4096, "Advanced": 8192}
_NAME = re.compile(r"^/?[A-Za-z0-9_.\-/]{1,2048}$")
_MAX_DEPTH = 15


class SsmError(BadRequest):
    """An answer with Parameter Store's own code."""

    def __init__(self, aws_code: str, message: str) -> None:
        super().__init__(message or aws_code)
        self.aws_code, self.message = aws_code, message  # AWS sends some with no message


def ssm_namespace(region: str) -> str:
    return f"aws-ssm-{region}"


@dataclass(frozen=True)
class Parameter:
    """One version of a parameter, as stored (a SecureString's value is its CiphertextBlob)."""

    name: str
    version: int
    type: str
    value: str = field(repr=False)  # a String's value is a secret too
    modified: float
    key_id: str = ""
    description: str = ""
    allowed_pattern: str = ""
    tier: str = "Standard"
    data_type: str = "text"
    labels: tuple[str, ...] = ()

    def data(self) -> dict[str, str]:
        doc = {
            "Value": self.value,
            "Type": self.type,
            "Tier": self.tier,
            "DataType": self.data_type,
        }
        for key, value in (
            ("KeyId", self.key_id),
            ("Description", self.description),
            ("AllowedPattern", self.allowed_pattern),
        ):
            if value:
                doc[key] = value
        return doc


class SsmService:
    def __init__(
        self,
        store: Store,
        secrets: SecretService,
        kms: KmsService,
        clock: Clock,
        account: Callable[[], str],
        ensure_namespace: Callable[[str], None],
    ) -> None:
        self._store = store
        self._secrets = secrets
        self._kms = kms
        self._clock = clock
        self._account = account
        self._ensure_namespace = ensure_namespace

    # -- names
    def check_name(self, name: object) -> tuple[str, str]:
        """(the name as given, its strongroom path)."""
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise SsmError(
                "ValidationException",
                'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive) '
                "and must use only a-z, A-Z, 0-9, _ . - and /.",
            )
        path = name.removeprefix("/")
        if path.lower().startswith(("aws", "ssm")) or not path or path.count("/") >= _MAX_DEPTH:
            raise SsmError(
                "ValidationException",
                'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive), '
                f"and has at most {_MAX_DEPTH} levels.",
            )
        if "//" in path or path.endswith("/") or any(p in (".", "..") for p in path.split("/")):
            raise SsmError(
                "ValidationException",
                "Parameter name: strongroom keeps names canonical (no empty, '.' or '..' "
                "level; docs/compat-aws.md).",
            )
        return name, path

    def arn(self, region: str, name: str) -> str:
        path = name.removeprefix("/")
        return f"arn:aws:ssm:{region}:{self._account()}:parameter/{path}"

    def _policy(self, region: str, area: str, path: str) -> str:
        return kv_policy_path(ssm_namespace(region), area, path)

    # -- values
    def _seal(self, identity: Identity, region: str, name: str, key_id: str, value: str) -> str:
        """The value sealed by the KMS key ``key_id``. The account's default key (``alias/aws/
        ssm``) serves whoever may write the parameter, as AWS's does; another key needs the
        caller's own ``encrypt`` grant on it."""
        user = identity
        if key_id == DEFAULT_KEY:
            self._kms.ensure_service_key(region, DEFAULT_KEY)
            user = Identity.system()
        try:
            _, blob = self._kms.encrypt(
                user, region, key_id, value.encode(), {"PARAMETER_ARN": self.arn(region, name)}
            )
        except KmsError as exc:
            raise SsmError(exc.aws_code, exc.message) from None
        return base64.b64encode(blob).decode()

    def reveal(self, identity: Identity, region: str, parameter: Parameter) -> str:
        """A SecureString's value in clear (with the caller's ``decrypt`` grant on its key, unless
        it is the account's default key), any other's as it is."""
        if parameter.type != "SecureString":
            return parameter.value
        blob = ciphertext_of(parameter.value)
        if blob is None:  # stored before writes were checked: this parameter fails alone
            raise SsmError(
                "InvalidKeyId",
                f"The stored value of {parameter.name} (version {parameter.version}) is not a "
                "SecureString ciphertext, so it cannot be decrypted; put a new version.",
            )
        default = self._kms.alias_target(region, DEFAULT_KEY)
        user = Identity.system() if default and self._kms.names_key(blob, default) else identity
        try:
            _, plaintext = self._kms.decrypt(
                user, region, blob, {"PARAMETER_ARN": self.arn(region, parameter.name)}
            )
        except KmsError as exc:
            raise SsmError(exc.aws_code, exc.message) from None
        return plaintext.decode()

    # -- operations
    def put(
        self,
        identity: Identity,
        region: str,
        name: object,
        value: object,
        *,
        type_: object = None,
        overwrite: bool = False,
        key_id: object = None,
        description: object = None,
        allowed_pattern: object = None,
        tier: object = None,
        data_type: object = None,
    ) -> tuple[int, str]:
        """(the new version, its tier)."""
        given, path = self.check_name(name)
        policy = self._policy(region, DATA, path)
        if not (identity.allows("create", policy) or identity.allows("update", policy)):
            raise AccessDenied(f"permission denied: create or update on {policy!r}")
        namespace = ssm_namespace(region)
        self._ensure_namespace(namespace)
        current = self._latest(namespace, path)
        if current is not None and not overwrite:
            raise SsmError(
                "ParameterAlreadyExists",
                "The parameter already exists. To overwrite this value, set the overwrite option "
                "in the request to true.",
            )
        if current is not None and current.name != given:
            raise SsmError(
                "ParameterAlreadyExists",
                f"The parameter {current.name} already exists under the same name with or "
                "without its leading slash (docs/compat-aws.md).",
            )
        chosen_type = type_ if type_ is not None else (current.type if current else None)
        if chosen_type not in TYPES:
            raise SsmError(
                "ValidationException",
                "1 validation error detected: Value at 'type' failed to satisfy constraint: "
                "Member must satisfy enum value set: [SecureString, StringList, String]",
            )
        chosen_tier = tier or "Standard"
        if chosen_tier == "Intelligent-Tiering":
            chosen_tier = "Standard"
        if chosen_tier not in MAX_VALUE_BYTES:
            raise SsmError(
                "ValidationException", "Tier is Standard, Advanced or Intelligent-Tiering."
            )
        if not isinstance(value, str) or not value:
            raise SsmError("ValidationException", "Value must be a non-empty string.")
        if len(value.encode()) > MAX_VALUE_BYTES[chosen_tier]:
            raise SsmError(
                "ValidationException",
                "Standard tier parameters support a maximum parameter value of 4096 characters. "
                "To create a larger parameter value, upgrade the parameter to use the advanced-"
                "parameter tier."
                if chosen_tier == "Standard"
                else "Value is at most 8 KB.",
            )
        pattern = (
            allowed_pattern
            if allowed_pattern is not None
            else (current.allowed_pattern if current else "")
        )
        if not isinstance(pattern, str) or len(pattern) > 1024:
            raise SsmError("ValidationException", "AllowedPattern is a regular expression.")
        if pattern and not _matches(pattern, value):
            raise SsmError(
                "ParameterPatternMismatchException",
                f"Parameter value, cannot be validated against allowedPattern: {pattern}",
            )
        text = value
        key = ""
        if chosen_type == "SecureString":
            key = str(key_id or (current.key_id if current and current.key_id else DEFAULT_KEY))
            text = self._seal(identity, region, given, key, value)
        elif key_id is not None:
            raise SsmError("ValidationException", "KeyId is for SecureString parameters only.")
        parameter = Parameter(
            given,
            0,
            str(chosen_type),
            text,
            self._clock.now(),
            key,
            str(
                description if description is not None else (current.description if current else "")
            ),
            pattern,
            str(chosen_tier),
            str(data_type or "text"),
        )
        written = self._secrets.put(identity, namespace, path, {**parameter.data(), "Name": given})
        return written.version, str(chosen_tier)

    def _latest(self, namespace: str, path: str) -> Parameter | None:
        try:
            value = self._secrets.read_unchecked(namespace, path, None)
        except (NotFound, SecretDeleted):
            return None
        return _parameter(value.data, value.metadata.version, value.metadata.created_time, path)

    def get(self, identity: Identity, region: str, selector: object) -> Parameter:
        """``name``, ``name:version`` (a version number) or ``name:label``."""
        if not isinstance(selector, str):
            raise SsmError("ValidationException", "Name is a string.")
        name, _, chosen = selector.partition(":")
        given, path = self.check_name(name)
        self._secrets.check_read(identity, ssm_namespace(region), path)
        version: int | None = None
        if chosen.isascii() and chosen.isdigit():
            version = int(chosen)
        elif chosen:
            version = self._labels(region, path).get(chosen)
            if version is None:
                raise SsmError("ParameterNotFound", "")  # botocore's model: no label error
        try:
            value = self._secrets.read_unchecked(ssm_namespace(region), path, version)
        except (NotFound, SecretDeleted):
            if version is not None and self._exists(region, path):
                raise SsmError(
                    "ParameterVersionNotFound",
                    f"Systems Manager could not find version {version} of {given}.",
                ) from None
            raise SsmError("ParameterNotFound", "") from None
        found = _parameter(value.data, value.metadata.version, value.metadata.created_time, path)
        return self._labelled(region, path, found)

    def _exists(self, region: str, path: str) -> bool:
        return self._store.get_secret(ssm_namespace(region), path) is not None

    def by_path(
        self,
        identity: Identity,
        region: str,
        path: object,
        *,
        recursive: bool,
        labels: tuple[str, ...] = (),
    ) -> list[Parameter]:
        """The parameters under ``path`` the caller may read; with ``labels``, only those with a
        version carrying one of them, as that version."""
        if not isinstance(path, str) or not path.startswith("/"):
            raise SsmError("ValidationException", "Path must begin with '/'.")
        prefix = path.strip("/")
        prefix = f"{prefix}/" if prefix else ""
        namespace = ssm_namespace(region)
        found: list[Parameter] = []
        after = ""
        while True:
            page = self._store.scan_paths(namespace, prefix, after, 1000)
            for item in page:
                rest = item[len(prefix) :]
                if not recursive and "/" in rest:
                    continue
                if not identity.allows("read", self._policy(region, DATA, item)):
                    continue  # a caller sees only what it may read
                parameter = (
                    self._labelled_version(region, item, labels)
                    if labels
                    else self._latest(namespace, item)
                )
                if parameter is not None and parameter.name.startswith("/"):
                    found.append(parameter)
            if len(page) < 1000:
                return found
            after = page[-1]

    def _labelled_version(
        self, region: str, path: str, labels: tuple[str, ...]
    ) -> Parameter | None:
        by_label = self._labels(region, path)
        version = next((by_label[label] for label in labels if label in by_label), None)
        if version is None:
            return None
        try:
            value = self._secrets.read_unchecked(ssm_namespace(region), path, version)
        except (NotFound, SecretDeleted):
            return None
        found = _parameter(value.data, version, value.metadata.created_time, path)
        return self._labelled(region, path, found)

    def tags_of(self, region: str, parameter: Parameter) -> dict[str, str]:
        """The tags of a parameter the caller was shown already (for tag:… filters)."""
        raw = self._store.get_record(TAGS_KIND, f"{region}/{parameter.name.removeprefix('/')}")
        return dict(json.loads(raw)) if raw is not None else {}

    def describe(self, identity: Identity, region: str) -> list[Parameter]:
        namespace = ssm_namespace(region)
        found: list[Parameter] = []
        after = ""
        while True:
            page = self._store.scan_paths(namespace, "", after, 1000)
            for item in page:
                if identity.can_see_secret(namespace, item):
                    parameter = self._latest(namespace, item)
                    if parameter is not None:
                        found.append(parameter)
            if len(page) < 1000:
                return found
            after = page[-1]

    def history(self, identity: Identity, region: str, name: object) -> list[Parameter]:
        _, path = self.check_name(name)
        namespace = ssm_namespace(region)
        identity.require("read", self._policy(region, DATA, path))
        versions = self._store.list_versions(namespace, path)
        if not versions:
            raise SsmError("ParameterNotFound", "")
        found = []
        for record in versions:
            try:
                value = self._secrets.read_unchecked(namespace, path, record.version)
            except (NotFound, SecretDeleted):
                continue
            parameter = _parameter(value.data, record.version, value.metadata.created_time, path)
            found.append(self._labelled(region, path, parameter))
        return found

    def delete(self, identity: Identity, region: str, name: object) -> None:
        _, path = self.check_name(name)
        identity.require("delete", self._policy(region, METADATA, path))
        if not self._store.delete_secret(ssm_namespace(region), path):
            raise SsmError("ParameterNotFound", "")
        self._store.delete_record(TAGS_KIND, f"{region}/{path}")
        self._store.delete_record(LABELS_KIND, f"{region}/{path}")

    # -- labels: each names one version of a parameter, at most ten on a version
    def _labels(self, region: str, path: str) -> dict[str, int]:
        raw = self._store.get_record(LABELS_KIND, f"{region}/{path}")
        return {k: int(v) for k, v in json.loads(raw).items()} if raw is not None else {}

    def _labelled(self, region: str, path: str, parameter: Parameter) -> Parameter:
        labels = tuple(
            sorted(k for k, v in self._labels(region, path).items() if v == parameter.version)
        )
        return replace(parameter, labels=labels) if labels else parameter

    def label(
        self,
        identity: Identity,
        region: str,
        name: object,
        version: int | None,
        labels: list[str],
    ) -> tuple[int, list[str]]:
        """Put ``labels`` on ``version`` (the newest when None), moving any that another version
        had; (the version, the labels refused as invalid)."""
        _, path = self.check_name(name)
        identity.require("update", self._policy(region, METADATA, path))
        versions = {r.version for r in self._store.list_versions(ssm_namespace(region), path)}
        if not versions:
            raise SsmError("ParameterNotFound", "")
        chosen = max(versions) if version is None else version
        if chosen not in versions:
            raise SsmError(
                "ParameterVersionNotFound",
                f"Systems Manager could not find version {chosen} of {name}.",
            )
        current = self._labels(region, path)
        invalid = [label for label in labels if not _LABEL.fullmatch(label) or _reserved(label)]
        for label in labels:
            if label not in invalid:
                current[label] = chosen
        if sum(1 for v in current.values() if v == chosen) > MAX_LABELS:
            raise SsmError(
                "ParameterVersionLabelLimitExceeded",
                f"A parameter version can have at most {MAX_LABELS} labels.",
            )
        self._store.put_record(LABELS_KIND, f"{region}/{path}", json.dumps(current).encode())
        return chosen, invalid

    def unlabel(
        self, identity: Identity, region: str, name: object, version: int, labels: list[str]
    ) -> tuple[list[str], list[str]]:
        """(the labels removed from ``version``, those it did not have)."""
        _, path = self.check_name(name)
        identity.require("update", self._policy(region, METADATA, path))
        if not self._exists(region, path):
            raise SsmError("ParameterNotFound", "")
        current = self._labels(region, path)
        removed = [label for label in labels if current.get(label) == version]
        for label in removed:
            del current[label]
        self._store.put_record(LABELS_KIND, f"{region}/{path}", json.dumps(current).encode())
        return removed, [label for label in labels if label not in removed]

    # -- tags
    def tags(self, identity: Identity, region: str, name: object) -> dict[str, str]:
        _, path = self.check_name(name)
        identity.require("read", self._policy(region, METADATA, path))
        if not self._exists(region, path):
            raise SsmError("InvalidResourceId", "")
        raw = self._store.get_record(TAGS_KIND, f"{region}/{path}")
        return dict(json.loads(raw)) if raw is not None else {}

    def set_tags(
        self,
        identity: Identity,
        region: str,
        name: object,
        add: Mapping[str, str],
        remove: list[str],
    ) -> None:
        _, path = self.check_name(name)
        identity.require("update", self._policy(region, METADATA, path))
        if not self._exists(region, path):
            raise SsmError("InvalidResourceId", "")
        raw = self._store.get_record(TAGS_KIND, f"{region}/{path}")
        tags = {**(json.loads(raw) if raw is not None else {}), **add}
        for key in remove:
            tags.pop(key, None)
        if len(tags) > 50:
            raise SsmError("TooManyTagsError", "A parameter has at most 50 tags.")
        self._store.put_record(TAGS_KIND, f"{region}/{path}", json.dumps(tags).encode())


def _reserved(label: str) -> bool:
    return label.lower().startswith(("aws", "ssm"))


def _matches(pattern: str, value: str) -> bool:
    """``AllowedPattern`` with RE2, whose time is linear in the value: a caller's pattern cannot
    make the server backtrack for ever. RE2 has no back-references or look-arounds; a pattern
    that uses them is refused."""
    import re2  # google-re2, in the server extra

    options = re2.Options()
    options.log_errors = False  # the pattern is the caller's: not for the server's log
    try:
        compiled = re2.compile(pattern, options)
    except re2.error:
        raise SsmError(
            "ValidationException",
            "AllowedPattern is not a regular expression this server can check in linear time "
            "(RE2 syntax: no back-references or look-arounds).",
        ) from None
    return compiled.fullmatch(value) is not None


def _parameter(data: Any, version: int, created: str, path: str = "") -> Parameter:
    doc: dict[str, Any] = data if isinstance(data, dict) else {}
    if "Value" not in doc:  # written through another surface: its data, as a String
        return Parameter(
            "/" + path,
            version,
            "String",
            json.dumps(doc, separators=(",", ":"), sort_keys=True),
            datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp(),
        )
    return Parameter(
        str(doc.get("Name") or "/" + path),
        version,
        str(doc.get("Type", "String")),
        str(doc["Value"]),
        datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp(),
        str(doc.get("KeyId", "")),
        str(doc.get("Description", "")),
        str(doc.get("AllowedPattern", "")),
        str(doc.get("Tier", "Standard")),
        str(doc.get("DataType", "text")),
    )
