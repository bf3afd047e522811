"""Transit's operations on data: encrypt, decrypt, rewrap, data keys, HMAC, sign and verify.
``TransitService`` is the whole backend: these, with key management."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from hmac import compare_digest
from typing import Any

from strongroom.auth import Identity
from strongroom.compat.vault.transit.keys import TransitKeys
from strongroom.compat.vault.transit.models import (
    DATAKEY_BITS,
    Batch,
    BatchItem,
    ItemResult,
    b64_field,
    each_item,
    format_ciphertext,
    mac_key,
    optional_b64_field,
    parse_ciphertext,
    settings_bool,
    settings_int,
)
from strongroom.crypto.named_keys import (
    HASHES,
    KEY_TYPES,
    derive_key,
    hmac_digest,
    rsa_decrypt,
    rsa_encrypt,
    sign,
    symmetric_cipher,
    verify,
)
from strongroom.errors import (
    BadRequest,
    CiphertextRejected,
    DecryptionError,
)
from strongroom.service.named_keys import KeyVersion, NamedKey

__all__ = ["TransitService"]


class TransitService(TransitKeys):
    # -- operations on data
    def _version_for_encryption(self, key: NamedKey, requested: object) -> tuple[int, KeyVersion]:
        number = settings_int({"key_version": requested}, "key_version") or key.latest_version
        if key.min_encryption_version and number < key.min_encryption_version:
            raise BadRequest(
                "requested version for encryption is less than the minimum encryption key version"
            )
        if number not in key.versions:
            raise BadRequest("invalid key version")
        return number, key.versions[number]

    def _version_for_decryption(self, key: NamedKey, number: int) -> KeyVersion:
        if number < key.min_decryption_version:
            raise BadRequest("ciphertext or signature version is disallowed by policy (too old)")
        if number not in key.versions:
            raise BadRequest("invalid ciphertext: key version not found")
        return key.versions[number]

    def _data_key(self, key: NamedKey, version: KeyVersion, item: BatchItem) -> bytes:
        if not key.derived:
            return version.material
        context = optional_b64_field(item.get("context"), "context")
        if not context:
            raise BadRequest(
                "missing 'context' for key derivation; the key was created using a derived key, "
                "which means additional, per-request information must be included in order to "
                "perform operations with the key"
            )
        return derive_key(version.material, context)

    def _encrypt_one(self, key: NamedKey, item: BatchItem) -> dict[str, Any]:
        if item.get("nonce") not in (None, ""):
            raise BadRequest(
                "a caller-supplied nonce is never accepted: every encryption makes its own "
                "(Vault CVE-2023-4680)"
            )
        plaintext = b64_field(item.get("plaintext"), "plaintext")
        number, version = self._version_for_encryption(key, item.get("key_version"))
        if key.type.startswith("rsa-"):
            raw = rsa_encrypt(version.material, plaintext)
        else:
            associated = optional_b64_field(item.get("associated_data"), "associated_data")
            cipher = symmetric_cipher(key.type, self._data_key(key, version, item))
            raw = cipher.seal(plaintext, associated)
        return {"ciphertext": format_ciphertext(number, raw), "key_version": number}

    def _decrypt_raw(self, key: NamedKey, item: BatchItem) -> bytes:
        number, raw = parse_ciphertext(item.get("ciphertext"))
        version = self._version_for_decryption(key, number)
        try:
            if key.type.startswith("rsa-"):
                return rsa_decrypt(version.material, raw)
            if len(raw) < 12 + 16:
                raise BadRequest("invalid ciphertext length")
            associated = optional_b64_field(item.get("associated_data"), "associated_data")
            cipher = symmetric_cipher(key.type, self._data_key(key, version, item))
            return cipher.open(raw, associated)
        except DecryptionError:
            raise CiphertextRejected() from None

    def _usable(self, key: NamedKey, encryption: bool) -> None:
        kind = KEY_TYPES[key.type]
        if not kind.encryption:
            verb = "encryption" if encryption else "decryption"
            raise BadRequest(f"message {verb} not supported for key type {key.type}")

    def encrypt(
        self, identity: Identity, mount: str, name: str, items: Batch, key_type: object
    ) -> list[ItemResult]:
        """Encrypt each item; a missing key is created (Vault's upsert). As on Vault, ``update``
        on the encrypt path covers a key that exists, ``create`` one that does not."""
        path = f"{mount}/encrypt/{self._name(name)}"

        if identity.require_write(path, self._exists(mount, name)):
            key = self._keys.require(mount, name)
        else:
            key = self._new_key(name, {"type": key_type} if key_type else {})
            if not self._keys.create(mount, key):
                key = self._keys.require(mount, name)
        self._usable(key, encryption=True)
        return each_item(key, items, lambda item: self._encrypt_one(key, item))

    def decrypt(self, identity: Identity, mount: str, name: str, items: Batch) -> list[ItemResult]:
        self._check(identity, "update", mount, f"decrypt/{self._name(name)}")
        key = self._existing(mount, name)
        self._usable(key, encryption=False)

        def one(item: BatchItem) -> dict[str, Any]:
            return {"plaintext": base64.b64encode(self._decrypt_raw(key, item)).decode()}

        return each_item(key, items, one)

    def rewrap(self, identity: Identity, mount: str, name: str, items: Batch) -> list[ItemResult]:
        self._check(identity, "update", mount, f"rewrap/{self._name(name)}")
        key = self._existing(mount, name)
        self._usable(key, encryption=False)

        def one(item: BatchItem) -> dict[str, Any]:
            plaintext = self._decrypt_raw(key, item)
            fields = {**item.fields, "plaintext": base64.b64encode(plaintext).decode()}
            return self._encrypt_one(key, BatchItem(fields))

        return each_item(key, items, one)

    def datakey(
        self,
        identity: Identity,
        mount: str,
        name: str,
        kind: str,
        item: BatchItem,
    ) -> dict[str, Any]:
        self._check(identity, "update", mount, f"datakey/{kind}/{self._name(name)}")
        if kind not in ("plaintext", "wrapped"):
            raise BadRequest('the data key type is "plaintext" or "wrapped"')
        key = self._existing(mount, name)
        self._usable(key, encryption=True)
        bits = settings_int(item.fields, "bits") or 256
        if bits not in DATAKEY_BITS:
            raise BadRequest("invalid bit length")
        fresh = os.urandom(bits // 8)
        sealed = self._encrypt_one(
            key, BatchItem({**item.fields, "plaintext": base64.b64encode(fresh).decode()})
        )
        if kind == "plaintext":
            sealed["plaintext"] = base64.b64encode(fresh).decode()
        return sealed

    def hmac(
        self,
        identity: Identity,
        mount: str,
        name: str,
        items: Batch,
        algorithm: str,
        request_path: str,
    ) -> list[ItemResult]:
        self._check(identity, "update", mount, request_path)
        key = self._existing(mount, self._name(name))
        if not isinstance(algorithm, str) or algorithm not in HASHES:
            raise BadRequest(f"unsupported algorithm {algorithm}")

        def one(item: BatchItem) -> dict[str, Any]:
            data = b64_field(item.get("input"), "input")
            number, _ = self._version_for_encryption(key, item.get("key_version"))
            return {
                "hmac": format_ciphertext(
                    number, hmac_digest(mac_key(key, number), data, algorithm)
                )
            }

        def check(item: BatchItem) -> dict[str, Any]:
            data = b64_field(item.get("input"), "input")
            number, expected = parse_ciphertext(item.get("hmac"), "hmac")
            self._version_for_decryption(key, number)
            computed = hmac_digest(mac_key(key, number), data, algorithm)
            return {"valid": compare_digest(computed, expected)}

        verifying = items.any("hmac")
        return each_item(key, items, check if verifying else one)

    def sign(
        self,
        identity: Identity,
        mount: str,
        name: str,
        items: Batch,
        options: Mapping[str, Any],
        request_path: str,
    ) -> list[ItemResult]:
        self._check(identity, "update", mount, request_path)
        key = self._existing(mount, self._name(name))
        if not KEY_TYPES[key.type].signing:
            raise BadRequest(f"key type {key.type} does not support signing")
        hash_name, prehashed, padding = self._signature_options(options)

        def one(item: BatchItem) -> dict[str, Any]:
            data = b64_field(item.get("input"), "input")
            number, version = self._version_for_encryption(key, item.get("key_version"))
            signature = sign(
                key.type,
                self._data_key(key, version, item),
                data,
                hash_name=hash_name,
                prehashed=prehashed,
                rsa_padding=padding,
            )
            return {"signature": format_ciphertext(number, signature), "key_version": number}

        return each_item(key, items, one)

    def verify(
        self,
        identity: Identity,
        mount: str,
        name: str,
        items: Batch,
        options: Mapping[str, Any],
        request_path: str,
    ) -> list[ItemResult]:
        self._check(identity, "update", mount, request_path)
        key = self._existing(mount, self._name(name))
        if not KEY_TYPES[key.type].signing:
            raise BadRequest(f"key type {key.type} does not support verification")
        hash_name, prehashed, padding = self._signature_options(options)

        def one(item: BatchItem) -> dict[str, Any]:
            data = b64_field(item.get("input"), "input")
            number, signature = parse_ciphertext(item.get("signature"), "signature")
            version = self._version_for_decryption(key, number)
            valid = verify(
                key.type,
                self._data_key(key, version, item),
                data,
                signature,
                hash_name=hash_name,
                prehashed=prehashed,
                rsa_padding=padding,
            )
            return {"valid": valid}

        return each_item(key, items, one)

    @staticmethod
    def _signature_options(options: Mapping[str, Any]) -> tuple[str, bool, str]:
        hash_name = options.get("hash_algorithm") or "sha2-256"
        if not isinstance(hash_name, str) or hash_name not in HASHES:
            raise BadRequest(f"unsupported hash algorithm {hash_name}")
        marshaling = options.get("marshaling_algorithm") or "asn1"
        if marshaling != "asn1":
            raise BadRequest('marshaling_algorithm: only "asn1" is supported')
        padding = options.get("signature_algorithm") or "pss"
        return str(hash_name), settings_bool(options, "prehashed"), str(padding)
