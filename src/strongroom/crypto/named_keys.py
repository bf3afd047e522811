"""The primitives of named keys (Transit): one key version's material and what it can do.

Every primitive is pyca/cryptography's. Symmetric encryption goes through ``_aead.DataCipher``
(which makes every nonce); this module adds key generation, key derivation (HKDF-SHA256, for
derived keys), RSA-OAEP, signatures (Ed25519, ECDSA P-256, RSA PSS and PKCS#1 v1.5) and HMAC."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from strongroom.crypto._aead import DataCipher
from strongroom.errors import BadRequest, DecryptionError

__all__ = [
    "HASHES",
    "KEY_TYPES",
    "KeyPair",
    "KeyType",
    "check_material",
    "derive_key",
    "generate_material",
    "hmac_digest",
    "new_key_pair",
    "public_key",
    "rsa_decrypt",
    "rsa_encrypt",
    "sign",
    "symmetric_cipher",
    "verify",
]


@dataclass(frozen=True)
class KeyType:
    name: str
    encryption: bool
    signing: bool
    derivation: bool
    key_bytes: int = 0  # symmetric keys; 0 for asymmetric ones
    transit: bool = True  # a Vault Transit type (secp256k1 is AWS KMS's only)


KEY_TYPES = {
    t.name: t
    for t in (
        KeyType("aes256-gcm96", encryption=True, signing=False, derivation=True, key_bytes=32),
        KeyType("aes128-gcm96", encryption=True, signing=False, derivation=True, key_bytes=16),
        KeyType("chacha20-poly1305", encryption=True, signing=False, derivation=True, key_bytes=32),
        KeyType("ed25519", encryption=False, signing=True, derivation=True),
        KeyType("ecdsa-p256", encryption=False, signing=True, derivation=False),
        KeyType("ecdsa-p384", encryption=False, signing=True, derivation=False),
        KeyType("ecdsa-p521", encryption=False, signing=True, derivation=False),
        KeyType("ecdsa-secp256k1", encryption=False, signing=True, derivation=False, transit=False),
        KeyType("rsa-2048", encryption=True, signing=True, derivation=False),
        KeyType("rsa-3072", encryption=True, signing=True, derivation=False),
        KeyType("rsa-4096", encryption=True, signing=True, derivation=False),
        KeyType("hmac", encryption=False, signing=False, derivation=False, key_bytes=32),
    )
}

HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha2-224": hashes.SHA224,
    "sha2-256": hashes.SHA256,
    "sha2-384": hashes.SHA384,
    "sha2-512": hashes.SHA512,
    "sha3-224": hashes.SHA3_224,
    "sha3-256": hashes.SHA3_256,
    "sha3-384": hashes.SHA3_384,
    "sha3-512": hashes.SHA3_512,
}
_HMAC_NAMES = {
    "sha2-224": "sha224",
    "sha2-256": "sha256",
    "sha2-384": "sha384",
    "sha2-512": "sha512",
    "sha3-224": "sha3_224",
    "sha3-256": "sha3_256",
    "sha3-384": "sha3_384",
    "sha3-512": "sha3_512",
}


# Loaded asymmetric keys kept in memory (server memory is out of the threat model).
_LOADED_KEYS = 1024

_EC_TYPES: dict[str, type[ec.EllipticCurve]] = {
    "ecdsa-p256": ec.SECP256R1,
    "ecdsa-p384": ec.SECP384R1,
    "ecdsa-p521": ec.SECP521R1,
    "ecdsa-secp256k1": ec.SECP256K1,
}


def _der(private: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def generate_material(key_type: str) -> bytes:
    """Fresh key material: raw bytes for symmetric and Ed25519 keys, PKCS#8 DER otherwise."""
    kind = KEY_TYPES[key_type]
    if kind.key_bytes:
        return os.urandom(kind.key_bytes)
    if key_type == "ed25519":
        return ed25519.Ed25519PrivateKey.generate().private_bytes_raw()
    if key_type in _EC_TYPES:
        return _der(ec.generate_private_key(_EC_TYPES[key_type]()))
    return _der(rsa.generate_private_key(public_exponent=65537, key_size=int(key_type[4:])))


def derive_key(material: bytes, context: bytes) -> bytes:
    """A derived key's key for one context: HKDF-SHA256 with the context as info."""
    return HKDF(hashes.SHA256(), len(material), salt=None, info=context).derive(material)


def symmetric_cipher(key_type: str, key: bytes) -> DataCipher:
    return DataCipher(key, "chacha20-poly1305" if key_type == "chacha20-poly1305" else "aes-gcm")


def check_material(key_type: str, material: bytes) -> None:
    """Raise ValueError unless ``material`` is what ``generate_material(key_type)`` makes: the
    type's length for symmetric keys, a private key of the type's curve or size otherwise
    (restored keys are held to what creation makes)."""
    kind = KEY_TYPES[key_type]
    if kind.key_bytes:
        if len(material) != kind.key_bytes:
            raise ValueError(f"a {key_type} key is {kind.key_bytes} bytes")
        return
    try:
        private = _private(key_type, material)
    except (ValueError, TypeError):
        raise ValueError(f"not a {key_type} private key") from None
    if key_type in _EC_TYPES:
        curve = _EC_TYPES[key_type]
        fits = isinstance(private, ec.EllipticCurvePrivateKey) and isinstance(private.curve, curve)
    elif key_type.startswith("rsa-"):
        size = int(key_type[4:])
        fits = isinstance(private, rsa.RSAPrivateKey) and private.key_size == size
    else:
        fits = isinstance(private, ed25519.Ed25519PrivateKey)
    if not fits:
        raise ValueError(f"not a {key_type} private key")


