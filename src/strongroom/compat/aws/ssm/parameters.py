"""Parameter Store's operations on parameters: PutParameter, GetParameter(s),
GetParametersByPath, DescribeParameters, GetParameterHistory and DeleteParameter.
``SsmService`` is the whole backend: these, with labels and tags."""

from __future__ import annotations

from strongroom.auth import Identity
from strongroom.auth.aws_keys import principal_arn
from strongroom.compat.aws.ssm.errors import SsmError
from strongroom.compat.aws.ssm.metadata import ParameterMetadata
from strongroom.compat.aws.ssm.models import (
    DATA_TYPES,
    DEFAULT_KEY,
    MAX_VALUE_BYTES,
    Parameter,
    allowed_by_pattern,
    parameter_of,
    ssm_namespace,
)
from strongroom.errors import AccessDenied, NotFound, SecretDeleted
from strongroom.policy.authorize import ResourcePolicyMode
from strongroom.policy.aws_documents import Decision
from strongroom.policy.grants import grant_if, granted
from strongroom.policy.kv import DATA

__all__ = ["SsmService"]


class SsmService(ParameterMetadata):
    # -- operations
    def put(
        self,
        identity: Identity,
        region: str,
        name: str,
        value: str,
        *,
        type_: str | None = None,
        overwrite: bool = False,
        key_id: str | None = None,
        description: str | None = None,
        allowed_pattern: str | None = None,
        tier: str | None = None,
        data_type: str | None = None,
    ) -> tuple[int, str]:
        """(the new version, its tier); ``value`` and ``type_`` were checked against the API's
        model on the wire (fields.py)."""
        given, path = self.check_name(name)
        policy = self._policy(region, DATA, path)
        if not (identity.allows("create", policy) or identity.allows("update", policy)):
            raise AccessDenied(f"permission denied: create or update on {policy!r}")
        namespace = ssm_namespace(region)
        writing = "update" if identity.allows("update", policy) else "create"
        grant = granted(identity, writing, policy, namespace, path)
        self._ensure_namespace(namespace)
        kept = self._versions_kept(namespace)
        # A put keeps the current Type and pattern: a read the write itself needs.
        current = self._latest(grant, serving=writing)
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
        doomed = current.version + 1 - kept if current is not None else 0
        if doomed >= 1 and doomed in self._labels(region, path).values():
            raise SsmError(
                "ParameterMaxVersionLimitExceeded",
                f"You attempted to create a new version of {given} by calling the PutParameter "
                f"API with the overwrite flag. Version {doomed}, the oldest version, can't be "
                "deleted because it has a label associated with it. Move the label to another "
                "version of the parameter, and try again.",
            )
        chosen_type = type_ if type_ is not None else (current.type if current else None)
        if chosen_type is None:
            raise SsmError(
                "ValidationException", "A parameter type is required when you create a parameter."
            )
        chosen_tier = tier or "Standard"
        if chosen_tier == "Intelligent-Tiering":
            chosen_tier = "Standard"
        if chosen_tier not in MAX_VALUE_BYTES:
            raise SsmError(
                "ValidationException", "Tier is Standard, Advanced or Intelligent-Tiering."
            )
        chosen_data_type = data_type if data_type is not None else "text"
        if chosen_data_type not in DATA_TYPES:
            raise SsmError(
                "ValidationException",
                f"The following data type is not supported: {chosen_data_type} "
                "(Data type names are all lowercase.)",
            )
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
        if pattern and not allowed_by_pattern(pattern, value):
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
            str(chosen_data_type),
            modified_by=principal_arn(identity, self._account()),
        )
        written = self._secrets.put(identity, namespace, path, {**parameter.data(), "Name": given})
        return written.version, str(chosen_tier)

    def get(self, identity: Identity, region: str, selector: str) -> Parameter:
        """``name``, ``name:version`` (a version number) or ``name:label``."""
        if not isinstance(selector, str):
            raise SsmError("ValidationException", "Name is a string.")
        name, chosen = self._selector(region, selector)
        given, path = self.check_name(name)
        # Checked before anything is looked up; a region where nothing was ever put is found
        # to hold no parameter by the read below, as any missing one.
        grant = self._require(identity, region, "GetParameter", path)
        version: int | None = None
        if chosen.isascii() and chosen.isdigit():
            version = int(chosen)
        elif chosen:
            version = self._labels(region, path).get(chosen)
            if version is None:
                raise SsmError("ParameterNotFound", "")  # botocore's model: no label error
        try:
            value = self._secrets.read_granted(grant, version)
        except (NotFound, SecretDeleted):
            if version is not None and self._exists(grant):
                raise SsmError(
                    "ParameterVersionNotFound",
                    f"Systems Manager could not find version {version} of {given}. Verify the "
                    "version and try again.",
                ) from None
            raise SsmError("ParameterNotFound", "") from None
        found = parameter_of(value.data, value.metadata.version, value.metadata.created_time, path)
        return self._labelled(region, path, found)

    def by_path(
        self,
        identity: Identity,
        region: str,
        path: str,
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
            page = self._rows.scan_paths(namespace, prefix, after, 1000)
            for item in page:
                rest = item[len(prefix) :]
                if not recursive and "/" in rest:
                    continue
                grant = self._grant_if_allowed(identity, region, "GetParametersByPath", item)
                if grant is None:
                    continue  # a caller sees only what it may read
                parameter = (
                    self._labelled_version(region, grant, labels) if labels else self._latest(grant)
                )
                if parameter is not None and parameter.name.startswith("/"):
                    found.append(parameter)
            if len(page) < 1000:
                return found
            after = page[-1]

    def describe(self, identity: Identity, region: str) -> list[Parameter]:
        namespace = ssm_namespace(region)
        found: list[Parameter] = []
        after = ""
        while True:
            page = self._rows.scan_paths(namespace, "", after, 1000)
            for item in page:
                grant = grant_if(
                    identity.can_see_secret(namespace, item),
                    Decision.NONE,
                    ResourcePolicyMode.ADDITIVE,
                    capability="describe",
                    namespace=namespace,
                    path=item,
                    action="ssm:DescribeParameters",
                )
                # What DescribeParameters shows (Type, version, KeyId) is kept in the value.
                parameter = self._latest(grant, serving="describe") if grant else None
                if parameter is not None:
                    found.append(parameter)
            if len(page) < 1000:
                return found
            after = page[-1]

    def history(self, identity: Identity, region: str, name: str) -> list[Parameter]:
        _, path = self.check_name(name)
        grant = self._require(identity, region, "GetParameterHistory", path)
        versions = self._rows.versions(grant)
        if not versions:
            raise SsmError("ParameterNotFound", "")
        found = []
        for record in versions:
            try:
                value = self._secrets.read_granted(grant, record.version)
            except (NotFound, SecretDeleted):
                continue
            parameter = parameter_of(value.data, record.version, value.metadata.created_time, path)
            found.append(self._labelled(region, path, parameter))
        return found

    def delete(self, identity: Identity, region: str, name: str) -> None:
        _, path = self.check_name(name)
        grant = self._require(identity, region, "DeleteParameter", path)
        if not self._rows.delete(grant):
            raise SsmError("ParameterNotFound", "")
        self._forget_metadata(region, path)
