"""KMS's cryptographic operations on the wire: Encrypt, Decrypt, ReEncrypt, data keys and
pairs, MACs, signatures, public keys and random bytes."""

from __future__ import annotations

from typing import Any

from strongroom.compat.aws.fields import AwsError, blob, integer, string, string_map
from strongroom.compat.aws.kms.models import MAX_PLAINTEXT_BYTES, algorithms
from strongroom.compat.aws.kms.shapes import (
    SYMMETRIC_ALGORITHM,
    asymmetric_algorithm,
    b64,
    backend,
    check_algorithm,
)
from strongroom.server.routes import Answer, Call

__all__ = [
    "decrypt",
    "encrypt",
    "generate_data_key",
    "generate_data_key_pair",
    "generate_data_key_pair_without_plaintext",
    "generate_data_key_without_plaintext",
    "generate_mac",
    "generate_random",
    "get_public_key",
    "re_encrypt",
    "sign",
    "verify",
    "verify_mac",
]


_MAX_BLOB = 6144


_DATA_KEY_SPECS = {"AES_256": 32, "AES_128": 16}


# -- data
def encrypt(call: Call) -> Answer:
    service, region, doc = backend(call)
    oaep = asymmetric_algorithm(doc)
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
        answer = {"CiphertextBlob": b64(sealed), "KeyId": key.arn, "EncryptionAlgorithm": oaep}
        return Answer(answer, clear=("KeyId", "EncryptionAlgorithm"))
    key, sealed = service.encrypt(
        call.identity,
        region,
        string(doc, "KeyId", required=True),
        plaintext,
        string_map(doc, "EncryptionContext"),
    )
    answer = {
        "CiphertextBlob": b64(sealed),
        "KeyId": key.arn,
        "EncryptionAlgorithm": SYMMETRIC_ALGORITHM,
    }
    return Answer(answer, clear=("KeyId", "EncryptionAlgorithm"))


def decrypt(call: Call) -> Answer:
    service, region, doc = backend(call)
    oaep = asymmetric_algorithm(doc)
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
        answer = {"KeyId": key.arn, "Plaintext": b64(plaintext), "EncryptionAlgorithm": oaep}
        return Answer(answer, clear=("KeyId", "EncryptionAlgorithm"))
    key, plaintext = service.decrypt(
        call.identity, region, sealed, string_map(doc, "EncryptionContext"), string(doc, "KeyId")
    )
    answer = {
        "KeyId": key.arn,
        "Plaintext": b64(plaintext),
        "EncryptionAlgorithm": SYMMETRIC_ALGORITHM,
    }
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
    service, region, doc = backend(call)
    key, plaintext, sealed = service.data_key(
        call.identity,
        region,
        string(doc, "KeyId", required=True),
        _data_key_size(doc),
        string_map(doc, "EncryptionContext"),
    )
    answer = {"CiphertextBlob": b64(sealed), "Plaintext": b64(plaintext), "KeyId": key.arn}
    return Answer(answer, clear=("KeyId",))


def generate_data_key_without_plaintext(call: Call) -> Answer:
    service, region, doc = backend(call)
    key, _, sealed = service.data_key(
        call.identity,
        region,
        string(doc, "KeyId", required=True),
        _data_key_size(doc),
        string_map(doc, "EncryptionContext"),
        "GenerateDataKeyWithoutPlaintext",
    )
    return Answer({"CiphertextBlob": b64(sealed), "KeyId": key.arn}, clear=("KeyId",))


def _data_key_pair(call: Call, *, with_plaintext: bool) -> Answer:
    service, region, doc = backend(call)
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
        "PrivateKeyCiphertextBlob": b64(sealed),
        "PublicKey": b64(public),
        "KeyId": key.arn,
        "KeyPairSpec": spec,
    }
    if with_plaintext:
        answer["PrivateKeyPlaintext"] = b64(private)
    return Answer(answer, clear=("KeyId", "KeyPairSpec", "PublicKey"))


def generate_data_key_pair(call: Call) -> Answer:
    return _data_key_pair(call, with_plaintext=True)


def generate_data_key_pair_without_plaintext(call: Call) -> Answer:
    return _data_key_pair(call, with_plaintext=False)


def re_encrypt(call: Call) -> Answer:
    service, region, doc = backend(call)
    check_algorithm(doc, "SourceEncryptionAlgorithm")
    check_algorithm(doc, "DestinationEncryptionAlgorithm")
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
        "CiphertextBlob": b64(fresh),
        "SourceKeyId": source.arn,
        "KeyId": key.arn,
        "SourceEncryptionAlgorithm": SYMMETRIC_ALGORITHM,
        "DestinationEncryptionAlgorithm": SYMMETRIC_ALGORITHM,
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
    service, region, doc = backend(call)
    algorithm = string(doc, "MacAlgorithm", required=True)
    key, mac = service.mac(
        call.identity, region, string(doc, "KeyId", required=True), _message(doc), algorithm
    )
    answer = {"Mac": b64(mac), "MacAlgorithm": algorithm, "KeyId": key.arn}
    return Answer(answer, clear=("KeyId", "MacAlgorithm"))


def verify_mac(call: Call) -> Answer:
    service, region, doc = backend(call)
    algorithm = string(doc, "MacAlgorithm", required=True)
    mac = blob(doc, "Mac", required=True, max_len=64)
    assert mac is not None
    key = service.verify_mac(
        call.identity, region, string(doc, "KeyId", required=True), _message(doc), mac, algorithm
    )
    answer = {"KeyId": key.arn, "MacValid": True, "MacAlgorithm": algorithm}
    return Answer(answer, clear=("KeyId", "MacValid", "MacAlgorithm"))


def sign(call: Call) -> Answer:
    service, region, doc = backend(call)
    algorithm = string(doc, "SigningAlgorithm", required=True)
    key, signature = service.sign(
        call.identity,
        region,
        string(doc, "KeyId", required=True),
        _message(doc),
        algorithm,
        digest=_digest(doc),
    )
    answer = {"KeyId": key.arn, "Signature": b64(signature), "SigningAlgorithm": algorithm}
    return Answer(answer, clear=("KeyId", "Signature", "SigningAlgorithm"))


def verify(call: Call) -> Answer:
    service, region, doc = backend(call)
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
    service, region, doc = backend(call)
    key, der = service.public_key(call.identity, region, string(doc, "KeyId", required=True))
    usage_field = "SigningAlgorithms" if key.key_usage == "SIGN_VERIFY" else "EncryptionAlgorithms"
    answer = {
        "KeyId": key.arn,
        "PublicKey": b64(der),
        "CustomerMasterKeySpec": key.key_spec,
        "KeySpec": key.key_spec,
        "KeyUsage": key.key_usage,
        usage_field: list(algorithms(key)),
    }
    return Answer(answer, clear=tuple(answer))


def generate_random(call: Call) -> Answer:
    service, region, doc = backend(call)
    size = integer(doc, "NumberOfBytes")
    if size is None:
        raise AwsError("ValidationException", "NumberOfBytes is required.")
    return Answer({"Plaintext": b64(service.random(call.identity, region, size))})
