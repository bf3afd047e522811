"""A KMS key as strongroom keeps it (``KmsKey``, one record per key beside its named key), and
what AWS KMS defines: key specs, usages and their algorithms, limits."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

from strongroom.compat.aws.kms.errors import KmsError
from strongroom.policy.aws_documents import (
    PolicyDocument,
    PolicyDocumentError,
    account_arn,
)

__all__ = [
    "ALIAS",
    "ALIAS_CHARS",
    "ALIAS_KIND",
    "AWS_KEY_SPECS",
    "CONDITION_KEYS",
    "DAY",
    "KEY_ID",
    "KEY_KIND",
    "KEY_SPECS",
    "MAX_DATA_KEY_BYTES",
    "MAX_KEYS_PER_REGION",
    "MAX_KEY_POLICY",
    "MAX_PLAINTEXT_BYTES",
    "PAIR_SPECS",
    "REGION",
    "KmsAlias",
    "KmsKey",
    "algorithms",
    "default_key_policy",
    "hash_of",
    "kms_namespace",
    "parse_key_policy",
]

KEY_KIND = "aws-kms-key"
ALIAS_KIND = "aws-kms-alias"
MAX_PLAINTEXT_BYTES = 4096
MAX_DATA_KEY_BYTES = 1024
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
DAY = 86_400.0
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$")
ALIAS = re.compile(r"^alias/[a-zA-Z0-9/_-]{1,250}$")
ALIAS_CHARS = re.compile(r"^[a-zA-Z0-9:/_-]+$")
# a single-region key's UUID, or a multi-Region key's mrk- id (the same in every region)
KEY_ID = re.compile(
    r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$"
)


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


def parse_key_policy(text: str) -> PolicyDocument:
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
    on_demand_rotations: tuple[float, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    key_spec: str = "SYMMETRIC_DEFAULT"
    key_usage: str = "ENCRYPT_DECRYPT"
    policy: str = field(default="", repr=False)  # "": the default key policy
    multi_region: bool = False
    primary_region: str = ""  # a replica's: its material and rotation are the primary's
    replica_regions: tuple[str, ...] = ()  # a multi-Region primary's replicas
    updating_to: str = ""  # a primary whose primary Region is moving there (UpdatePrimaryRegion)

    @property
    def arn(self) -> str:
        return f"arn:aws:kms:{self.region}:{self.account}:key/{self.key_id}"

    @property
    def home_region(self) -> str:
        """Where the key's material lives: its own region, or a replica's primary's."""
        return self.primary_region or self.region

    def arn_in(self, region: str) -> str:
        """The ARN of this multi-Region key's copy in ``region``."""
        return f"arn:aws:kms:{region}:{self.account}:key/{self.key_id}"

    def encode(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def decode(cls, raw: bytes) -> KmsKey:
        doc = json.loads(raw)
        doc["on_demand_rotations"] = tuple(doc.get("on_demand_rotations", ()))
        doc["replica_regions"] = tuple(doc.get("replica_regions", ()))
        # The rotation period is the named key's alone (auto_rotate_period); records written
        # before kept a copy here, which is not read.
        doc.pop("rotation_period_days", None)
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


@dataclass(frozen=True)
class KmsAlias:
    """What an alias names: a key id, and when the alias was made and last pointed elsewhere
    (epoch seconds, as AWS's JSON timestamps). Kept by ``<region>/alias/<name>``."""

    target: str
    created: float
    updated: float

    def encode(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def decode(cls, raw: bytes) -> KmsAlias:
        doc = json.loads(raw)
        return cls(str(doc["target"]), float(doc["created"]), float(doc["updated"]))


def algorithms(key: KmsKey) -> tuple[str, ...]:
    """The algorithms of the key's spec for its usage."""
    return KEY_SPECS[key.key_spec][1][key.key_usage]


def hash_of(algorithm: str) -> str:
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
