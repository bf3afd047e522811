"""KMS's cryptographic operations: Encrypt and Decrypt (symmetric, with the encryption
context bound, and RSA-OAEP), data keys and data key pairs, MACs, signatures, public keys and
random bytes. ``KmsService`` is the whole backend: these, with keys and aliases."""

from __future__ import annotations

import base64
import hmac
import os

from strongroom.auth import Identity
from strongroom.compat.aws.kms.catalogue import Rule
from strongroom.compat.aws.kms.errors import KmsError
from strongroom.compat.aws.kms.models import (
    MAX_DATA_KEY_BYTES,
    MAX_PLAINTEXT_BYTES,
    PAIR_SPECS,
    KmsKey,
    algorithms,
    hash_of,
    kms_namespace,
)
from strongroom.compat.aws.kms.replicas import Replicas
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
from strongroom.errors import BadRequest, DecryptionError

__all__ = ["KmsService"]

_NAMED_KEY = Rule("read", "keys", by_alias=True)  # a KeyId beside the blob: read on it


class KmsService(Replicas):
    # -- asymmetric encryption: the ciphertext is RSA-OAEP's own, and names no key
    def encrypt_asymmetric(
        self,
        identity: Identity,
        region: str,
        key_ref: str,
        plaintext: bytes,
        algorithm: str,
        context: Context,
    ) -> tuple[KmsKey, bytes]:
        key = self._resolve(identity, region, key_ref, "Encrypt")
        self._for(key, "ENCRYPT_DECRYPT", "Encrypt")
        self._oaep(key, algorithm, context)
        _, material = self._key_version(key)
        try:
            return key, rsa_encrypt(material, plaintext, hash_of(algorithm))
        except BadRequest as exc:
            raise KmsError("ValidationException", exc.message) from None

    def decrypt_asymmetric(
        self,
        identity: Identity,
        region: str,
        key_ref: str | None,
        ciphertext: bytes,
        algorithm: str,
        context: Context,
    ) -> tuple[KmsKey, bytes]:
        """The key is named by ``key_ref`` (an RSA ciphertext names none), and the one key
        version it has opens it."""
        if key_ref is None:
            raise KmsError("ValidationException", "Decrypt with an asymmetric key needs its KeyId.")
        key = self._resolve(identity, region, key_ref, "Decrypt")
        self._for(key, "ENCRYPT_DECRYPT", "Decrypt")
        self._oaep(key, algorithm, context)
        _, material = self._key_version(key)
        try:
            return key, rsa_decrypt(material, ciphertext, hash_of(algorithm))
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

    # -- data
    def encrypt(
        self,
        identity: Identity,
        region: str,
        key_ref: str,
        plaintext: bytes,
        context: Context,
        action: str = "Encrypt",
    ) -> tuple[KmsKey, bytes]:
        key = self._resolve(identity, region, key_ref, action, context)
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
        key_ref: str | None = None,
        action: str = "Decrypt",
    ) -> tuple[KmsKey, bytes]:
        """The blob names its key; a KeyId, when given, must be that key (IncorrectKey)."""
        try:
            header = parse_blob(blob)
        except DecryptionError:
            raise KmsError("InvalidCiphertextException") from None
        key = self._resolve(identity, region, header.key_id, action, context)
        if key_ref is not None:
            named = self._resolve(
                identity, region, key_ref, action, rule=Rule("read", "keys", by_alias=True)
            )
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
        key_ref: str,
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
        key, blob = self.encrypt(identity, region, key_ref, plaintext, context, action)
        return key, plaintext, blob

    def data_key_pair(
        self,
        identity: Identity,
        region: str,
        key_ref: str,
        spec: str,
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
        private = new_key_pair(spec)
        key, blob = self.encrypt(identity, region, key_ref, private.der, context, action)
        return key, private.der, blob, private.public_der

    # -- MACs and signatures
    def _key_version(self, key: KmsKey) -> tuple[str, bytes]:
        named = self._named.require(kms_namespace(key.home_region), key.key_id)
        return named.type, named.versions[named.latest_version].material

    def _algorithm(self, key: KmsKey, algorithm: str) -> str:
        allowed = algorithms(key)
        if algorithm not in allowed:
            raise KmsError(
                "InvalidKeyUsageException",
                f"Algorithm {algorithm} is not compatible with the key spec {key.key_spec}; "
                f"use {', '.join(allowed)}.",
            )
        return algorithm

    @staticmethod
    def _signing(key: KmsKey, key_ref: str) -> None:
        if key.key_usage != "SIGN_VERIFY":
            raise KmsError(
                "ValidationException",
                f"1 validation error detected: Value '{key_ref}' at 'KeyId' failed to satisfy "
                "constraint: Member must point to a key with usage: 'SIGN_VERIFY'",
            )
        KmsService._usable(key)

    @staticmethod
    def _signing_algorithm(key: KmsKey, algorithm: str) -> str:
        allowed = sorted(algorithms(key))
        if algorithm not in allowed:
            raise KmsError(
                "ValidationException",
                f"1 validation error detected: Value '{algorithm}' at 'SigningAlgorithm' failed "
                f"to satisfy constraint: Member must satisfy enum value set: {allowed}",
            )
        return algorithm

    def mac(
        self,
        identity: Identity,
        region: str,
        key_ref: str,
        message: bytes,
        algorithm: str,
        action: str = "GenerateMac",
    ) -> tuple[KmsKey, bytes]:
        key = self._resolve(identity, region, key_ref, action)
        self._for(key, "GENERATE_VERIFY_MAC", "GenerateMac")
        chosen = self._algorithm(key, algorithm)
        _, material = self._key_version(key)
        return key, hmac_digest(material, message, hash_of(chosen))

    def verify_mac(
        self,
        identity: Identity,
        region: str,
        key_ref: str,
        message: bytes,
        mac: bytes,
        algorithm: str,
    ) -> KmsKey:
        key, expected = self.mac(identity, region, key_ref, message, algorithm, "VerifyMac")
        if not hmac.compare_digest(expected, mac):
            raise KmsError("KMSInvalidMacException", "")
        return key

    def sign(
        self,
        identity: Identity,
        region: str,
        key_ref: str,
        message: bytes,
        algorithm: str,
        *,
        digest: bool,
    ) -> tuple[KmsKey, bytes]:
        key = self._resolve(identity, region, key_ref, "Sign")
        self._signing(key, key_ref)
        chosen = self._signing_algorithm(key, algorithm)
        key_type, material = self._key_version(key)
        padding = "pkcs1v15" if "PKCS1" in chosen else "pss"
        signature = sign(
            key_type,
            material,
            message,
            hash_name=hash_of(chosen),
            prehashed=digest,
            rsa_padding=padding,
        )
        return key, signature

    def verify(
        self,
        identity: Identity,
        region: str,
        key_ref: str,
        message: bytes,
        signature: bytes,
        algorithm: str,
        *,
        digest: bool,
    ) -> KmsKey:
        key = self._resolve(identity, region, key_ref, "Verify")
        self._signing(key, key_ref)
        chosen = self._signing_algorithm(key, algorithm)
        key_type, material = self._key_version(key)
        padding = "pkcs1v15" if "PKCS1" in chosen else "pss"
        if not verify(
            key_type,
            material,
            message,
            signature,
            hash_name=hash_of(chosen),
            prehashed=digest,
            rsa_padding=padding,
        ):
            raise KmsError("KMSInvalidSignatureException", "")
        return key

    def public_key(self, identity: Identity, region: str, key_ref: str) -> tuple[KmsKey, bytes]:
        """The DER SubjectPublicKeyInfo of an asymmetric key."""
        key = self._resolve(identity, region, key_ref, "GetPublicKey")
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
