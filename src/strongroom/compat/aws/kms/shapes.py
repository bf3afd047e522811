"""What the KMS responses share: the request's backend, region and body, a key's metadata,
algorithms, tags and paging, in the shapes botocore's model has."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from strongroom.compat.aws.fields import AwsError, integer, region_of, string
from strongroom.compat.aws.kms.models import KmsKey, algorithms
from strongroom.compat.aws.kms.operations import KmsService
from strongroom.server.routes import Answer, Call

__all__ = [
    "MAX_LIST",
    "OAEP",
    "SYMMETRIC_ALGORITHM",
    "asymmetric_algorithm",
    "b64",
    "backend",
    "check_algorithm",
    "key_metadata",
    "page_of",
    "paged",
]


SYMMETRIC_ALGORITHM = "SYMMETRIC_DEFAULT"


OAEP = ("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256")


MAX_LIST = 1000


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def backend(call: Call) -> tuple[KmsService, str, dict[str, Any]]:
    region = region_of(call)
    service = call.services.aws_kms
    service.check_region(region)
    return service, region, call.json()


def key_metadata(service: KmsService, key: KmsKey) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "AWSAccountId": key.account,
        "KeyId": key.key_id,
        "Arn": key.arn,
        "CreationDate": key.created,
        "Enabled": key.state == "Enabled",
        "Description": key.description,
        "KeyUsage": key.key_usage,
        "KeyState": "Updating" if key.updating_to else key.state,
        "Origin": "AWS_KMS",
        "KeyManager": "CUSTOMER",
        "CustomerMasterKeySpec": key.key_spec,
        "KeySpec": key.key_spec,
        "MultiRegion": key.multi_region,
    }
    primary = service.primary_of(key)
    if primary is not None:
        doc["MultiRegionConfiguration"] = {
            "MultiRegionKeyType": "REPLICA" if key.primary_region else "PRIMARY",
            "PrimaryKey": {"Arn": primary.arn, "Region": primary.region},
            "ReplicaKeys": [
                {"Arn": primary.arn_in(r), "Region": r} for r in primary.replica_regions
            ],
        }
    field = {
        "ENCRYPT_DECRYPT": "EncryptionAlgorithms",
        "GENERATE_VERIFY_MAC": "MacAlgorithms",
        "SIGN_VERIFY": "SigningAlgorithms",
    }[key.key_usage]
    doc[field] = list(algorithms(key))
    if key.state == "PendingDeletion":
        doc["DeletionDate"] = key.deletion_date
        doc["PendingDeletionWindowInDays"] = key.pending_window_days
    return doc


def check_algorithm(doc: dict[str, Any], name: str = "EncryptionAlgorithm") -> None:
    """Only SYMMETRIC_DEFAULT here (ReEncrypt, data keys)."""
    chosen = string(doc, name)
    if chosen is not None and chosen != SYMMETRIC_ALGORITHM:
        raise AwsError(
            "InvalidKeyUsageException",
            f"{chosen} is not supported for this key; it supports {SYMMETRIC_ALGORITHM}.",
        )


def asymmetric_algorithm(doc: dict[str, Any]) -> str | None:
    """The RSAES_OAEP_… algorithm asked for, if one is."""
    chosen = string(doc, "EncryptionAlgorithm")
    if chosen is None or chosen == SYMMETRIC_ALGORITHM:
        return None
    if chosen not in OAEP:
        raise AwsError(
            "ValidationException",
            f"1 validation error detected: Value '{chosen}' at 'encryptionAlgorithm' failed to "
            f"satisfy constraint: Member must satisfy enum value set: [{SYMMETRIC_ALGORITHM}, "
            f"{', '.join(OAEP)}]",
        )
    return str(chosen)


def page_of(
    doc: dict[str, Any], items: list[Any], key: Callable[[Any], str]
) -> tuple[list[Any], str]:
    limit = integer(doc, "Limit") or 100
    if not 1 <= limit <= MAX_LIST:
        raise AwsError(
            "ValidationException",
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            f"constraint: Member must have value between 1 and {MAX_LIST}",
        )
    marker = string(doc, "Marker")
    if marker is not None:
        items = [item for item in items if key(item) > marker]
    page = items[:limit]
    return page, key(page[-1]) if len(items) > limit else ""


def paged(answer: dict[str, Any], name: str, page: list[Any], marker: str) -> Answer:
    answer[name] = page
    answer["Truncated"] = bool(marker)
    if marker:
        answer["NextMarker"] = marker
    return Answer(answer)
