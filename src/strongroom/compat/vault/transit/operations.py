"""Transit's operations on data: encrypt, decrypt, rewrap, data keys, HMAC, sign and verify.
``TransitService`` is the whole backend: these, with key management."""

from __future__ import annotations

import os
from dataclasses import replace
from hmac import compare_digest

from strongroom.auth import Identity
from strongroom.compat.vault.transit.items import (
    Batch,
    DataKeyItem,
    DecryptItem,
    EncryptItem,
    HmacCheckItem,
    InputItem,
    ItemError,
    KeySettings,
    SignatureOptions,
    VerifyItem,
    each_item,
    parsed,
)
from strongroom.compat.vault.transit.keys import TransitKeys
from strongroom.compat.vault.transit.models import (
    DATAKEY_BITS,
    Decrypted,
    Encrypted,
    Hmac,
    ItemResult,
    Signature,
    Verdict,
    format_ciphertext,
    mac_key,
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
    def _version_for_encryption(
        self, key: NamedKey, requested: int | None
    ) -> tuple[int, KeyVersion]:
        number = requested or key.latest_version
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

    def _data_key(self, key: NamedKey, version: KeyVersion, context: bytes | None) -> bytes:
        if not key.derived:
            return version.material
        if not context:
            raise BadRequest(
                "missing 'context' for key derivation; the key was created using a derived key, "
                "which means additional, per-request information must be included in order to "
                "perform operations with the key"
            )
        return derive_key(version.material, context)

    def _encrypt_one(self, key: NamedKey, item: EncryptItem) -> Encrypted:
        number, version = self._version_for_encryption(key, item.key_version)
        if key.type.startswith("rsa-"):
            raw = rsa_encrypt(version.material, item.plaintext)
        else:
            cipher = symmetric_cipher(key.type, self._data_key(key, version, item.context))
            raw = cipher.seal(item.plaintext, item.associated_data)
        return Encrypted(format_ciphertext(number, raw), number)

    def _decrypt_raw(self, key: NamedKey, item: DecryptItem) -> bytes:
        number, raw = item.ciphertext.version, item.ciphertext.raw
        version = self._version_for_decryption(key, number)
        try:
            if key.type.startswith("rsa-"):
                return rsa_decrypt(version.material, raw)
            if len(raw) < 12 + 16:
                raise BadRequest("invalid ciphertext length")
            cipher = symmetric_cipher(key.type, self._data_key(key, version, item.context))
            return cipher.open(raw, item.associated_data)
        except DecryptionError:
            raise CiphertextRejected() from None

    def _usable(self, key: NamedKey, encryption: bool) -> None:
        kind = KEY_TYPES[key.type]
        if not kind.encryption:
            verb = "encryption" if encryption else "decryption"
            raise BadRequest(f"message {verb} not supported for key type {key.type}")

    def encrypt(
        self,
        identity: Identity,
        mount: str,
        name: str,
        items: Batch[EncryptItem],
        key_type: str | None,
    ) -> list[ItemResult]:
        """Encrypt each item; a missing key is created (Vault's upsert). As on Vault, ``update``
        on the encrypt path covers a key that exists, ``create`` one that does not."""
        path = f"{mount}/encrypt/{self._name(name)}"

        if identity.require_write(path, self._exists(mount, name)):
            key = self._keys.require(mount, name)
        else:
            key = self._new_key(name, KeySettings(key_type) if key_type else KeySettings())
            if not self._keys.create(mount, key):
                key = self._keys.require(mount, name)
        self._usable(key, encryption=True)
        return each_item(key, items, lambda item: self._encrypt_one(key, item))

    def decrypt(
        self, identity: Identity, mount: str, name: str, items: Batch[DecryptItem]
    ) -> list[ItemResult]:
        self._check(identity, "update", mount, f"decrypt/{self._name(name)}")
        key = self._existing(mount, name)
        self._usable(key, encryption=False)

        def one(item: DecryptItem) -> Decrypted:
            return Decrypted(self._decrypt_raw(key, item))

        return each_item(key, items, one)

    def rewrap(
        self, identity: Identity, mount: str, name: str, items: Batch[DecryptItem]
    ) -> list[ItemResult]:
        self._check(identity, "update", mount, f"rewrap/{self._name(name)}")
        key = self._existing(mount, name)
        self._usable(key, encryption=False)

        def one(item: DecryptItem) -> Encrypted:
            plaintext = self._decrypt_raw(key, item)
            again = EncryptItem(plaintext, item.context, item.associated_data, item.key_version)
            return self._encrypt_one(key, again)

        return each_item(key, items, one)

    def datakey(
        self,
        identity: Identity,
        mount: str,
        name: str,
        kind: str,
        request: DataKeyItem | ItemError,
    ) -> Encrypted:
        self._check(identity, "update", mount, f"datakey/{kind}/{self._name(name)}")
        if kind not in ("plaintext", "wrapped"):
            raise BadRequest('the data key type is "plaintext" or "wrapped"')
        key = self._existing(mount, name)
        self._usable(key, encryption=True)
        item = parsed(request)
        if item.bits not in DATAKEY_BITS:
            raise BadRequest("invalid bit length")
        fresh = os.urandom(item.bits // 8)
        sealed = self._encrypt_one(
            key, EncryptItem(fresh, item.context, item.associated_data, item.key_version)
        )
        return replace(sealed, plaintext=fresh) if kind == "plaintext" else sealed

    def _hmac_key(
        self, identity: Identity, mount: str, name: str, algorithm: str, path: str
    ) -> NamedKey:
        self._check(identity, "update", mount, path)
        key = self._existing(mount, self._name(name))
        if algorithm not in HASHES:
            raise BadRequest(f"unsupported algorithm {algorithm}")
        return key

    def hmac(
        self,
        identity: Identity,
        mount: str,
        name: str,
        items: Batch[InputItem],
        algorithm: str,
        request_path: str,
    ) -> list[ItemResult]:
        key = self._hmac_key(identity, mount, name, algorithm, request_path)

        def one(item: InputItem) -> Hmac:
            number, _ = self._version_for_encryption(key, item.key_version)
            digest = hmac_digest(mac_key(key, number), item.input, algorithm)
            return Hmac(format_ciphertext(number, digest))

        return each_item(key, items, one)

    def verify_hmac(
        self,
        identity: Identity,
        mount: str,
        name: str,
        items: Batch[HmacCheckItem],
        algorithm: str,
        request_path: str,
    ) -> list[ItemResult]:
        key = self._hmac_key(identity, mount, name, algorithm, request_path)

        def check(item: HmacCheckItem) -> Verdict:
            number = item.hmac.version
            self._version_for_decryption(key, number)
            computed = hmac_digest(mac_key(key, number), item.input, algorithm)
            return Verdict(compare_digest(computed, item.hmac.raw))

        return each_item(key, items, check)

    def sign(
        self,
        identity: Identity,
        mount: str,
        name: str,
        items: Batch[InputItem],
        request: SignatureOptions | ItemError,
        request_path: str,
    ) -> list[ItemResult]:
        self._check(identity, "update", mount, request_path)
        key = self._existing(mount, self._name(name))
        if not KEY_TYPES[key.type].signing:
            raise BadRequest(f"key type {key.type} does not support signing")
        options = parsed(request)

        def one(item: InputItem) -> Signature:
            number, version = self._version_for_encryption(key, item.key_version)
            signature = sign(
                key.type,
                self._data_key(key, version, item.context),
                item.input,
                hash_name=options.hash_algorithm,
                prehashed=options.prehashed,
                rsa_padding=options.padding,
            )
            return Signature(format_ciphertext(number, signature), number)

        return each_item(key, items, one)

    def verify(
        self,
        identity: Identity,
        mount: str,
        name: str,
        items: Batch[VerifyItem],
        request: SignatureOptions | ItemError,
        request_path: str,
    ) -> list[ItemResult]:
        self._check(identity, "update", mount, request_path)
        key = self._existing(mount, self._name(name))
        if not KEY_TYPES[key.type].signing:
            raise BadRequest(f"key type {key.type} does not support verification")
        options = parsed(request)

        def one(item: VerifyItem) -> Verdict:
            version = self._version_for_decryption(key, item.signature.version)
            valid = verify(
                key.type,
                self._data_key(key, version, item.context),
                item.input,
                item.signature.raw,
                hash_name=options.hash_algorithm,
                prehashed=options.prehashed,
                rsa_padding=options.padding,
            )
            return Verdict(valid)

        return each_item(key, items, one)
