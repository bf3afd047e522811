"""The private keys that sign identity tokens (auth/oidc_keys.py): made for a JWS algorithm and
kept as PKCS#8 PEM, loaded back only as the kinds a JWS algorithm signs with."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

__all__ = ["SigningKey", "load_signing_key", "new_signing_key"]

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
_KINDS = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)
_CURVES: dict[str, ec.EllipticCurve] = {
    "ES256": ec.SECP256R1(),
    "ES384": ec.SECP384R1(),
    "ES512": ec.SECP521R1(),
}


def new_signing_key(algorithm: str) -> str:
    """A fresh private key for ``algorithm`` (RS256/384/512: RSA-2048; ES256/384/512: its NIST
    curve; EdDSA: Ed25519), as PKCS#8 PEM."""
    key: SigningKey
    if algorithm.startswith("RS"):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif algorithm in _CURVES:
        key = ec.generate_private_key(_CURVES[algorithm])
    elif algorithm == "EdDSA":
        key = ed25519.Ed25519PrivateKey.generate()
    else:
        raise ValueError(f"no signing key for {algorithm!r}")
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def load_signing_key(pem: str) -> SigningKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, _KINDS):
        raise ValueError("an identity token key of an unknown kind")
    return key
