"""The shared core of the Parameter Store backend: names, SecureString values sealed by
strongroom's AWS KMS, a parameter's latest or labelled version. The operations are in the
modules that extend ``SsmCore``."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import replace

from strongroom.auth import Identity
from strongroom.clock import Clock
from strongroom.compat.aws.kms.errors import KmsError
from strongroom.compat.aws.kms.operations import KmsService
from strongroom.compat.aws.labels import labels_on
from strongroom.compat.aws.resource_metadata import ResourceMetadata
from strongroom.compat.aws.ssm.catalogue import OPERATIONS
from strongroom.compat.aws.ssm.errors import SsmError
from strongroom.compat.aws.ssm.models import (
    DEFAULT_KEY,
    LABELS_KIND,
    MAX_DEPTH,
    MAX_VERSIONS,
    METADATA_KIND,
    NAME,
    NAME_RULES,
    TAGS_KIND,
    Parameter,
    parameter_of,
    ssm_namespace,
)
from strongroom.compat.aws.stored_values import ciphertext_of
from strongroom.errors import AccessDenied, NotFound, SecretDeleted
from strongroom.policy.grants import Grant, granted
from strongroom.policy.kv import kv_policy_path
from strongroom.service.records import Repository
from strongroom.service.secret_rows import SecretRows
from strongroom.service.secrets import SecretService

__all__ = ["SsmCore"]


class SsmCore:
    def __init__(
        self,
        rows: SecretRows,
        repository: Repository,
        secrets: SecretService,
        kms: KmsService,
        clock: Clock,
        account: Callable[[], str],
        ensure_namespace: Callable[[str], None],
    ) -> None:
        self._rows = rows
        self._metadata = repository.of(
            METADATA_KIND, ResourceMetadata.decode, ResourceMetadata.encode
        )
        older = ResourceMetadata
        self._older_tags = repository.of(TAGS_KIND, older.decode_tags, older.encode_map)
        self._older_labels = repository.of(LABELS_KIND, older.decode_labels, older.encode_map)
        self._secrets = secrets
        self._kms = kms
        self._clock = clock
        self._account = account
        self._ensure_namespace = ensure_namespace

    # -- names
    def check_name(self, name: str) -> tuple[str, str]:
        """(the name as given, its strongroom path), or the name refused in AWS's words."""
        if not NAME.fullmatch(name):
            raise SsmError("ValidationException", NAME_RULES)
        path = name.removeprefix("/")
        if path.lower().startswith(("aws", "ssm")):
            hierarchy = name.count("/") > 1
            if hierarchy and path.lower().startswith("aws"):
                raise SsmError(
                    "AccessDeniedException", f"No access to reserved parameter name: {name}."
                )
            raise SsmError(
                "ValidationException",
                NAME_RULES
                if hierarchy
                else 'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive).',
            )
        if not path:
            raise SsmError("ValidationException", NAME_RULES)
        if path.count("/") >= MAX_DEPTH:
            raise SsmError(
                "HierarchyLevelLimitExceededException",
                f"A hierarchy can have a maximum of {MAX_DEPTH} levels.",
            )
        if "//" in path or path.endswith("/") or any(p in (".", "..") for p in path.split("/")):
            raise SsmError(
                "ValidationException",
                "Parameter name: strongroom keeps names canonical (no empty, '.' or '..' "
                "level; docs/compat-aws.md).",
            )
        return name, path

    def _selector(self, region: str, selector: str) -> tuple[str, str]:
        """(name, version or label) of ``name``, ``name:N``, ``name:label`` or the parameter's
        ARN with either; an ARN of another region or account names nothing here."""
        prefix = f"arn:aws:ssm:{region}:{self._account()}:parameter/"
        if not selector.startswith("arn:"):
            name, _, chosen = selector.partition(":")
            return name, chosen
        if not selector.startswith(prefix):
            raise SsmError("ParameterNotFound", "")
        name, _, chosen = selector[len(prefix) :].partition(":")
        return name, chosen

    def _versions_kept(self, namespace: str) -> int:
        """How many versions of a parameter the namespace keeps: MAX_VERSIONS, set on the
        namespace's KV settings the first time (an operator's own setting stays)."""
        system = Identity.system()
        kept = self._secrets.config(system, namespace).max_versions
        if not kept:
            self._secrets.write_config(system, namespace, max_versions=MAX_VERSIONS)
            kept = MAX_VERSIONS
        return kept

    def arn(self, region: str, name: str) -> str:
        path = name.removeprefix("/")
        return f"arn:aws:ssm:{region}:{self._account()}:parameter/{path}"

    def _policy(self, region: str, area: str, path: str) -> str:
        return kv_policy_path(ssm_namespace(region), area, path)

    def _require(self, identity: Identity, region: str, action: str, path: str) -> Grant:
        """The action's rule in the catalogue, for the parameter at ``path``: its grant, or
        AccessDenied."""
        rule = OPERATIONS[action]
        policy = self._policy(region, rule.area, path)
        return granted(identity, rule.capability, policy, ssm_namespace(region), path)

    def _grant_if_allowed(
        self, identity: Identity, region: str, action: str, path: str
    ) -> Grant | None:
        try:
            return self._require(identity, region, action, path)
        except AccessDenied:
            return None

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
            # Parameter Store's own code for a key it cannot find (botocore's PutParameter).
            code = "InvalidKeyId" if exc.aws_code == "NotFoundException" else exc.aws_code
            raise SsmError(code, exc.message) from None
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

    def _latest(self, grant: Grant, serving: str = "read") -> Parameter | None:
        try:
            value = self._secrets.read_granted(grant, None, serving=serving)
        except (NotFound, SecretDeleted):
            return None
        version, created = value.metadata.version, value.metadata.created_time
        return parameter_of(value.data, version, created, grant.path)

    def _exists(self, grant: Grant) -> bool:
        return self._rows.exists(grant)

    def _labelled_version(
        self, region: str, grant: Grant, labels: tuple[str, ...]
    ) -> Parameter | None:
        path = grant.path
        by_label = self._labels(region, path)
        version = next((by_label[label] for label in labels if label in by_label), None)
        if version is None:
            return None
        try:
            value = self._secrets.read_granted(grant, version)
        except (NotFound, SecretDeleted):
            return None
        found = parameter_of(value.data, version, value.metadata.created_time, path)
        return self._labelled(region, path, found)

    def tags_of(self, region: str, parameter: Parameter) -> Mapping[str, str]:
        """The tags of a parameter the caller was shown already (for tag:… filters)."""
        return dict(self._metadata_of(region, parameter.name.removeprefix("/")).tags)

    # -- tags and labels: one record per parameter
    def _metadata_of(self, region: str, path: str) -> ResourceMetadata:
        key = f"{region}/{path}"
        found = self._metadata.get(key)
        return found if found is not None else self._older(key)

    def _older(self, key: str) -> ResourceMetadata:
        """What a release before the one record kept in two."""
        labels = self._older_labels.get(key) or {}
        return ResourceMetadata(
            self._older_tags.get(key) or {}, {k: int(v) for k, v in labels.items()}
        )

    def _change_metadata(
        self, region: str, path: str, edit: Callable[[ResourceMetadata], ResourceMetadata]
    ) -> None:
        """``edit`` of the parameter's record, with compare-and-set; a parameter still in the
        two older records moves into the one."""
        key = f"{region}/{path}"
        moved: list[bool] = []

        def edited(current: ResourceMetadata | None) -> ResourceMetadata:
            moved[:] = [current is None]
            return edit(current if current is not None else self._older(key))

        self._metadata.change(key, edited)
        if moved[0]:
            self._forget_older(key)

    def _forget_metadata(self, region: str, path: str) -> None:
        key = f"{region}/{path}"
        self._metadata.delete(key)
        self._forget_older(key)

    def _forget_older(self, key: str) -> None:
        self._older_tags.delete(key)
        self._older_labels.delete(key)

    # -- labels: each names one version of a parameter, at most ten on a version
    def _labels(self, region: str, path: str) -> dict[str, int]:
        return dict(self._metadata_of(region, path).labels)

    def _labelled(self, region: str, path: str, parameter: Parameter) -> Parameter:
        labels = tuple(labels_on(self._labels(region, path), parameter.version))
        return replace(parameter, labels=labels) if labels else parameter
