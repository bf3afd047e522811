"""Encryption as a service (Vault's Transit): named keys in a mount of kind ``transit``.

Policies are Vault's, on the request's path below the mount: ``<mount>/encrypt/<key>`` and
``<mount>/decrypt/<key>`` are separate, so a worker that may encrypt cannot decrypt.

Ciphertexts are ``vault:v<N>:<base64>`` (docs/transit-ciphertext.md). No operation takes a
caller's nonce, and convergent encryption is refused (Vault CVE-2023-4680)."""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from hmac import compare_digest
from typing import Any

from strongroom.auth import Identity
from strongroom.clock import Clock
from strongroom.crypto.named_keys import (
    HASHES,
    KEY_TYPES,
    KeyType,
    derive_key,
    hmac_digest,
    public_key,
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
    NoSuchNamespace,
    NotFound,
)
from strongroom.limits import MAX_INTEGER
from strongroom.paths import check_namespace
from strongroom.service.named_keys import KeyVersion, NamedKey, NamedKeyStore

__all__ = [
    "BACKUP_FORMAT",
    "MAX_BATCH_ITEMS",
    "MAX_KEY_VERSIONS",
    "MAX_RSA_BATCH_ITEMS",
    "MIN_AUTO_ROTATE_SECONDS",
    "Batch",
    "BatchItem",
    "ItemResult",
    "TransitService",
    "format_ciphertext",
    "key_type",
    "parse_ciphertext",
    "public_keys",
]

MAX_BATCH_ITEMS = 1000
MAX_RSA_BATCH_ITEMS = 100
MAX_KEY_VERSIONS = 1000
BACKUP_FORMAT = "strongroom-transit-backup-1"
MIN_AUTO_ROTATE_SECONDS = 3600.0
_PREFIX = "vault:v"
_KEY_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
_MAX_KEY_NAME = 128
_DATAKEY_BITS = (128, 256, 512)


def key_type(key: NamedKey) -> KeyType:
    """What a key's type can do (encrypt, sign, derive)."""
    return KEY_TYPES[key.type]


def public_keys(key: NamedKey) -> dict[int, str]:
    """The public key of each version of a signing key (none for other keys)."""
    if not KEY_TYPES[key.type].signing:
        return {}
    return {n: public_key(key.type, v.material) for n, v in key.versions.items()}


def format_ciphertext(version: int, raw: bytes) -> str:
    return f"{_PREFIX}{version}:{base64.b64encode(raw).decode()}"


def parse_ciphertext(text: object, what: str = "ciphertext") -> tuple[int, bytes]:
    """(key version, raw bytes) of ``vault:v<N>:<base64>``, or a 400 in Vault's words."""
    if not isinstance(text, str) or not text.startswith("vault:"):
        raise BadRequest(f"invalid {what}: no prefix")
    parts = text.split(":")
    if len(parts) != 3:
        raise BadRequest(f"invalid {what}: wrong number of fields")
    number = parts[1][1:]
    if not parts[1].startswith("v") or not (number.isascii() and number.isdigit()):
        raise BadRequest(f"invalid {what}: version number could not be decoded")
    try:
        raw = base64.b64decode(parts[2], validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f"invalid {what}: could not decode base64") from None
    if len(number) > 10 or int(number) > MAX_INTEGER:
        raise BadRequest(f"invalid {what}: version number could not be decoded")
    return int(number), raw


_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


