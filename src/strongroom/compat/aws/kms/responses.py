"""AWS KMS (``X-Amz-Target: TrentService.<Operation>``) over service/aws_kms.py: shapes and
names as botocore's model has them; the service decides."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from strongroom.server.aws.wire import AwsError, blob, integer, region_of, string, string_map
from strongroom.server.routes import Answer, Call, Route
from strongroom.service.aws_kms import MAX_PLAINTEXT_BYTES, KmsKey, KmsService, algorithms

__all__ = [
    "KMS_ROUTES",
    "cancel_key_deletion",
    "create_alias",
    "create_key",
    "decrypt",
    "delete_alias",
    "describe_key",
    "disable_key",
    "disable_key_rotation",
    "enable_key",
    "enable_key_rotation",
    "encrypt",
    "generate_data_key",
    "generate_data_key_pair",
    "generate_data_key_pair_without_plaintext",
    "generate_data_key_without_plaintext",
    "generate_mac",
    "generate_random",
    "get_key_policy",
    "get_key_rotation_status",
    "get_public_key",
    "list_aliases",
    "list_key_policies",
    "list_key_rotations",
    "list_keys",
    "list_resource_tags",
    "put_key_policy",
    "re_encrypt",
    "rotate_key_on_demand",
    "schedule_key_deletion",
    "sign",
    "tag_resource",
    "untag_resource",
    "update_alias",
    "update_key_description",
    "verify",
    "verify_mac",
]

_ALGORITHM = "SYMMETRIC_DEFAULT"
_OAEP = ("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256")
_MAX_BLOB = 6144
_DATA_KEY_SPECS = {"AES_256": 32, "AES_128": 16}
_MAX_LIST = 1000


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _kms(call: Call) -> tuple[KmsService, str, dict[str, Any]]:
    region = region_of(call)
    service = call.services.aws_kms
    service.check_region(region)
    return service, region, call.json()


def _metadata(service: KmsService, key: KmsKey) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "AWSAccountId": key.account,
        "KeyId": key.key_id,
        "Arn": key.arn,
        "CreationDate": key.created,
        "Enabled": key.state == "Enabled",
        "Description": key.description,
        "KeyUsage": key.key_usage,
        "KeyState": key.state,
        "Origin": "AWS_KMS",
        "KeyManager": "CUSTOMER",
        "CustomerMasterKeySpec": key.key_spec,
        "KeySpec": key.key_spec,
        "MultiRegion": False,
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


def _algorithm(doc: dict[str, Any], name: str = "EncryptionAlgorithm") -> None:
    """Only SYMMETRIC_DEFAULT here (ReEncrypt, data keys)."""
    chosen = string(doc, name)
    if chosen is not None and chosen != _ALGORITHM:
        raise AwsError(
            "InvalidKeyUsageException",
            f"{chosen} is not supported for this key; it supports {_ALGORITHM}.",
        )


def _asymmetric(doc: dict[str, Any]) -> str | None:
    """The RSAES_OAEP_… algorithm asked for, if one is."""
    chosen = string(doc, "EncryptionAlgorithm")
    if chosen is None or chosen == _ALGORITHM:
        return None
    if chosen not in _OAEP:
        raise AwsError(
            "ValidationException",
            f"1 validation error detected: Value '{chosen}' at 'encryptionAlgorithm' failed to "
            f"satisfy constraint: Member must satisfy enum value set: [{_ALGORITHM}, "
            f"{', '.join(_OAEP)}]",
        )
    return str(chosen)


def _tags(doc: dict[str, Any]) -> dict[str, str]:
    tags = doc.get("Tags") or []
    if not isinstance(tags, list) or not all(
        isinstance(t, dict)
        and isinstance(t.get("TagKey"), str)
        and isinstance(t.get("TagValue"), str)
        for t in tags
    ):
        raise AwsError("ValidationException", "Tags is a list of {TagKey, TagValue}.")
    keys = [t["TagKey"] for t in tags]
    if len(set(keys)) != len(keys):
        raise AwsError("TagException", "Duplicate tag keys")
    return {t["TagKey"]: t["TagValue"] for t in tags}


def _page(
    doc: dict[str, Any], items: list[Any], key: Callable[[Any], str]
) -> tuple[list[Any], str]:
    limit = integer(doc, "Limit") or 100
    if not 1 <= limit <= _MAX_LIST:
        raise AwsError(
            "ValidationException",
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            f"constraint: Member must have value between 1 and {_MAX_LIST}",
        )
    marker = string(doc, "Marker")
    if marker is not None:
        items = [item for item in items if key(item) > marker]
    page = items[:limit]
    return page, key(page[-1]) if len(items) > limit else ""


def _paged(answer: dict[str, Any], name: str, page: list[Any], marker: str) -> Answer:
    answer[name] = page
    answer["Truncated"] = bool(marker)
    if marker:
        answer["NextMarker"] = marker
    return Answer(answer)


# -- keys
def create_key(call: Call) -> Answer:
    service, region, doc = _kms(call)
    usage = string(doc, "KeyUsage")
    spec = string(doc, "KeySpec") or string(doc, "CustomerMasterKeySpec") or _ALGORITHM
    if string(doc, "Origin") not in (None, "AWS_KMS") or doc.get("MultiRegion"):
        raise AwsError("UnsupportedOperationException", "Only AWS_KMS single-region keys.")
    key = service.create_key(
        call.identity,
        region,
        description=string(doc, "Description", max_len=8192) or "",
        tags=_tags(doc),
        key_spec=spec,
        key_usage=usage,
        policy=doc.get("Policy"),
        bypass_lockout_check=doc.get("BypassPolicyLockoutSafetyCheck") is True,
    )
    return Answer({"KeyMetadata": _metadata(service, key)}, clear=("KeyMetadata",))


def describe_key(call: Call) -> Answer:
    service, region, doc = _kms(call)
    key = service.describe(call.identity, region, string(doc, "KeyId", required=True))
    return Answer({"KeyMetadata": _metadata(service, key)}, clear=("KeyMetadata",))


def list_keys(call: Call) -> Answer:
    service, region, doc = _kms(call)
    keys = service.list_keys(call.identity, region)
    page, marker = _page(doc, keys, lambda k: k.key_id)
    entries = [{"KeyId": k.key_id, "KeyArn": k.arn} for k in page]
    return _paged({}, "Keys", entries, marker)


def enable_key(call: Call) -> Answer:
    service, region, doc = _kms(call)
    service.set_enabled(call.identity, region, string(doc, "KeyId", required=True), True)
    return Answer({})


def disable_key(call: Call) -> Answer:
    service, region, doc = _kms(call)
    service.set_enabled(call.identity, region, string(doc, "KeyId", required=True), False)
    return Answer({})


def schedule_key_deletion(call: Call) -> Answer:
    service, region, doc = _kms(call)
    days = integer(doc, "PendingWindowInDays")
    key = service.schedule_deletion(
        call.identity, region, string(doc, "KeyId", required=True), 30 if days is None else days
    )
    return Answer(
        {
            "KeyId": key.arn,
            "DeletionDate": key.deletion_date,
            "KeyState": key.state,
            "PendingWindowInDays": key.pending_window_days,
        },
        clear=("KeyId", "KeyState"),
    )


def cancel_key_deletion(call: Call) -> Answer:
    service, region, doc = _kms(call)
    key = service.cancel_deletion(call.identity, region, string(doc, "KeyId", required=True))
    return Answer({"KeyId": key.arn}, clear=("KeyId",))


def get_key_policy(call: Call) -> Answer:
    service, region, doc = _kms(call)
    name = string(doc, "PolicyName", max_len=128)
    policy = service.get_policy(call.identity, region, string(doc, "KeyId", required=True), name)
    return Answer({"Policy": policy, "PolicyName": "default"})


def put_key_policy(call: Call) -> Answer:
    service, region, doc = _kms(call)
    service.put_policy(
        call.identity,
        region,
        string(doc, "KeyId", required=True),
        string(doc, "PolicyName", max_len=128),
        doc.get("Policy"),
        bypass_lockout_check=doc.get("BypassPolicyLockoutSafetyCheck") is True,
    )
    return Answer({})


def update_key_description(call: Call) -> Answer:
    service, region, doc = _kms(call)
    service.describe_as(
        call.identity, region, string(doc, "KeyId", required=True), doc.get("Description")
    )
    return Answer({})


def list_key_policies(call: Call) -> Answer:
    service, region, doc = _kms(call)
    service.get_policy(call.identity, region, string(doc, "KeyId", required=True), None)
    return Answer({"PolicyNames": ["default"], "Truncated": False})


# -- rotation
def enable_key_rotation(call: Call) -> Answer:
    service, region, doc = _kms(call)
    days = integer(doc, "RotationPeriodInDays")
    service.set_rotation(
        call.identity, region, string(doc, "KeyId", required=True), 365 if days is None else days
    )
    return Answer({})


def disable_key_rotation(call: Call) -> Answer:
    service, region, doc = _kms(call)
    service.set_rotation(call.identity, region, string(doc, "KeyId", required=True), None)
    return Answer({})


def get_key_rotation_status(call: Call) -> Answer:
    service, region, doc = _kms(call)
    key = service.describe(call.identity, region, string(doc, "KeyId", required=True))
    answer: dict[str, Any] = {"KeyRotationEnabled": bool(key.rotation_period_days)}
    answer["KeyId"] = key.arn
    if key.rotation_period_days:
        answer["RotationPeriodInDays"] = key.rotation_period_days
        answer["NextRotationDate"] = service.next_rotation(key)
    if key.on_demand_rotations:
        answer["OnDemandRotationStartDate"] = key.on_demand_rotations[-1]
    return Answer(answer, clear=("KeyRotationEnabled", "KeyId"))


def rotate_key_on_demand(call: Call) -> Answer:
    service, region, doc = _kms(call)
    key = service.rotate_now(call.identity, region, string(doc, "KeyId", required=True))
    return Answer({"KeyId": key.arn}, clear=("KeyId",))


def list_key_rotations(call: Call) -> Answer:
    service, region, doc = _kms(call)
    key_ref = string(doc, "KeyId", required=True)
    key = service.describe(call.identity, region, key_ref)
    rotations = service.rotations(call.identity, region, key_ref)
    entries = [
        {"KeyId": key.arn, "RotationDate": date, "RotationType": kind} for date, kind in rotations
    ]
    page, marker = _page(doc, entries, lambda e: f"{e['RotationDate']:020.6f}")
    return _paged({}, "Rotations", page, marker)


# -- tags
def tag_resource(call: Call) -> Answer:
    service, region, doc = _kms(call)
    service.tag(call.identity, region, string(doc, "KeyId", required=True), _tags(doc))
    return Answer({})


def untag_resource(call: Call) -> Answer:
    service, region, doc = _kms(call)
    names = doc.get("TagKeys")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise AwsError("ValidationException", "TagKeys is a list of strings.")
    service.untag(call.identity, region, string(doc, "KeyId", required=True), names)
    return Answer({})


def list_resource_tags(call: Call) -> Answer:
    service, region, doc = _kms(call)
    key = service.describe(call.identity, region, string(doc, "KeyId", required=True))
    tags = [{"TagKey": k, "TagValue": v} for k, v in sorted(key.tags.items())]
    page, marker = _page(doc, tags, lambda t: t["TagKey"])
    return _paged({}, "Tags", page, marker)


# -- aliases
def create_alias(call: Call) -> Answer:
    service, region, doc = _kms(call)
    service.create_alias(
        call.identity,
        region,
        string(doc, "AliasName", required=True, max_len=256),
        string(doc, "TargetKeyId", required=True),
    )
    return Answer({})


def update_alias(call: Call) -> Answer:
    service, region, doc = _kms(call)
    service.update_alias(
        call.identity,
        region,
        string(doc, "AliasName", required=True, max_len=256),
        string(doc, "TargetKeyId", required=True),
    )
    return Answer({})


def delete_alias(call: Call) -> Answer:
    service, region, doc = _kms(call)
    service.delete_alias(call.identity, region, string(doc, "AliasName", required=True))
    return Answer({})


def list_aliases(call: Call) -> Answer:
    service, region, doc = _kms(call)
    aliases = service.list_aliases(call.identity, region, string(doc, "KeyId"))
    entries = [
        {
            "AliasName": a["name"],
            "AliasArn": f"arn:aws:kms:{region}:{service.account}:{a['name']}",
            "TargetKeyId": a["target"],
            "CreationDate": a["created"],
            "LastUpdatedDate": a["updated"],
        }
        for a in aliases
    ]
    page, marker = _page(doc, entries, lambda e: e["AliasName"])
    return _paged({}, "Aliases", page, marker)


# -- data
def encrypt(call: Call) -> Answer:
    service, region, doc = _kms(call)
    oaep = _asymmetric(doc)
    plaintext = blob(doc, "Plaintext", required=True, max_len=MAX_PLAINTEXT_BYTES)
    assert plaintext is not None
    if oaep is not None:
        key, sealed = service.encrypt_asymmetric(
            call.identity,
            region,
            string(doc, "KeyId", required=True),
            plaintext,
            oaep,
            string_map(doc, "EncryptionContext"),
        )
        answer = {"CiphertextBlob": _b64(sealed), "KeyId": key.arn, "EncryptionAlgorithm": oaep}
        return Answer(answer, clear=("KeyId", "EncryptionAlgorithm"))
    key, sealed = service.encrypt(
        call.identity,
        region,
        string(doc, "KeyId", required=True),
        plaintext,
        string_map(doc, "EncryptionContext"),
    )
    answer = {"CiphertextBlob": _b64(sealed), "KeyId": key.arn, "EncryptionAlgorithm": _ALGORITHM}
    return Answer(answer, clear=("KeyId", "EncryptionAlgorithm"))


def decrypt(call: Call) -> Answer:
    service, region, doc = _kms(call)
    oaep = _asymmetric(doc)
    sealed = blob(doc, "CiphertextBlob", required=True, max_len=_MAX_BLOB)
    assert sealed is not None
    if oaep is not None:
        key, plaintext = service.decrypt_asymmetric(
            call.identity,
            region,
            string(doc, "KeyId"),
            sealed,
            oaep,
            string_map(doc, "EncryptionContext"),
        )
        answer = {"KeyId": key.arn, "Plaintext": _b64(plaintext), "EncryptionAlgorithm": oaep}
        return Answer(answer, clear=("KeyId", "EncryptionAlgorithm"))
    key, plaintext = service.decrypt(
        call.identity, region, sealed, string_map(doc, "EncryptionContext"), string(doc, "KeyId")
    )
    answer = {"KeyId": key.arn, "Plaintext": _b64(plaintext), "EncryptionAlgorithm": _ALGORITHM}
    return Answer(answer, clear=("KeyId", "EncryptionAlgorithm"))


def _data_key_size(doc: dict[str, Any]) -> int:
    size, spec = integer(doc, "NumberOfBytes"), string(doc, "KeySpec")
    if (size is None) == (spec is None):
        raise AwsError("ValidationException", "Please specify either number of bytes or key spec.")
    if spec is not None:
        if spec not in _DATA_KEY_SPECS:
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{spec}' at 'keySpec' failed to satisfy "
                "constraint: Member must satisfy enum value set: [AES_256, AES_128]",
            )
        return _DATA_KEY_SPECS[spec]
    assert size is not None
    return size


def generate_data_key(call: Call) -> Answer:
    service, region, doc = _kms(call)
    key, plaintext, sealed = service.data_key(
        call.identity,
        region,
        string(doc, "KeyId", required=True),
        _data_key_size(doc),
        string_map(doc, "EncryptionContext"),
    )
    answer = {"CiphertextBlob": _b64(sealed), "Plaintext": _b64(plaintext), "KeyId": key.arn}
    return Answer(answer, clear=("KeyId",))


def generate_data_key_without_plaintext(call: Call) -> Answer:
    service, region, doc = _kms(call)
    key, _, sealed = service.data_key(
        call.identity,
        region,
        string(doc, "KeyId", required=True),
        _data_key_size(doc),
        string_map(doc, "EncryptionContext"),
        "GenerateDataKeyWithoutPlaintext",
    )
    return Answer({"CiphertextBlob": _b64(sealed), "KeyId": key.arn}, clear=("KeyId",))


def _data_key_pair(call: Call, *, with_plaintext: bool) -> Answer:
    service, region, doc = _kms(call)
    spec = string(doc, "KeyPairSpec", required=True)
    key, private, sealed, public = service.data_key_pair(
        call.identity,
        region,
        string(doc, "KeyId", required=True),
        spec,
        string_map(doc, "EncryptionContext"),
        "GenerateDataKeyPair" if with_plaintext else "GenerateDataKeyPairWithoutPlaintext",
    )
    answer = {
        "PrivateKeyCiphertextBlob": _b64(sealed),
        "PublicKey": _b64(public),
        "KeyId": key.arn,
        "KeyPairSpec": spec,
    }
    if with_plaintext:
        answer["PrivateKeyPlaintext"] = _b64(private)
    return Answer(answer, clear=("KeyId", "KeyPairSpec", "PublicKey"))


def generate_data_key_pair(call: Call) -> Answer:
    return _data_key_pair(call, with_plaintext=True)


def generate_data_key_pair_without_plaintext(call: Call) -> Answer:
    return _data_key_pair(call, with_plaintext=False)


def re_encrypt(call: Call) -> Answer:
    service, region, doc = _kms(call)
    _algorithm(doc, "SourceEncryptionAlgorithm")
    _algorithm(doc, "DestinationEncryptionAlgorithm")
    sealed = blob(doc, "CiphertextBlob", required=True, max_len=_MAX_BLOB)
    assert sealed is not None
    source, plaintext = service.decrypt(
        call.identity,
        region,
        sealed,
        string_map(doc, "SourceEncryptionContext"),
        string(doc, "SourceKeyId"),
        "ReEncryptFrom",
    )
    key, fresh = service.encrypt(
        call.identity,
        region,
        string(doc, "DestinationKeyId", required=True),
        plaintext,
        string_map(doc, "DestinationEncryptionContext"),
        action="ReEncryptTo",
    )
    answer = {
        "CiphertextBlob": _b64(fresh),
        "SourceKeyId": source.arn,
        "KeyId": key.arn,
        "SourceEncryptionAlgorithm": _ALGORITHM,
        "DestinationEncryptionAlgorithm": _ALGORITHM,
    }
    return Answer(answer, clear=("SourceKeyId", "KeyId"))


def _message(doc: dict[str, Any]) -> bytes:
    message = blob(doc, "Message", required=True, max_len=MAX_PLAINTEXT_BYTES, field="Message")
    assert message is not None
    return message


def _digest(doc: dict[str, Any]) -> bool:
    kind = string(doc, "MessageType") or "RAW"
    if kind not in ("RAW", "DIGEST"):
        raise AwsError("ValidationException", "MessageType is RAW or DIGEST.")
    return kind == "DIGEST"


def generate_mac(call: Call) -> Answer:
    service, region, doc = _kms(call)
    algorithm = string(doc, "MacAlgorithm", required=True)
    key, mac = service.mac(
        call.identity, region, string(doc, "KeyId", required=True), _message(doc), algorithm
    )
    answer = {"Mac": _b64(mac), "MacAlgorithm": algorithm, "KeyId": key.arn}
    return Answer(answer, clear=("KeyId", "MacAlgorithm"))


def verify_mac(call: Call) -> Answer:
    service, region, doc = _kms(call)
    algorithm = string(doc, "MacAlgorithm", required=True)
    mac = blob(doc, "Mac", required=True, max_len=64)
    assert mac is not None
    key = service.verify_mac(
        call.identity, region, string(doc, "KeyId", required=True), _message(doc), mac, algorithm
    )
    answer = {"KeyId": key.arn, "MacValid": True, "MacAlgorithm": algorithm}
    return Answer(answer, clear=("KeyId", "MacValid", "MacAlgorithm"))


def sign(call: Call) -> Answer:
    service, region, doc = _kms(call)
    algorithm = string(doc, "SigningAlgorithm", required=True)
    key, signature = service.sign(
        call.identity,
        region,
        string(doc, "KeyId", required=True),
        _message(doc),
        algorithm,
        digest=_digest(doc),
    )
    answer = {"KeyId": key.arn, "Signature": _b64(signature), "SigningAlgorithm": algorithm}
    return Answer(answer, clear=("KeyId", "Signature", "SigningAlgorithm"))


def verify(call: Call) -> Answer:
    service, region, doc = _kms(call)
    algorithm = string(doc, "SigningAlgorithm", required=True)
    signature = blob(doc, "Signature", required=True, max_len=6144, field="Signature")
    assert signature is not None
    key = service.verify(
        call.identity,
        region,
        string(doc, "KeyId", required=True),
        _message(doc),
        signature,
        algorithm,
        digest=_digest(doc),
    )
    answer = {"KeyId": key.arn, "SignatureValid": True, "SigningAlgorithm": algorithm}
    return Answer(answer, clear=("KeyId", "SignatureValid", "SigningAlgorithm"))


def get_public_key(call: Call) -> Answer:
    service, region, doc = _kms(call)
    key, der = service.public_key(call.identity, region, string(doc, "KeyId", required=True))
    usage_field = "SigningAlgorithms" if key.key_usage == "SIGN_VERIFY" else "EncryptionAlgorithms"
    answer = {
        "KeyId": key.arn,
        "PublicKey": _b64(der),
        "CustomerMasterKeySpec": key.key_spec,
        "KeySpec": key.key_spec,
        "KeyUsage": key.key_usage,
        usage_field: list(algorithms(key)),
    }
    return Answer(answer, clear=tuple(answer))


def generate_random(call: Call) -> Answer:
    service, region, doc = _kms(call)
    size = integer(doc, "NumberOfBytes")
    if size is None:
        raise AwsError("ValidationException", "NumberOfBytes is required.")
    return Answer({"Plaintext": _b64(service.random(call.identity, region, size))})


_OPERATIONS: dict[str, Callable[[Call], Answer]] = {
    "CreateKey": create_key,
    "DescribeKey": describe_key,
    "ListKeys": list_keys,
    "EnableKey": enable_key,
    "DisableKey": disable_key,
    "ScheduleKeyDeletion": schedule_key_deletion,
    "CancelKeyDeletion": cancel_key_deletion,
    "GetKeyPolicy": get_key_policy,
    "ListKeyPolicies": list_key_policies,
    "UpdateKeyDescription": update_key_description,
    "PutKeyPolicy": put_key_policy,
    "EnableKeyRotation": enable_key_rotation,
    "DisableKeyRotation": disable_key_rotation,
    "GetKeyRotationStatus": get_key_rotation_status,
    "RotateKeyOnDemand": rotate_key_on_demand,
    "ListKeyRotations": list_key_rotations,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListResourceTags": list_resource_tags,
    "CreateAlias": create_alias,
    "UpdateAlias": update_alias,
    "DeleteAlias": delete_alias,
    "ListAliases": list_aliases,
    "Encrypt": encrypt,
    "Decrypt": decrypt,
    "GenerateDataKey": generate_data_key,
    "GenerateDataKeyWithoutPlaintext": generate_data_key_without_plaintext,
    "ReEncrypt": re_encrypt,
    "GenerateDataKeyPair": generate_data_key_pair,
    "GenerateDataKeyPairWithoutPlaintext": generate_data_key_pair_without_plaintext,
    "GenerateRandom": generate_random,
    "GenerateMac": generate_mac,
    "VerifyMac": verify_mac,
    "Sign": sign,
    "Verify": verify,
    "GetPublicKey": get_public_key,
}

KMS_ROUTES = tuple(
    Route("POST", f"/TrentService.{name}", handler, f"kms{name}", f"AWS KMS {name}")
    for name, handler in _OPERATIONS.items()
)
