"""AWS KMS as a service (the AWS surface's TrentService): symmetric keys, aliases, key states,
rotation, tags, and encrypt/decrypt/data keys with AWS's encryption-context binding.

Where things live (per region, as in AWS):

- a key's material is a named key (the service Transit uses, service/named_keys.py) in the
  namespace ``aws-kms-<region>`` (kind ``aws-kms``, made on first use), named by the key's id;
  each rotation adds a version, and a CiphertextBlob names the version it was sealed with;
- its AWS metadata (description, state, rotation, tags) is the record ``aws-kms-key``
  ``<region>/<key id>``; an alias is the record ``aws-kms-alias`` ``<region>/<alias/name>``.

Policy paths (docs/compat-aws.md), ``M`` being ``aws-kms-<region>``: ``create`` and ``list`` on
``M/keys``; ``read`` (describe), ``update`` (enable, disable, rotation, tags) and ``delete``
(schedule deletion) on ``M/keys/<key id>``; ``update`` on ``M/encrypt/<key id>``,
``M/decrypt/<key id>`` and ``M/datakey/<key id>``; ``create``/``update``/``delete`` on
``M/aliases/<name>`` (and ``update`` on the key it names), ``list`` on ``M/aliases``;
``update`` on ``M/random``; ``sudo`` on ``M/keys/<key id>`` to put a key policy.

A key's policy (``PutKeyPolicy``, ``CreateKey``'s ``Policy``) is enforced as AWS enforces it:
the default policy names the account, so strongroom's policies decide; a policy may name
callers directly (granting without them), deny, or leave the account out (refusing callers
strongroom's policies would let in). A refusal never tells whether a key exists; an alias that
does not exist is refused the same way unless the caller may read it."""

from __future__ import annotations

import base64
import hmac
import json
import os
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from strongroom.auth import Identity
from strongroom.auth.aws_keys import principal_arn
from strongroom.clock import Clock
from strongroom.crypto.context import Context
from strongroom.crypto.kms_blob import open_blob, parse_blob, seal_blob
from strongroom.crypto.named_keys import (
    hmac_digest,
    new_key_pair,
    public_key,
    rsa_decrypt,
    rsa_encrypt,
    sign,
    verify,
)
from strongroom.errors import AccessDenied, BadRequest, DecryptionError
from strongroom.keys import Keyrings
from strongroom.policy.aws_documents import (
    Decision,
    DocumentCache,
    PolicyDocument,
    PolicyDocumentError,
    PolicyRequest,
    account_arn,
)
from strongroom.service.named_keys import NamedKey, NamedKeyStore
from strongroom.store.protocol import Store

__all__ = [
    "ALIAS_KIND",
    "AWS_KEY_SPECS",
    "CONDITION_KEYS",
    "KEY_KIND",
    "KEY_SPECS",
    "MAX_DATA_KEY_BYTES",
    "MAX_KEYS_PER_REGION",
    "MAX_KEY_POLICY",
    "MAX_PLAINTEXT_BYTES",
    "MAX_TAGS",
    "PAIR_SPECS",
    "KmsError",
    "KmsKey",
    "KmsService",
    "algorithms",
    "default_key_policy",
    "kms_namespace",
    "parse_key_policy",
]

KEY_KIND = "aws-kms-key"
ALIAS_KIND = "aws-kms-alias"
MAX_PLAINTEXT_BYTES = 4096
MAX_DATA_KEY_BYTES = 1024
MAX_TAGS = 50
MAX_KEYS_PER_REGION = 100_000
MAX_KEY_POLICY = 32_768  # characters, as AWS's quota (botocore's model allows 131,072)
# the condition keys a key policy may test (policy/aws_documents.py)
CONDITION_KEYS = (
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "kms:CallerAccount",
    "kms:EncryptionContext:",
    "kms:EncryptionContextKeys",
    "aws:ResourceTag/",
)
_DAY = 86_400.0
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$")
_ALIAS = re.compile(r"^alias/[a-zA-Z0-9/_-]{1,250}$")
_ALIAS_CHARS = re.compile(r"^[a-zA-Z0-9:/_-]+$")
# the operations whose KeyId may be an alias, as in AWS (key management takes a key id or ARN)
_BY_ALIAS = frozenset(
    {
        "DescribeKey",
        "Encrypt",
        "Decrypt",
        "ReEncryptFrom",
        "ReEncryptTo",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
        "GenerateMac",
        "VerifyMac",
        "Sign",
        "Verify",
        "GetPublicKey",
    }
)
_KEY_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class KmsError(BadRequest):
    """An answer with AWS KMS's own code (``NotFoundException``, ``DisabledException``, …)."""

    def __init__(self, aws_code: str, message: str = "") -> None:
        super().__init__(message or aws_code)
        self.aws_code = aws_code
        self.message = message  # AWS sends some with an empty message


