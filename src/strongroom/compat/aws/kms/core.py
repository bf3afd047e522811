"""The shared core of the KMS backend: key references in AWS's four forms, a key resolved
through its key policy and strongroom's policies, the key record changed with compare-and-set.
The operations are in the modules that extend ``KmsCore``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from strongroom.auth import Identity
from strongroom.auth.aws_keys import principal_arn
from strongroom.clock import Clock
from strongroom.compat.aws.kms.catalogue import OPERATIONS, Rule
from strongroom.compat.aws.kms.errors import KmsError
from strongroom.compat.aws.kms.models import (
    ALIAS,
    ALIAS_KIND,
    KEY_ID,
    KEY_KIND,
    REGION,
    KmsAlias,
    KmsKey,
    algorithms,
    kms_namespace,
    parse_key_policy,
)
from strongroom.crypto.context import Context
from strongroom.errors import AccessDenied
from strongroom.keys import Keyrings
from strongroom.policy.authorize import ResourcePolicyMode, authorize
from strongroom.policy.aws_documents import (
    Decision,
    DocumentCache,
    PolicyRequest,
)
from strongroom.service.named_keys import NamedKeyStore
from strongroom.service.records import Repository

__all__ = ["KmsCore"]


class KmsCore:
    def __init__(
        self,
        repository: Repository,
        keyrings: Keyrings,
        named: NamedKeyStore,
        clock: Clock,
        account: Callable[[], str],
        ensure_namespace: Callable[[str], None],
    ) -> None:
        self._keys = repository.of(KEY_KIND, KmsKey.decode, KmsKey.encode)
        self._aliases = repository.of(ALIAS_KIND, KmsAlias.decode, KmsAlias.encode)
        self._keyrings = keyrings
        self._named = named
        self._clock = clock
        self._account = account
        self._ensure_namespace = ensure_namespace
        self._documents = DocumentCache(parse_key_policy)

    @property
    def account(self) -> str:
        return self._account()

    # -- names
    @staticmethod
    def check_region(region: str) -> str:
        if not REGION.fullmatch(region):
            raise KmsError("UnrecognizedClientException", f"Invalid region {region!r}.")
        return region

    def _parse_ref(self, region: str, key_ref: str) -> tuple[str, str]:
        """("id", key id) or ("alias", alias/name) from a KeyId of any of AWS's four forms."""
        if not isinstance(key_ref, str) or not 1 <= len(key_ref) <= 2048:
            raise KmsError("ValidationException", "KeyId must be 1-2048 characters.")
        ref = key_ref
        prefix = f"arn:aws:kms:{region}:"
        if ref.startswith("arn:"):
            if not ref.startswith(prefix):
                raise KmsError("NotFoundException", f"Invalid arn {key_ref}")
            account, _, ref = ref[len(prefix) :].partition(":")
            if account != self._account():
                raise KmsError("NotFoundException", f"Invalid arn {key_ref}")
            if ref.startswith("key/"):
                ref = ref[4:]
        if ref.startswith("alias/"):
            if not ALIAS.fullmatch(ref):
                raise KmsError("NotFoundException", f"Alias {key_ref} is not found.")
            return "alias", ref
        if not KEY_ID.fullmatch(ref):
            raise KmsError("NotFoundException", f"Invalid keyId {key_ref}")
        return "id", ref

    def _path(self, region: str, area: str, key_id: str = "") -> str:
        mount = kms_namespace(region)
        return f"{mount}/{area}/{key_id}" if key_id else f"{mount}/{area}"

    def _resolve(
        self,
        identity: Identity,
        region: str,
        key_ref: str,
        action: str,
        context: Context | None = None,
        *,
        rule: Rule | None = None,
    ) -> KmsKey:
        """The key ``key_ref`` names, once the caller may do ``action`` with it: the key's policy
        decides, as AWS's does, and where it names the account (the default policy does),
        strongroom's policies decide, as IAM's do in AWS: the action's capability on
        ``M/<area>/<key id>`` (catalogue.py; ``rule`` for a second check within an action). A
        refusal has the same words whether the key exists or not."""
        rule = rule or OPERATIONS[action]
        capability = rule.capability
        kind, ref = self._parse_ref(region, key_ref)
        if kind == "alias" and not rule.by_alias:
            if action in ("CreateAlias", "UpdateAlias"):
                raise KmsError("ValidationException", "Aliases must refer to keys. Not aliases")
            raise KmsError("NotFoundException", f"Invalid keyId {key_ref}")
        if kind == "alias":
            alias = self._aliases.get(f"{region}/{ref}")
            if alias is None:
                if not identity.allows("read", self._path(region, "aliases", ref[6:])):
                    raise AccessDenied(f"permission denied: {capability} on {key_ref!r}")
                raise KmsError(
                    "NotFoundException",
                    f"Alias arn:aws:kms:{region}:{self._account()}:{ref} is not found.",
                )
            ref = alias.target
        path = self._path(region, rule.area, ref)
        found = self._keys.get(f"{region}/{ref}")
        verdict = Decision.ACCOUNT  # the default key policy's
        if found is not None and found.policy:
            request = self._policy_request(identity, found, action, context or {})
            verdict = self._documents.get(found.policy).decide(request)
        allowed = identity.allows(capability, path)
        if not authorize(allowed, verdict, ResourcePolicyMode.AUTHORITATIVE):
            raise AccessDenied(f"permission denied: {capability} on {path!r}")
        return self._loaded(region, ref, found)

    def _policy_request(
        self, identity: Identity, key: KmsKey, action: str, context: Context
    ) -> PolicyRequest:
        principal = principal_arn(identity, self._account())
        facts = {
            "aws:principalarn": (principal,),
            "aws:principalaccount": (key.account,),
            "kms:calleraccount": (key.account,),
            "kms:encryptioncontextkeys": tuple(context),
            **{f"kms:encryptioncontext:{k.lower()}": (v,) for k, v in context.items()},
            **{f"aws:resourcetag/{k.lower()}": (v,) for k, v in key.tags.items()},
        }
        return PolicyRequest(principal, key.account, f"kms:{action}", key.arn, facts)

    def _load(self, region: str, key_id: str) -> KmsKey:
        return self._loaded(region, key_id, self._keys.get(f"{region}/{key_id}"))

    def _loaded(self, region: str, key_id: str, key: KmsKey | None) -> KmsKey:
        if key is None:
            raise self._missing(region, key_id)
        if key.state == "PendingDeletion" and self._clock.now() >= key.deletion_date:
            self._destroy(key)
            raise KmsError("NotFoundException", f"Key '{key.arn}' does not exist")
        return key

    def _missing(self, region: str, key_id: str) -> KmsError:
        return KmsError(
            "NotFoundException",
            f"Key 'arn:aws:kms:{region}:{self._account()}:key/{key_id}' does not exist",
        )

    def _change(self, key: KmsKey, edit: Callable[[KmsKey], KmsKey]) -> KmsKey:
        """``edit`` made to the stored key with compare-and-set (made again to a fresh copy when
        another request changed the key first); the key as written. An edit that raises writes
        nothing."""

        def edited(current: KmsKey | None) -> KmsKey:
            if current is None:
                raise self._missing(key.region, key.key_id)
            return edit(current)

        return self._keys.change(f"{key.region}/{key.key_id}", edited)

    def _destroy(self, key: KmsKey) -> None:
        if key.primary_region:  # a replica: the material is its primary's, which forgets it
            primary = self._keys.get(f"{key.primary_region}/{key.key_id}")
            if primary is not None:
                self._change(primary, lambda current: _without_replica(current, key.region))
        # A key's own material, or what a primary that moved away left in its region.
        self._named.delete(kms_namespace(key.region), key.key_id)
        self._keys.delete(f"{key.region}/{key.key_id}")
        for name, alias in self._aliases.items(f"{key.region}/"):
            if alias.target == key.key_id:
                self._aliases.delete(name)

    @staticmethod
    def _for(key: KmsKey, usage: str, operation: str) -> None:
        """The key's state allows use, and its KeyUsage is ``usage``."""
        if key.key_usage != usage:
            raise KmsError(
                "InvalidKeyUsageException",
                f"{key.arn} key usage is {key.key_usage} which is not valid for {operation}.",
            )
        KmsCore._usable(key)

    @staticmethod
    def _symmetric(key: KmsKey, operation: str) -> None:
        if key.key_spec != "SYMMETRIC_DEFAULT":
            raise KmsError(
                "InvalidKeyUsageException",
                f"{key.arn} is an asymmetric key: {operation} with it takes an "
                f"EncryptionAlgorithm of {', '.join(algorithms(key))}.",
            )

    @staticmethod
    def _not_a_replica(key: KmsKey, action: str) -> None:
        """What is made through a multi-Region key's primary (its material and rotation), and
        not while its primary Region moves."""
        if key.primary_region:
            raise KmsError(
                "UnsupportedOperationException",
                f"{key.arn} is a multi-Region replica key: {action} is made through its "
                f"primary key in {key.primary_region}.",
            )
        if key.updating_to:
            raise KmsError(
                "KMSInvalidStateException",
                f"{key.arn} is Updating: its primary Region moves to {key.updating_to}.",
            )

    @staticmethod
    def _usable_or_disabled(key: KmsKey) -> None:
        if key.state == "PendingDeletion":
            raise KmsError("KMSInvalidStateException", f"{key.arn} is pending deletion.")

    @staticmethod
    def _usable(key: KmsKey) -> None:
        if key.state == "Disabled":
            raise KmsError("DisabledException", f"{key.arn} is disabled.")
        if key.state == "PendingDeletion":
            raise KmsError("KMSInvalidStateException", f"{key.arn} is pending deletion.")

    def _material(self, key: KmsKey, version: int | None = None) -> tuple[int, bytes]:
        named = self._named.require(kms_namespace(key.home_region), key.key_id)
        number = named.latest_version if version is None else version
        found = named.versions.get(number)
        if found is None:
            raise KmsError("InvalidCiphertextException")
        return number, found.material


def _without_replica(key: KmsKey, region: str) -> KmsKey:
    return replace(key, replica_regions=tuple(r for r in key.replica_regions if r != region))