@functools.lru_cache(maxsize=_LOADED_KEYS)
def _private(key_type: str, material: bytes) -> object:
    """The loaded private key, kept: loading validates the key (an RSA-4096 key takes about a
    second and a half), so each key is validated once per process, not on every use."""
    if key_type == "ed25519":
        return ed25519.Ed25519PrivateKey.from_private_bytes(material)
    return serialization.load_der_private_key(material, password=None)


def _oaep(hash_name: str) -> padding.OAEP:
    algorithm = hashes.SHA1() if hash_name == "sha1" else HASHES[hash_name]()  # noqa: S303
    return padding.OAEP(mgf=padding.MGF1(algorithm), algorithm=algorithm, label=None)


def rsa_encrypt(material: bytes, plaintext: bytes, hash_name: str = "sha2-256") -> bytes:
    """RSA-OAEP with ``hash_name`` for both OAEP and MGF1 (``sha1`` only for AWS KMS's
    RSAES_OAEP_SHA_1)."""
    key = _private("rsa", material)
    assert isinstance(key, rsa.RSAPrivateKey)
    try:
        return key.public_key().encrypt(plaintext, _oaep(hash_name))
    except ValueError:
        digest = 20 if hash_name == "sha1" else HASHES[hash_name]().digest_size
        most = key.key_size // 8 - 2 * digest - 2
        raise BadRequest(
            f"the plaintext is too long for an RSA-{key.key_size} key (at most {most} bytes)"
        ) from None


def rsa_decrypt(material: bytes, ciphertext: bytes, hash_name: str = "sha2-256") -> bytes:
    key = _private("rsa", material)
    assert isinstance(key, rsa.RSAPrivateKey)
    try:
        return key.decrypt(ciphertext, _oaep(hash_name))
    except ValueError:
        raise DecryptionError() from None


def public_key(key_type: str, material: bytes) -> str:
    """Ed25519: base64 of the raw key (as Vault prints it); others: PEM."""
    key = _private(key_type, material)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return base64.b64encode(key.public_key().public_bytes_raw()).decode()
    assert isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _digest(data: bytes, hash_name: str, prehashed: bool) -> tuple[bytes, hashes.HashAlgorithm]:
    algorithm = HASHES[hash_name]()
    if prehashed:
        if len(data) != algorithm.digest_size:
            raise BadRequest(f"a prehashed input must be a {hash_name} digest")
        return data, algorithm
    digest = hashes.Hash(algorithm)
    digest.update(data)
    return digest.finalize(), algorithm


def sign(
    key_type: str,
    material: bytes,
    data: bytes,
    *,
    hash_name: str = "sha2-256",
    prehashed: bool = False,
    rsa_padding: str = "pss",
) -> bytes:
    key = _private(key_type, material)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    digest, algorithm = _digest(data, hash_name, prehashed)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(digest, ec.ECDSA(utils.Prehashed(algorithm)))
    assert isinstance(key, rsa.RSAPrivateKey)
    return key.sign(digest, _rsa_padding(rsa_padding, algorithm), utils.Prehashed(algorithm))


def _rsa_padding(name: str, algorithm: hashes.HashAlgorithm) -> padding.AsymmetricPadding:
    if name == "pkcs1v15":
        return padding.PKCS1v15()
    if name == "pss":
        return padding.PSS(mgf=padding.MGF1(algorithm), salt_length=padding.PSS.DIGEST_LENGTH)
    raise BadRequest('signature_algorithm must be "pss" or "pkcs1v15"')


def verify(
    key_type: str,
    material: bytes,
    data: bytes,
    signature: bytes,
    *,
    hash_name: str = "sha2-256",
    prehashed: bool = False,
    rsa_padding: str = "pss",
) -> bool:
    key = _private(key_type, material)
    try:
        if isinstance(key, ed25519.Ed25519PrivateKey):
            key.public_key().verify(signature, data)
            return True
        digest, algorithm = _digest(data, hash_name, prehashed)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            key.public_key().verify(signature, digest, ec.ECDSA(utils.Prehashed(algorithm)))
            return True
        assert isinstance(key, rsa.RSAPrivateKey)
        key.public_key().verify(
            signature, digest, _rsa_padding(rsa_padding, algorithm), utils.Prehashed(algorithm)
        )
        return True
    except InvalidSignature:
        return False


def hmac_digest(key: bytes, data: bytes, hash_name: str = "sha2-256") -> bytes:
    if hash_name not in _HMAC_NAMES:
        raise BadRequest(f"unsupported hash algorithm {hash_name}")
    return hmac.new(key, data, getattr(hashlib, _HMAC_NAMES[hash_name])).digest()


@dataclass(frozen=True)
class KeyPair:
    """A new asymmetric key pair, DER-encoded as AWS KMS returns data key pairs."""

    der: bytes = field(repr=False)  # the private key, PKCS#8
    public_der: bytes  # SubjectPublicKeyInfo


_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "ECC_NIST_P256": ec.SECP256R1,
    "ECC_NIST_P384": ec.SECP384R1,
    "ECC_NIST_P521": ec.SECP521R1,
    "ECC_SECG_P256K1": ec.SECP256K1,
}


def new_key_pair(spec: str) -> KeyPair:
    """``RSA_<bits>`` (2048, 3072, 4096) or one of the ``ECC_…`` curves AWS KMS names."""
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if spec in _CURVES:
        private = ec.generate_private_key(_CURVES[spec]())
    elif spec in ("RSA_2048", "RSA_3072", "RSA_4096"):
        private = rsa.generate_private_key(public_exponent=65537, key_size=int(spec[4:]))
    else:
        raise BadRequest(f"unknown key pair spec {spec!r}")
    der = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return KeyPair(der, public)