def kms_namespace(region: str) -> str:
    return f"aws-kms-{region}"


def default_key_policy(account: str) -> str:
    """AWS's default key policy: the account may do anything, so its IAM (here strongroom's
    policies) decides."""
    statement = {
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": {"AWS": account_arn(account)},
        "Action": "kms:*",
        "Resource": "*",
    }
    return json.dumps({"Version": "2012-10-17", "Id": "key-default-1", "Statement": [statement]})


def parse_key_policy(text: object) -> PolicyDocument:
    try:
        return PolicyDocument.parse(
            text, service="kms", max_chars=MAX_KEY_POLICY, condition_keys=CONDITION_KEYS
        )
    except PolicyDocumentError as exc:
        raise KmsError("MalformedPolicyDocumentException", exc.message) from None


@dataclass(frozen=True)
class KmsKey:
    key_id: str
    region: str
    account: str
    created: float
    description: str = ""
    state: str = "Enabled"  # Enabled | Disabled | PendingDeletion
    deletion_date: float = 0.0
    pending_window_days: int = 0
    rotation_period_days: int = 0  # 0: automatic rotation off
    on_demand_rotations: tuple[float, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    key_spec: str = "SYMMETRIC_DEFAULT"
    key_usage: str = "ENCRYPT_DECRYPT"
    policy: str = field(default="", repr=False)  # "": the default key policy

    @property
    def arn(self) -> str:
        return f"arn:aws:kms:{self.region}:{self.account}:key/{self.key_id}"

    def encode(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def decode(cls, raw: bytes) -> KmsKey:
        doc = json.loads(raw)
        doc["on_demand_rotations"] = tuple(doc.get("on_demand_rotations", ()))
        return cls(**doc)


# every KeySpec AWS knows (those not in KEY_SPECS are refused as unsupported here)
AWS_KEY_SPECS = (
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
    "HMAC_224",
    "HMAC_256",
    "HMAC_384",
    "HMAC_512",
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "SM2",
    "SYMMETRIC_DEFAULT",
)
_RSA_SIGNING = tuple(
    f"RSASSA_{padding}_SHA_{bits}" for padding in ("PSS", "PKCS1_V1_5") for bits in (256, 384, 512)
)
_RSA_ENCRYPTION = ("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256")
_ENCRYPT, _SIGN, _MAC = "ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC"
# KeySpec -> (the named key type that holds it, {KeyUsage: its algorithms}), the first usage
# being the default, as AWS's ENCRYPT_DECRYPT is
KEY_SPECS: dict[str, tuple[str, dict[str, tuple[str, ...]]]] = {
    "SYMMETRIC_DEFAULT": ("aes256-gcm96", {_ENCRYPT: ("SYMMETRIC_DEFAULT",)}),
    **{f"HMAC_{bits}": ("hmac", {_MAC: (f"HMAC_SHA_{bits}",)}) for bits in (224, 256, 384, 512)},
    "ECC_NIST_P256": ("ecdsa-p256", {_SIGN: ("ECDSA_SHA_256",)}),
    "ECC_NIST_P384": ("ecdsa-p384", {_SIGN: ("ECDSA_SHA_384",)}),
    "ECC_NIST_P521": ("ecdsa-p521", {_SIGN: ("ECDSA_SHA_512",)}),
    "ECC_SECG_P256K1": ("ecdsa-secp256k1", {_SIGN: ("ECDSA_SHA_256",)}),
    **{
        f"RSA_{bits}": (f"rsa-{bits}", {_ENCRYPT: _RSA_ENCRYPTION, _SIGN: _RSA_SIGNING})
        for bits in (2048, 3072, 4096)
    },
}
# the hash an algorithm names: HMAC_SHA_384, ECDSA_SHA_512, RSAES_OAEP_SHA_1, …
_HASHES = {"SHA_1": "sha1", "SHA_224": "sha2-224", "SHA_256": "sha2-256", "SHA_384": "sha2-384"}
_HASHES["SHA_512"] = "sha2-512"


def algorithms(key: KmsKey) -> tuple[str, ...]:
    """The algorithms of the key's spec for its usage."""
    return KEY_SPECS[key.key_spec][1][key.key_usage]


def _hash_of(algorithm: str) -> str:
    return _HASHES["SHA_" + algorithm.rsplit("_SHA_", 1)[1]]


PAIR_SPECS = (
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
)


class KmsService:
    def __init__(
        self,
        store: Store,
        keyrings: Keyrings,
        named: NamedKeyStore,
        clock: Clock,
        account: Callable[[], str],
        ensure_namespace: Callable[[str], None],
    ) -> None:
        self._store = store
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
        if not _REGION.fullmatch(region):
            raise KmsError("UnrecognizedClientException", f"Invalid region {region!r}.")
        return region

    def _parse_ref(self, region: str, key_ref: object) -> tuple[str, str]:
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
            if not _ALIAS.fullmatch(ref):
                raise KmsError("NotFoundException", f"Alias {key_ref} is not found.")
            return "alias", ref
        if not _KEY_ID.fullmatch(ref):
            raise KmsError("NotFoundException", f"Invalid keyId {key_ref}")
        return "id", ref

    def _path(self, region: str, area: str, key_id: str = "") -> str:
        mount = kms_namespace(region)
        return f"{mount}/{area}/{key_id}" if key_id else f"{mount}/{area}"

    def _resolve(
        self,
        identity: Identity,
        region: str,
        key_ref: object,
        capability: str,
        area: str,
        action: str,
        context: Context | None = None,
    ) -> KmsKey:
        """The key ``key_ref`` names, once the caller may do ``action`` with it: the key's policy
        decides, as AWS's does, and where it names the account (the default policy does),
        strongroom's policies decide, as IAM's do in AWS: ``capability`` on
        ``M/<area>/<key id>``. A refusal has the same words whether the key exists or not."""
        kind, ref = self._parse_ref(region, key_ref)
        if kind == "alias" and action not in _BY_ALIAS:
            if action in ("CreateAlias", "UpdateAlias"):
                raise KmsError("ValidationException", "Aliases must refer to keys. Not aliases")
            raise KmsError("NotFoundException", f"Invalid keyId {key_ref}")
        if kind == "alias":
            raw = self._store.get_record(ALIAS_KIND, f"{region}/{ref}")
            if raw is None:
                if not identity.allows("read", self._path(region, "aliases", ref[6:])):
                    raise AccessDenied(f"permission denied: {capability} on {key_ref!r}")
                raise KmsError(
                    "NotFoundException",
                    f"Alias arn:aws:kms:{region}:{self._account()}:{ref} is not found.",
                )
            ref = str(json.loads(raw)["target"])
        path = self._path(region, area, ref)
        raw = self._store.get_record(KEY_KIND, f"{region}/{ref}")
        found = KmsKey.decode(raw) if raw is not None else None
        verdict = Decision.ACCOUNT  # the default key policy's
        if found is not None and found.policy:
            request = self._policy_request(identity, found, action, context or {})
            verdict = self._documents.get(found.policy).decide(request)
        if verdict in (Decision.DENY, Decision.NONE) or (
            verdict is Decision.ACCOUNT and not identity.allows(capability, path)
        ):
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
        raw = self._store.get_record(KEY_KIND, f"{region}/{key_id}")
        return self._loaded(region, key_id, KmsKey.decode(raw) if raw is not None else None)

    def _loaded(self, region: str, key_id: str, key: KmsKey | None) -> KmsKey:
        if key is None:
            raise KmsError(
                "NotFoundException",
                f"Key 'arn:aws:kms:{region}:{self._account()}:key/{key_id}' does not exist",
            )
        if key.state == "PendingDeletion" and self._clock.now() >= key.deletion_date:
            self._destroy(key)
            raise KmsError("NotFoundException", f"Key '{key.arn}' does not exist")
        return key

    def _save(self, key: KmsKey) -> None:
        self._store.put_record(KEY_KIND, f"{key.region}/{key.key_id}", key.encode())

    def _destroy(self, key: KmsKey) -> None:
        mount = kms_namespace(key.region)
        self._named.delete(mount, key.key_id)
        self._store.delete_record(KEY_KIND, f"{key.region}/{key.key_id}")
        for name in self._store.list_records(ALIAS_KIND):
            raw = self._store.get_record(ALIAS_KIND, name)
            if raw is not None and json.loads(raw)["target"] == key.key_id:
                self._store.delete_record(ALIAS_KIND, name)

    @staticmethod
    def _for(key: KmsKey, usage: str, operation: str) -> None:
        """The key's state allows use, and its KeyUsage is ``usage``."""
        if key.key_usage != usage:
            raise KmsError(
                "InvalidKeyUsageException",
                f"{key.arn} key usage is {key.key_usage} which is not valid for {operation}.",
            )
        KmsService._usable(key)

    @staticmethod
    def _symmetric(key: KmsKey, operation: str) -> None:
        if key.key_spec != "SYMMETRIC_DEFAULT":
            raise KmsError(
                "InvalidKeyUsageException",
                f"{key.arn} is an asymmetric key: {operation} with it takes an "
                f"EncryptionAlgorithm of {', '.join(algorithms(key))}.",
            )

    # -- asymmetric encryption: the ciphertext is RSA-OAEP's own, and names no key
    def encrypt_asymmetric(
        self,
        identity: Identity,
        region: str,
        key_ref: object,
        plaintext: bytes,
        algorithm: str,
        context: Context,
    ) -> tuple[KmsKey, bytes]:
        key = self._resolve(identity, region, key_ref, "update", "encrypt", "Encrypt")
        self._for(key, "ENCRYPT_DECRYPT", "Encrypt")
        self._oaep(key, algorithm, context)
        _, material = self._key_version(key)
        try:
            return key, rsa_encrypt(material, plaintext, _hash_of(algorithm))
        except BadRequest as exc:
            raise KmsError("ValidationException", exc.message) from None

    def decrypt_asymmetric(
        self,
        identity: Identity,
        region: str,
        key_ref: object,
        ciphertext: bytes,
        algorithm: str,
        context: Context,
    ) -> tuple[KmsKey, bytes]:
        """The key is named by ``key_ref`` (an RSA ciphertext names none), and the one key
        version it has opens it."""
        if key_ref is None:
            raise KmsError("ValidationException", "Decrypt with an asymmetric key needs its KeyId.")
        key = self._resolve(identity, region, key_ref, "update", "decrypt", "Decrypt")
        self._for(key, "ENCRYPT_DECRYPT", "Decrypt")
        self._oaep(key, algorithm, context)
        _, material = self._key_version(key)
        try:
            return key, rsa_decrypt(material, ciphertext, _hash_of(algorithm))
        except DecryptionError:
            raise KmsError("InvalidCiphertextException") from None

    @staticmethod
    def _oaep(key: KmsKey, algorithm: str, context: Context) -> None:
        if algorithm not in algorithms(key):
            raise KmsError(
                "InvalidKeyUsageException",
                f"{algorithm} is not valid for {key.arn}; use {', '.join(algorithms(key))}.",
            )
        if context:
            raise KmsError("ValidationException", "An asymmetric key takes no EncryptionContext.")

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
        named = self._named.require(kms_namespace(key.region), key.key_id)
        number = named.latest_version if version is None else version
        found = named.versions.get(number)
        if found is None:
            raise KmsError("InvalidCiphertextException")
        return number, found.material

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
    ) -> KmsKey:
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
        if len(self._store.list_records(KEY_KIND)) >= MAX_KEYS_PER_REGION:
            raise KmsError("LimitExceededException", "Too many keys in this region.")
        key_id = str(uuid.uuid4())
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
        )
        if policy is not None:
            key = replace(
                key, policy=self._checked_policy(identity, key, policy, bypass_lockout_check)
            )
        self._named.create(mount, NamedKey.create(key_id, key_type, now))
        self._save(key)
        return key

    # -- key policies
    def _checked_policy(self, identity: Identity, key: KmsKey, text: object, bypass: bool) -> str:
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

    def get_policy(self, identity: Identity, region: str, key_ref: object, name: object) -> str:
        key = self._resolve(identity, region, key_ref, "read", "keys", "GetKeyPolicy")
        if name not in (None, "default"):
            raise KmsError("NotFoundException", f"No such policy: {name}; keys have 'default'.")
        return key.policy or default_key_policy(key.account)

    def put_policy(
        self,
        identity: Identity,
        region: str,
        key_ref: object,
        name: object,
        text: object,
        *,
        bypass_lockout_check: bool,
    ) -> None:
        """A new key policy; it needs ``sudo`` on the key (or the old policy naming the caller
        for kms:PutKeyPolicy), since a key policy grants what strongroom's policies do not."""
        key = self._resolve(identity, region, key_ref, "sudo", "keys", "PutKeyPolicy")
        if name not in (None, "default"):
            raise KmsError("ValidationException", "PolicyName is 'default', the only one.")
        self._usable_or_disabled(key)
        checked = self._checked_policy(identity, key, text, bypass_lockout_check)
        self._save(replace(key, policy=checked))

    def describe(self, identity: Identity, region: str, key_ref: object) -> KmsKey:
        return self._resolve(identity, region, key_ref, "read", "keys", "DescribeKey")

    def list_keys(self, identity: Identity, region: str) -> list[KmsKey]:
        self.check_region(region)
        identity.require("list", self._path(region, "keys"))
        keys = []
        for name in sorted(self._store.list_records(KEY_KIND)):
            key_region, _, key_id = name.partition("/")
            if key_region == region:
                try:
                    keys.append(self._load(region, key_id))
                except KmsError:
                    continue  # its deletion date passed
        return sorted(keys, key=lambda k: k.key_id)

    def latest_version(self, key: KmsKey) -> int:
        return self._material(key)[0]

    def set_enabled(self, identity: Identity, region: str, key_ref: object, enabled: bool) -> None:
        key = self._resolve(
            identity, region, key_ref, "update", "keys", "EnableKey" if enabled else "DisableKey"
        )
        if key.state == "PendingDeletion":
            raise KmsError("KMSInvalidStateException", f"{key.arn} is pending deletion.")
        self._save(replace(key, state="Enabled" if enabled else "Disabled"))

    def schedule_deletion(
        self, identity: Identity, region: str, key_ref: object, days: int
    ) -> KmsKey:
        key = self._resolve(identity, region, key_ref, "delete", "keys", "ScheduleKeyDeletion")
        if not 7 <= days <= 30:
            raise KmsError(
                "ValidationException",
                f"1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed "
                "to satisfy constraint: Member must have value between 7 and 30",
            )
        if key.state == "PendingDeletion":
            raise KmsError("KMSInvalidStateException", f"{key.arn} is pending deletion.")
        key = replace(
            key,
            state="PendingDeletion",
            deletion_date=self._clock.now() + days * _DAY,
            pending_window_days=days,
        )
        self._save(key)
        return key

    def cancel_deletion(self, identity: Identity, region: str, key_ref: object) -> KmsKey:
        key = self._resolve(identity, region, key_ref, "delete", "keys", "CancelKeyDeletion")
        if key.state != "PendingDeletion":
            raise KmsError("KMSInvalidStateException", f"{key.arn} is not pending deletion.")
        key = replace(key, state="Disabled", deletion_date=0.0, pending_window_days=0)
        self._save(key)  # AWS leaves a key whose deletion was cancelled disabled
        return key

    # -- rotation
    def set_rotation(
        self, identity: Identity, region: str, key_ref: object, period_days: int | None
    ) -> None:
        """Automatic rotation every ``period_days`` (90-2560), or off (None). The scheduler
        rotates named keys whose period has passed (service/transit.py: rotate_due)."""
        key = self._resolve(
            identity,
            region,
            key_ref,
            "update",
            "keys",
            "EnableKeyRotation" if period_days else "DisableKeyRotation",
        )
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
        seconds = float(period_days or 0) * _DAY
        self._named.change(
            kms_namespace(region),
            key.key_id,
            lambda named: replace(named, auto_rotate_period=seconds),
        )
        self._save(replace(key, rotation_period_days=period_days or 0))

    def rotate_now(self, identity: Identity, region: str, key_ref: object) -> KmsKey:
        key = self._resolve(identity, region, key_ref, "update", "keys", "RotateKeyOnDemand")
        if key.key_spec != "SYMMETRIC_DEFAULT":
            raise KmsError(
                "UnsupportedOperationException",
                f"{key.arn} is not a symmetric encryption key: it cannot be rotated on demand.",
            )
        self._usable(key)
        now = self._clock.now()
        self._named.change(kms_namespace(region), key.key_id, lambda named: named.rotated(now))
        key = replace(key, on_demand_rotations=(*key.on_demand_rotations, now))
        self._save(key)
        return key

    def rotations(
        self, identity: Identity, region: str, key_ref: object
    ) -> list[tuple[float, str]]:
        """(date, ON_DEMAND | AUTOMATIC) of every rotation, oldest first."""
        key = self._resolve(identity, region, key_ref, "read", "keys", "ListKeyRotations")
        named = self._named.require(kms_namespace(region), key.key_id)
        on_demand = set(key.on_demand_rotations)
        return [
            (v.created, "ON_DEMAND" if v.created in on_demand else "AUTOMATIC")
            for n, v in sorted(named.versions.items())
            if n > 1
        ]

    def next_rotation(self, key: KmsKey) -> float | None:
        if not key.rotation_period_days:
            return None
        named = self._named.require(kms_namespace(key.region), key.key_id)
        return named.versions[named.latest_version].created + key.rotation_period_days * _DAY

    # -- tags
    def describe_as(
        self, identity: Identity, region: str, key_ref: object, description: object
    ) -> None:
        """UpdateKeyDescription."""
        key = self._resolve(identity, region, key_ref, "update", "keys", "UpdateKeyDescription")
        if not isinstance(description, str) or len(description) > 8192:
            raise KmsError("ValidationException", "Description is at most 8192 characters.")
        self._usable_or_disabled(key)
        self._save(replace(key, description=description))

    def tag(
        self, identity: Identity, region: str, key_ref: object, tags: Mapping[str, str]
    ) -> None:
        key = self._resolve(identity, region, key_ref, "update", "keys", "TagResource")
        for name in tags:
            if name.startswith("aws:"):
                raise KmsError("TagException", "Tags beginning with aws: are reserved")
        merged = {**key.tags, **tags}
        if len(merged) > MAX_TAGS:
            raise KmsError("TagException", "Too many tags")
        self._save(replace(key, tags=merged))

    def untag(self, identity: Identity, region: str, key_ref: object, names: list[str]) -> None:
        key = self._resolve(identity, region, key_ref, "update", "keys", "UntagResource")
        self._save(replace(key, tags={k: v for k, v in key.tags.items() if k not in names}))

    # -- keys the services keep for themselves (alias/aws/…, as AWS-managed keys)
    def ensure_service_key(self, region: str, alias: str) -> str:
        """The key behind an AWS-managed alias (``alias/aws/ssm``), made on first use."""
        found = self.alias_target(region, alias)
        if found is not None:
            return found
        key = self.create_key(Identity.system(), region, description=f"Default key ({alias})")
        now = self._clock.now()
        doc = {"target": key.key_id, "created": now, "updated": now}
        self._store.replace_record(ALIAS_KIND, f"{region}/{alias}", None, json.dumps(doc).encode())
        return self.alias_target(region, alias) or key.key_id

    def alias_target(self, region: str, alias: str) -> str | None:
        raw = self._store.get_record(ALIAS_KIND, f"{region}/{alias}")
        return str(json.loads(raw)["target"]) if raw is not None else None

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
        if not _ALIAS_CHARS.fullmatch(name):
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
        if not _ALIAS.fullmatch(name):
            raise KmsError("InvalidAliasNameException", f"Alias name {name} is not valid.")
        return name

    def create_alias(self, identity: Identity, region: str, name: object, target: object) -> None:
        alias = self._check_alias(name)
        identity.require("create", self._path(region, "aliases", alias[6:]))
        key = self._resolve(identity, region, target, "update", "keys", "CreateAlias")
        if key.state == "PendingDeletion":
            raise KmsError("KMSInvalidStateException", f"{key.arn} is pending deletion.")
        now = self._clock.now()
        doc = {"target": key.key_id, "created": now, "updated": now}
        record = f"{region}/{alias}"
        if not self._store.replace_record(ALIAS_KIND, record, None, json.dumps(doc).encode()):
            raise KmsError(
                "AlreadyExistsException",
                f"An alias with the name arn:aws:kms:{region}:{self._account()}:{alias} "
                "already exists",
            )

    def update_alias(self, identity: Identity, region: str, name: object, target: object) -> None:
        alias = self._check_alias(name)
        identity.require("update", self._path(region, "aliases", alias[6:]))
        key = self._resolve(identity, region, target, "update", "keys", "UpdateAlias")
        raw = self._store.get_record(ALIAS_KIND, f"{region}/{alias}")
        if raw is None:
            raise KmsError(
                "NotFoundException",
                f"Alias arn:aws:kms:{region}:{self._account()}:{alias} is not found.",
            )
        doc = {**json.loads(raw), "target": key.key_id, "updated": self._clock.now()}
        self._store.put_record(ALIAS_KIND, f"{region}/{alias}", json.dumps(doc).encode())

    def delete_alias(self, identity: Identity, region: str, name: object) -> None:
        alias = self._check_alias(name)
        identity.require("delete", self._path(region, "aliases", alias[6:]))
        if not self._store.delete_record(ALIAS_KIND, f"{region}/{alias}"):
            raise KmsError(
                "NotFoundException",
                f"Alias arn:aws:kms:{region}:{self._account()}:{alias} is not found.",
            )

    def list_aliases(
        self, identity: Identity, region: str, key_ref: object = None
    ) -> list[dict[str, Any]]:
        self.check_region(region)
        identity.require("list", self._path(region, "aliases"))
        target = None
        if key_ref is not None:
            target = self._resolve(identity, region, key_ref, "read", "keys", "ListAliases").key_id
        found = []
        for name in sorted(self._store.list_records(ALIAS_KIND)):
            alias_region, _, alias = name.partition("/")
            raw = self._store.get_record(ALIAS_KIND, name)
            if alias_region != region or raw is None:
                continue
            doc = json.loads(raw)
            if target is None or doc["target"] == target:
                found.append({"name": alias, **doc})
        return found

    # -- data
    def encrypt(
        self,
        identity: Identity,
        region: str,
        key_ref: object,
        plaintext: bytes,
        context: Context,
        area: str = "encrypt",
        action: str = "Encrypt",
    ) -> tuple[KmsKey, bytes]:
        key = self._resolve(identity, region, key_ref, "update", area, action, context)
        self._for(key, "ENCRYPT_DECRYPT", "Encrypt")
        self._symmetric(key, action)
        if not 1 <= len(plaintext) <= MAX_PLAINTEXT_BYTES:
            bound = (
                "greater than or equal to 1"
                if not plaintext
                else f"less than or equal to {MAX_PLAINTEXT_BYTES}"
            )
            raise KmsError(
                "ValidationException",
                "1 validation error detected: Value at 'plaintext' failed to satisfy "
                f"constraint: Member must have length {bound}",
            )
        version, material = self._material(key)
        return key, seal_blob(key.key_id, version, material, plaintext, context)

    def decrypt(
        self,
        identity: Identity,
        region: str,
        blob: bytes,
        context: Context,
        key_ref: object = None,
        action: str = "Decrypt",
    ) -> tuple[KmsKey, bytes]:
        """The blob names its key; a KeyId, when given, must be that key (IncorrectKey)."""
        try:
            header = parse_blob(blob)
        except DecryptionError:
            raise KmsError("InvalidCiphertextException") from None
        key = self._resolve(identity, region, header.key_id, "update", "decrypt", action, context)
        if key_ref is not None:
            named = self._resolve(identity, region, key_ref, "read", "keys", action)
            if named.key_id != key.key_id:
                raise KmsError(
                    "IncorrectKeyException",
                    "The key ID in the request does not identify a CMK that can perform this "
                    "operation.",
                )
        self._for(key, "ENCRYPT_DECRYPT", "Decrypt")
        self._symmetric(key, action)
        _, material = self._material(key, header.version)
        try:
            return key, open_blob(blob, material, context)
        except DecryptionError:
            raise KmsError("InvalidCiphertextException") from None

    def data_key(
        self,
        identity: Identity,
        region: str,
        key_ref: object,
        size: int,
        context: Context,
        action: str = "GenerateDataKey",
    ) -> tuple[KmsKey, bytes, bytes]:
        """(key, plaintext data key, its CiphertextBlob)."""
        if not 1 <= size <= MAX_DATA_KEY_BYTES:
            raise KmsError(
                "ValidationException",
                f"1 validation error detected: Value '{size}' at 'numberOfBytes' failed to "
                f"satisfy constraint: Member must have value less than or equal to "
                f"{MAX_DATA_KEY_BYTES}",
            )
        plaintext = os.urandom(size)
        key, blob = self.encrypt(identity, region, key_ref, plaintext, context, "datakey", action)
        return key, plaintext, blob

    def data_key_pair(
        self,
        identity: Identity,
        region: str,
        key_ref: object,
        spec: object,
        context: Context,
        action: str = "GenerateDataKeyPair",
    ) -> tuple[KmsKey, bytes, bytes, bytes]:
        """(key, private key DER (PKCS#8), its CiphertextBlob, public key DER (SPKI)): a new
        key pair whose private half is sealed by the symmetric key ``key_ref``."""
        if spec not in PAIR_SPECS:
            raise KmsError(
                "ValidationException",
                f"1 validation error detected: Value '{spec}' at 'keyPairSpec' failed to satisfy "
                f"constraint: Member must satisfy enum value set: [{', '.join(PAIR_SPECS)}]",
            )
        private = new_key_pair(str(spec))
        key, blob = self.encrypt(identity, region, key_ref, private.der, context, "datakey", action)
        return key, private.der, blob, private.public_der

    # -- MACs and signatures
    def _key_version(self, key: KmsKey) -> tuple[str, bytes]:
        named = self._named.require(kms_namespace(key.region), key.key_id)
        return named.type, named.versions[named.latest_version].material

    def _algorithm(self, key: KmsKey, algorithm: object) -> str:
        allowed = algorithms(key)
        if algorithm not in allowed:
            raise KmsError(
                "InvalidKeyUsageException",
                f"Algorithm {algorithm} is not compatible with the key spec {key.key_spec}; "
                f"use {', '.join(allowed)}.",
            )
        return str(algorithm)

    @staticmethod
    def _signing(key: KmsKey, key_ref: object) -> None:
        if key.key_usage != "SIGN_VERIFY":
            raise KmsError(
                "ValidationException",
                f"1 validation error detected: Value '{key_ref}' at 'KeyId' failed to satisfy "
                "constraint: Member must point to a key with usage: 'SIGN_VERIFY'",
            )
        KmsService._usable(key)

    @staticmethod
    def _signing_algorithm(key: KmsKey, algorithm: object) -> str:
        allowed = sorted(algorithms(key))
        if algorithm not in allowed:
            raise KmsError(
                "ValidationException",
                f"1 validation error detected: Value '{algorithm}' at 'SigningAlgorithm' failed "
                f"to satisfy constraint: Member must satisfy enum value set: {allowed}",
            )
        return str(algorithm)

    def mac(
        self,
        identity: Identity,
        region: str,
        key_ref: object,
        message: bytes,
        algorithm: object,
        action: str = "GenerateMac",
    ) -> tuple[KmsKey, bytes]:
        key = self._resolve(identity, region, key_ref, "update", "mac", action)
        self._for(key, "GENERATE_VERIFY_MAC", "GenerateMac")
        chosen = self._algorithm(key, algorithm)
        _, material = self._key_version(key)
        return key, hmac_digest(material, message, _hash_of(chosen))

    def verify_mac(
        self,
        identity: Identity,
        region: str,
        key_ref: object,
        message: bytes,
        mac: bytes,
        algorithm: object,
    ) -> KmsKey:
        key, expected = self.mac(identity, region, key_ref, message, algorithm, "VerifyMac")
        if not hmac.compare_digest(expected, mac):
            raise KmsError("KMSInvalidMacException", "")
        return key

    def sign(
        self,
        identity: Identity,
        region: str,
        key_ref: object,
        message: bytes,
        algorithm: object,
        *,
        digest: bool,
    ) -> tuple[KmsKey, bytes]:
        key = self._resolve(identity, region, key_ref, "update", "sign", "Sign")
        self._signing(key, key_ref)
        chosen = self._signing_algorithm(key, algorithm)
        key_type, material = self._key_version(key)
        padding = "pkcs1v15" if "PKCS1" in chosen else "pss"
        signature = sign(
            key_type,
            material,
            message,
            hash_name=_hash_of(chosen),
            prehashed=digest,
            rsa_padding=padding,
        )
        return key, signature

    def verify(
        self,
        identity: Identity,
        region: str,
        key_ref: object,
        message: bytes,
        signature: bytes,
        algorithm: object,
        *,
        digest: bool,
    ) -> KmsKey:
        key = self._resolve(identity, region, key_ref, "update", "verify", "Verify")
        self._signing(key, key_ref)
        chosen = self._signing_algorithm(key, algorithm)
        key_type, material = self._key_version(key)
        padding = "pkcs1v15" if "PKCS1" in chosen else "pss"
        if not verify(
            key_type,
            material,
            message,
            signature,
            hash_name=_hash_of(chosen),
            prehashed=digest,
            rsa_padding=padding,
        ):
            raise KmsError("KMSInvalidSignatureException", "")
        return key

    def public_key(self, identity: Identity, region: str, key_ref: object) -> tuple[KmsKey, bytes]:
        """The DER SubjectPublicKeyInfo of an asymmetric key."""
        key = self._resolve(identity, region, key_ref, "read", "keys", "GetPublicKey")
        if not key.key_spec.startswith(("RSA_", "ECC_")):
            raise KmsError("UnsupportedOperationException", f"{key.arn} is not an asymmetric key.")
        key_type, material = self._key_version(key)
        pem = public_key(key_type, material)
        body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
        return key, base64.b64decode(body)

    def random(self, identity: Identity, region: str, size: int) -> bytes:
        self.check_region(region)
        identity.require("update", self._path(region, "random"))
        if not 1 <= size <= MAX_DATA_KEY_BYTES:
            raise KmsError(
                "ValidationException",
                f"1 validation error detected: Value '{size}' at 'numberOfBytes' failed to "
                "satisfy constraint: Member must have value less than or equal to 1024",
            )
        return os.urandom(size)
