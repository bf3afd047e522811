"""KMS aliases, and the keys the AWS services keep for themselves (``alias/aws/…``)."""

from __future__ import annotations

from dataclasses import replace

from strongroom.auth import Identity
from strongroom.compat.aws.kms.errors import KmsError
from strongroom.compat.aws.kms.keys import KeyManagement
from strongroom.compat.aws.kms.models import (
    ALIAS,
    ALIAS_CHARS,
    KmsAlias,
)
from strongroom.crypto.kms_blob import parse_blob
from strongroom.errors import DecryptionError

__all__ = ["Aliases"]


class Aliases(KeyManagement):
    # -- keys the services keep for themselves (alias/aws/…, as AWS-managed keys)
    def ensure_service_key(self, region: str, alias: str) -> str:
        """The key behind an AWS-managed alias (``alias/aws/ssm``), made on first use."""
        found = self.alias_target(region, alias)
        if found is not None:
            return found
        key = self.create_key(Identity.system(), region, description=f"Default key ({alias})")
        now = self._clock.now()
        made = KmsAlias(key.key_id, now, now)
        self._aliases.create(f"{region}/{alias}", made)  # or another request made it first
        return self.alias_target(region, alias) or key.key_id

    def alias_target(self, region: str, alias: str) -> str | None:
        found = self._aliases.get(f"{region}/{alias}")
        return found.target if found is not None else None

    @staticmethod
    def names_key(blob: bytes, key_id: str) -> bool:
        """Whether a CiphertextBlob names ``key_id``."""
        try:
            return parse_blob(blob).key_id == key_id
        except DecryptionError:
            return False

    # -- aliases
    def _check_alias(self, name: object) -> str:
        """An alias a caller may make or remove, refused in AWS's words."""
        if not isinstance(name, str) or not name.startswith("alias/"):
            raise KmsError("ValidationException", "Invalid identifier")
        if not ALIAS_CHARS.fullmatch(name):
            raise KmsError(
                "ValidationException",
                f"1 validation error detected: Value '{name}' at 'aliasName' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$",
            )
        if name.startswith("alias/aws/"):
            raise KmsError("NotAuthorizedException", "")  # AWS's own aliases
        if ":" in name:
            raise KmsError(
                "ValidationException", f"{name} contains invalid characters for an alias"
            )
        if not ALIAS.fullmatch(name):
            raise KmsError("InvalidAliasNameException", f"Alias name {name} is not valid.")
        return name

    def create_alias(self, identity: Identity, region: str, name: str, target: str) -> None:
        alias = self._check_alias(name)
        identity.require("create", self._path(region, "aliases", alias[6:]))
        key = self._resolve(identity, region, target, "CreateAlias")
        if key.state == "PendingDeletion":
            raise KmsError("KMSInvalidStateException", f"{key.arn} is pending deletion.")
        now = self._clock.now()
        if not self._aliases.create(f"{region}/{alias}", KmsAlias(key.key_id, now, now)):
            raise KmsError(
                "AlreadyExistsException",
                f"An alias with the name arn:aws:kms:{region}:{self._account()}:{alias} "
                "already exists",
            )

    def update_alias(self, identity: Identity, region: str, name: str, target: str) -> None:
        alias = self._check_alias(name)
        identity.require("update", self._path(region, "aliases", alias[6:]))
        key = self._resolve(identity, region, target, "UpdateAlias")
        now = self._clock.now()

        def retarget(current: KmsAlias | None) -> KmsAlias:
            if current is None:
                raise KmsError(
                    "NotFoundException",
                    f"Alias arn:aws:kms:{region}:{self._account()}:{alias} is not found.",
                )
            return replace(current, target=key.key_id, updated=now)

        self._aliases.change(f"{region}/{alias}", retarget)

    def delete_alias(self, identity: Identity, region: str, name: str) -> None:
        """As in AWS, the caller needs DeleteAlias on the alias and on the key it names (whose
        key policy decides)."""
        alias = self._check_alias(name)
        identity.require("delete", self._path(region, "aliases", alias[6:]))
        found = self._aliases.get(f"{region}/{alias}")
        if found is not None:
            self._resolve(identity, region, found.target, "DeleteAlias")
        if found is None or not self._aliases.delete(f"{region}/{alias}"):
            raise KmsError(
                "NotFoundException",
                f"Alias arn:aws:kms:{region}:{self._account()}:{alias} is not found.",
            )

    def list_aliases(
        self, identity: Identity, region: str, key_ref: str | None = None
    ) -> list[tuple[str, KmsAlias]]:
        """(alias/…, what it names) of each alias in ``region``, or of those naming one key."""
        self.check_region(region)
        identity.require("list", self._path(region, "aliases"))
        target = None
        if key_ref is not None:
            target = self._resolve(identity, region, key_ref, "ListAliases").key_id
        found = []
        for name, alias in self._aliases.items(f"{region}/"):
            if target is None or alias.target == target:
                found.append((name.partition("/")[2], alias))
        return found