def _b64(value: object, name: str) -> bytes:
    if not isinstance(value, str):
        raise BadRequest(f"missing {name}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        # Vault's (Go's) wording: the offset of the first byte that is not base64.
        offset = next((i for i, c in enumerate(value) if c not in _B64_ALPHABET), len(value))
        raise BadRequest(f"illegal base64 data at input byte {offset}") from None


def _optional_b64(value: object, name: str) -> bytes | None:
    return None if value in (None, "") else _b64(value, name)


@dataclass(frozen=True)
class BatchItem:
    """One input of an operation (the request itself, or one of its ``batch_input``)."""

    fields: Mapping[str, Any] = field(repr=False)  # plaintexts, contexts

    def get(self, name: str) -> Any:
        return self.fields.get(name)


@dataclass(frozen=True)
class Batch:
    """The items of one request: its ``batch_input``, or the request itself (``batch`` False)."""

    items: list[BatchItem]
    batch: bool = False

    def any(self, name: str) -> bool:
        return any(item.get(name) is not None for item in self.items)


@dataclass(frozen=True)
class ItemResult:
    value: dict[str, Any] = field(repr=False)  # a decrypted plaintext, a data key
    error: str = ""


def _settings_bool(doc: Mapping[str, Any], name: str, default: bool = False) -> bool:
    value = doc.get(name, default)
    if value in (None, ""):
        return default
    if isinstance(value, bool):
        return value
    if value in ("true", "1", 1):
        return True
    if value in ("false", "0", 0):
        return False
    raise BadRequest(f"{name!r} must be true or false")


def _settings_int(doc: Mapping[str, Any], name: str) -> int | None:
    value = doc.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.lstrip("-").isascii() and value.lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_INTEGER:
        raise BadRequest(f"{name!r} must be an integer")
    return value


class TransitService:
    def __init__(
        self,
        keys: NamedKeyStore,
        clock: Clock,
        kind_of: Callable[[str], str | None],
        parse_duration: Callable[[object, str], float | None],
    ) -> None:
        self._keys = keys
        self._clock = clock
        self._kind_of = kind_of
        self._duration = parse_duration

    # -- checks
    def _mount(self, mount: str) -> None:
        check_namespace(mount)
        kind = self._kind_of(mount)
        if kind != "transit":
            raise (NotFound if kind else NoSuchNamespace)(f"no transit mount at {mount}/")

    def _check(self, identity: Identity, capability: str, mount: str, path: str) -> None:
        """Deny by default, then the mount (so a 404 never answers a caller without rights)."""
        identity.require(capability, f"{mount}/{path}")
        self._mount(mount)

    @staticmethod
    def _name(name: str) -> str:
        if not name or len(name) > _MAX_KEY_NAME or not set(name) <= _KEY_NAME_CHARS:
            raise BadRequest(f"key names are 1-{_MAX_KEY_NAME} letters, digits and '-', '_' or '.'")
        return name

    def _existing(self, mount: str, name: str) -> NamedKey:
        key = self._keys.get(mount, self._name(name))
        if key is None:
            raise BadRequest("encryption key not found")
        return key

    def _exists(self, mount: str, name: str) -> Callable[[], bool]:
        """Whether key ``name`` exists, for Identity.require_write: asked only after the caller
        showed create or update, so a 404 for the mount never answers a caller without rights."""

        def exists() -> bool:
            self._mount(mount)
            return self._keys.get(mount, name) is not None

        return exists

    def check_tool(self, identity: Identity, mount: str, path: str) -> None:
        """random and hash under a Transit mount: ``update`` on the request's own path."""
        self._check(identity, "update", mount, path)

    # -- keys
    def _new_key(self, name: str, doc: Mapping[str, Any]) -> NamedKey:
        key_type = doc.get("type") or "aes256-gcm96"
        if not isinstance(key_type, str) or not (
            key_type in KEY_TYPES and KEY_TYPES[key_type].transit
        ):
            raise BadRequest(f"unknown key type {key_type}")
        if _settings_bool(doc, "convergent_encryption"):
            raise BadRequest(
                "convergent encryption is not supported: it takes its nonce from the plaintext "
                "and context, which lets a caller choose nonces (Vault CVE-2023-4680)"
            )
        derived = _settings_bool(doc, "derived")
        if derived and not KEY_TYPES[key_type].derivation:
            raise BadRequest(f"key derivation is not supported for key type {key_type}")
        key_size = _settings_int(doc, "key_size")
        if key_size not in (None, 0, 32):
            raise BadRequest("key_size: HMAC keys here are 32 bytes")
        period = self._auto_rotate(doc)
        return NamedKey.create(
            name,
            str(key_type),
            self._clock.now(),
            derived=derived,
            exportable=_settings_bool(doc, "exportable"),
            allow_plaintext_backup=_settings_bool(doc, "allow_plaintext_backup"),
            auto_rotate_period=period or 0.0,
        )

    def _auto_rotate(self, doc: Mapping[str, Any]) -> float | None:
        period = self._duration(doc.get("auto_rotate_period"), "auto_rotate_period")
        if period is not None and 0 < period < MIN_AUTO_ROTATE_SECONDS:
            raise BadRequest("auto rotate period must be 0 to disable or at least an hour")
        return period

    def create_key(
        self, identity: Identity, mount: str, name: str, doc: Mapping[str, Any]
    ) -> NamedKey:
        """Create the key; an existing key of that name is answered as it is. As on Vault (the
        path has no existence check), writing a key needs ``update`` whether it exists or not:
        ``create`` alone neither makes one nor reads one that exists."""
        self._check(identity, "update", mount, f"keys/{self._name(name)}")
        existing = self._keys.get(mount, name)
        if existing is not None:
            return existing
        key = self._new_key(name, doc)
        if not self._keys.create(mount, key):
            return self._keys.require(mount, name)
        return key

    def read_key(self, identity: Identity, mount: str, name: str) -> NamedKey:
        self._check(identity, "read", mount, f"keys/{self._name(name)}")
        return self._keys.require(mount, name)

    def list_keys(self, identity: Identity, mount: str) -> list[str]:
        self._check(identity, "list", mount, "keys/")
        return self._keys.names(mount)

    def delete_key(self, identity: Identity, mount: str, name: str) -> None:
        self._check(identity, "delete", mount, f"keys/{self._name(name)}")
        try:
            key = self._keys.require(mount, name)
        except NotFound:  # Vault's words for a key that is not there
            raise BadRequest(
                f"error deleting policy {name}: could not delete key; not found"
            ) from None
        if not key.deletion_allowed:
            raise BadRequest(f"error deleting policy {name}: deletion is not allowed for this key")
        self._keys.delete(mount, name)

    def configure(
        self, identity: Identity, mount: str, name: str, doc: Mapping[str, Any]
    ) -> NamedKey:
        self._check(identity, "update", mount, f"keys/{self._name(name)}/config")
        if _settings_bool(doc, "convergent_encryption"):
            raise BadRequest("convergent encryption is not supported")
        period = self._auto_rotate(doc)

        def change(key: NamedKey) -> NamedKey:
            min_dec = _settings_int(doc, "min_decryption_version")
            min_enc = _settings_int(doc, "min_encryption_version")
            updated = replace(
                key,
                deletion_allowed=_settings_bool(doc, "deletion_allowed", key.deletion_allowed),
                exportable=key.exportable or _settings_bool(doc, "exportable"),
                allow_plaintext_backup=key.allow_plaintext_backup
                or _settings_bool(doc, "allow_plaintext_backup"),
                auto_rotate_period=key.auto_rotate_period if period is None else period,
            )
            if doc.get("exportable") is False and key.exportable:
                raise BadRequest("exportable cannot be disabled once enabled")
            if min_dec is not None:
                if not 1 <= min_dec <= key.latest_version and min_dec != 0:
                    raise BadRequest("cannot set min decryption version above the latest version")
                if min_dec and key.min_available_version and min_dec < key.min_available_version:
                    raise BadRequest("min decryption version is below the min available version")
                updated = replace(updated, min_decryption_version=min_dec or 1)
            if min_enc is not None:
                if not 0 <= min_enc <= key.latest_version:
                    raise BadRequest("cannot set min encryption version above the latest version")
                if min_enc and min_enc < updated.min_decryption_version:
                    raise BadRequest(
                        "min encryption version should not be less than min decryption version"
                    )
                updated = replace(updated, min_encryption_version=min_enc)
            return updated

        return self._keys.change(mount, self._name(name), change)

    def rotate(self, identity: Identity, mount: str, name: str) -> NamedKey:
        self._check(identity, "update", mount, f"keys/{self._name(name)}/rotate")

        def rotated(key: NamedKey) -> NamedKey:
            # Every version lives in the key's one record: bound it, or rotations grow it forever.
            if len(key.versions) >= MAX_KEY_VERSIONS:
                raise BadRequest(
                    f"a key keeps at most {MAX_KEY_VERSIONS} versions; raise "
                    "min_encryption_version and min_decryption_version, then trim"
                )
            return key.rotated(self._clock.now())

        return self._keys.change(mount, name, rotated)

    def trim(self, identity: Identity, mount: str, name: str, minimum: int | None) -> NamedKey:
        self._check(identity, "update", mount, f"keys/{self._name(name)}/trim")

        def change(key: NamedKey) -> NamedKey:
            if minimum is None or minimum < 1:
                raise BadRequest("missing or invalid min_available_version")
            if not key.min_encryption_version:
                raise BadRequest(
                    "minimum available version cannot be set when minimum encryption version "
                    "is not set"
                )
            if minimum > key.min_encryption_version or minimum > key.min_decryption_version:
                raise BadRequest(
                    "minimum available version cannot be greater than the minimum encryption "
                    "or decryption version"
                )
            kept = {n: v for n, v in key.versions.items() if n >= minimum}
            return replace(key, versions=kept, min_available_version=minimum)

        return self._keys.change(mount, name, change)

    def export(
        self, identity: Identity, mount: str, kind: str, name: str, version: str | None
    ) -> tuple[NamedKey, dict[int, bytes]]:
        suffix = f"/{version}" if version else ""
        self._check(identity, "read", mount, f"export/{kind}/{self._name(name)}{suffix}")
        key = self._keys.require(mount, name)
        if not key.exportable:
            raise BadRequest("key is not exportable")
        if kind not in ("encryption-key", "signing-key", "hmac-key"):
            raise BadRequest("invalid export type")
        kind_of = KEY_TYPES[key.type]
        if kind == "encryption-key" and not kind_of.encryption:
            raise BadRequest("encryption not supported for the key")
        if kind == "signing-key" and not kind_of.signing:
            raise BadRequest("signing not supported for the key")
        numbers = sorted(key.versions)
        if version:
            wanted = (
                key.latest_version if version == "latest" else _settings_int({"v": version}, "v")
            )
            if wanted not in key.versions:
                raise BadRequest("invalid key version")
            numbers = [wanted]
        chosen = {
            n: _mac_key(key, n) if kind == "hmac-key" else key.versions[n].material for n in numbers
        }
        return key, chosen

    def backup(self, identity: Identity, mount: str, name: str) -> str:
        """Every version of the key, in plaintext, for ``restore`` (only a key created
        exportable with allow_plaintext_backup). strongroom's own format: base64 of JSON."""
        self._check(identity, "read", mount, f"backup/{self._name(name)}")
        key = self._keys.require(mount, name)
        if not (key.exportable and key.allow_plaintext_backup):
            raise BadRequest("plaintext backup is disallowed on the policy")
        doc = {"format": BACKUP_FORMAT, "name": key.name, "key": json.loads(key.encode())}
        return base64.b64encode(json.dumps(doc).encode()).decode()

    def restore(
        self, identity: Identity, mount: str, name: str | None, backup: object, force: bool
    ) -> str:
        """A key from ``backup``, under ``name`` or the name it was saved with; an existing key
        is replaced only with ``force``. The restored key's name."""
        path = f"restore/{self._name(name)}" if name else "restore"
        self._check(identity, "update", mount, path)
        if not isinstance(backup, str) or not backup:
            raise BadRequest("'backup' must be supplied")
        try:
            doc = json.loads(base64.b64decode(backup, validate=True))
            if doc.get("format") != BACKUP_FORMAT:
                raise ValueError
            chosen = self._name(name or str(doc["name"]))
            key = NamedKey.decode(chosen, json.dumps(doc["key"]).encode())
            if key.type not in KEY_TYPES or key.latest_version not in key.versions:
                raise ValueError
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
            raise BadRequest("invalid backup: not a strongroom Transit key backup") from None
        try:
            key.check()
        except ValueError as exc:
            raise BadRequest(f"invalid backup: {exc}") from None
        if force:
            self._keys.replace(mount, key)
        elif not self._keys.create(mount, key):
            raise BadRequest(f'key "{chosen}" already exists')
        return chosen

    def rotate_due(self) -> list[str]:
        """Rotate every key whose auto_rotate_period has passed since its latest version."""
        rotated = []
        now = self._clock.now()
        for mount, name in self._keys.every_key():
            key = self._keys.get(mount, name)
            if key is None or not key.auto_rotate_period or len(key.versions) >= MAX_KEY_VERSIONS:
                continue
            if now - key.versions[key.latest_version].created >= key.auto_rotate_period:
                self._keys.change(mount, name, lambda k: k.rotated(self._clock.now()))
                rotated.append(f"{mount}/{name}")
        return rotated

    # -- operations on data
    def _version_for_encryption(self, key: NamedKey, requested: object) -> tuple[int, KeyVersion]:
        number = _settings_int({"key_version": requested}, "key_version") or key.latest_version
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
        context = _optional_b64(item.get("context"), "context")
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
        plaintext = _b64(item.get("plaintext"), "plaintext")
        number, version = self._version_for_encryption(key, item.get("key_version"))
        if key.type.startswith("rsa-"):
            raw = rsa_encrypt(version.material, plaintext)
        else:
            associated = _optional_b64(item.get("associated_data"), "associated_data")
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
            associated = _optional_b64(item.get("associated_data"), "associated_data")
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
        return _each(key, items, lambda item: self._encrypt_one(key, item))

    def decrypt(self, identity: Identity, mount: str, name: str, items: Batch) -> list[ItemResult]:
        self._check(identity, "update", mount, f"decrypt/{self._name(name)}")
        key = self._existing(mount, name)
        self._usable(key, encryption=False)

        def one(item: BatchItem) -> dict[str, Any]:
            return {"plaintext": base64.b64encode(self._decrypt_raw(key, item)).decode()}

        return _each(key, items, one)

    def rewrap(self, identity: Identity, mount: str, name: str, items: Batch) -> list[ItemResult]:
        self._check(identity, "update", mount, f"rewrap/{self._name(name)}")
        key = self._existing(mount, name)
        self._usable(key, encryption=False)

        def one(item: BatchItem) -> dict[str, Any]:
            plaintext = self._decrypt_raw(key, item)
            fields = {**item.fields, "plaintext": base64.b64encode(plaintext).decode()}
            return self._encrypt_one(key, BatchItem(fields))

        return _each(key, items, one)

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
        bits = _settings_int(item.fields, "bits") or 256
        if bits not in _DATAKEY_BITS:
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
            data = _b64(item.get("input"), "input")
            number, _ = self._version_for_encryption(key, item.get("key_version"))
            return {
                "hmac": format_ciphertext(
                    number, hmac_digest(_mac_key(key, number), data, algorithm)
                )
            }

        def check(item: BatchItem) -> dict[str, Any]:
            data = _b64(item.get("input"), "input")
            number, expected = parse_ciphertext(item.get("hmac"), "hmac")
            self._version_for_decryption(key, number)
            computed = hmac_digest(_mac_key(key, number), data, algorithm)
            return {"valid": compare_digest(computed, expected)}

        verifying = items.any("hmac")
        return _each(key, items, check if verifying else one)

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
            data = _b64(item.get("input"), "input")
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

        return _each(key, items, one)

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
            data = _b64(item.get("input"), "input")
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

        return _each(key, items, one)

    @staticmethod
    def _signature_options(options: Mapping[str, Any]) -> tuple[str, bool, str]:
        hash_name = options.get("hash_algorithm") or "sha2-256"
        if not isinstance(hash_name, str) or hash_name not in HASHES:
            raise BadRequest(f"unsupported hash algorithm {hash_name}")
        marshaling = options.get("marshaling_algorithm") or "asn1"
        if marshaling != "asn1":
            raise BadRequest('marshaling_algorithm: only "asn1" is supported')
        padding = options.get("signature_algorithm") or "pss"
        return str(hash_name), _settings_bool(options, "prehashed"), str(padding)


def _mac_key(key: NamedKey, number: int) -> bytes:
    """An HMAC key is its own MAC key; every other type has one per version beside its key."""
    version = key.versions[number]
    return version.material if key.type == "hmac" else version.hmac_key


def _each(
    key: NamedKey, items: Batch, operation: Callable[[BatchItem], dict[str, Any]]
) -> list[ItemResult]:
    """Each item of a batch on its own: a bad item is reported in its place and the others still
    run. A request without ``batch_input`` raises its error instead. An RSA key's batches are
    shorter: one RSA-4096 private operation costs milliseconds of CPU, so a batch's work stays
    bounded."""
    if not items.items:
        raise BadRequest("missing batch input to process")
    limit = MAX_RSA_BATCH_ITEMS if key.type.startswith("rsa-") else MAX_BATCH_ITEMS
    if len(items.items) > limit:
        raise BadRequest(f"batch_input holds at most {limit} items for a {key.type} key")
    if not items.batch:
        return [ItemResult(operation(items.items[0]))]
    results = []
    for item in items.items:
        try:
            results.append(ItemResult(operation(item)))
        except (BadRequest, DecryptionError) as error:
            results.append(ItemResult({}, error.message))
    return results
