"""Public keys that strongroom checks signatures with but did not make (a JWT issuer's): loaded
from PEM, and told apart by family, so a key is only ever used for its own kind of signature."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from strongroom.errors import BadRequest

__all__ = ["key_family", "public_key_from_pem"]


def public_key_from_pem(pem: str) -> Any:
    try:
        return load_pem_public_key(pem.encode())
    except ValueError:
        raise BadRequest("a public key must be PEM (-----BEGIN PUBLIC KEY-----)") from None


def key_family(key: Any) -> str:
    """JOSE's name of the key's family: RSA, EC or OKP ("" for anything else)."""
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC"
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return "OKP"
    return ""
