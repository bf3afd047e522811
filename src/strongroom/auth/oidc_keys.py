"""The signing keys of identity tokens (Vault's ``identity/oidc/key/<name>``): one record per
named key holding its versions, the newest signing and the older ones published for verification
until ``verification_ttl`` after they were replaced. The private keys never leave the record (a
sealed record, as every auth record); only public keys are published, as a JWKS."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import jwt

from strongroom.crypto.signing_keys import SigningKey, load_signing_key, new_signing_key

__all__ = [
    "ALGORITHMS",
    "DAY",
    "IdentityKey",
    "KeyVersion",
    "private_key",
]

DAY = 86_400.0
# Vault's algorithms for identity tokens (crypto/signing_keys.py makes a key for each)
ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "EdDSA")


@dataclass(frozen=True)
class KeyVersion:
    kid: str
    private_pem: str = field(repr=False)  # PKCS#8; lives in the sealed record only
    created: float
    # The public JWK, made with the key: the JWKS is served without a token, and loading a
    # private key (RSA's validation) costs milliseconds no anonymous caller may make it spend.
    public_jwk: dict[str, Any] = field(default_factory=dict)
    replaced: float = 0.0  # when a newer version took over signing (0: it signs)


@dataclass(frozen=True)
class IdentityKey:
    algorithm: str = "RS256"
    rotation_period: float = DAY
    verification_ttl: float = DAY
    allowed_client_ids: tuple[str, ...] = ()
    versions: tuple[KeyVersion, ...] = ()

    @classmethod
    def create(cls, now: float, **settings: Any) -> IdentityKey:
        made = cls(**settings)
        return replace(made, versions=(_new_version(made.algorithm, now),))

    @property
    def signing(self) -> KeyVersion:
        return self.versions[-1]

    def rotated(self, now: float, verification_ttl: float | None = None) -> IdentityKey:
        """A new signing version; the old ones stay published for ``verification_ttl``."""
        ttl = self.verification_ttl if verification_ttl is None else verification_ttl
        kept = tuple(
            v if v.replaced else replace(v, replaced=now)
            for v in self.versions
            if not v.replaced or v.replaced + ttl > now
        )
        return replace(self, versions=(*kept, _new_version(self.algorithm, now)))

    def due(self, now: float) -> bool:
        return self.rotation_period > 0 and now - self.signing.created >= self.rotation_period

    def published(self, now: float) -> list[KeyVersion]:
        return [
            v for v in self.versions if not v.replaced or v.replaced + self.verification_ttl > now
        ]

    def allows(self, client_id: str) -> bool:
        return "*" in self.allowed_client_ids or client_id in self.allowed_client_ids

    def settings(self) -> dict[str, Any]:
        """What a read shows (Vault's fields; durations in seconds)."""
        return {
            "algorithm": self.algorithm,
            "rotation_period": int(self.rotation_period),
            "verification_ttl": int(self.verification_ttl),
            "allowed_client_ids": list(self.allowed_client_ids),
        }

    def encode(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def decode(cls, raw: bytes) -> IdentityKey:
        doc = json.loads(raw)
        doc["allowed_client_ids"] = tuple(doc["allowed_client_ids"])
        doc["versions"] = tuple(KeyVersion(**v) for v in doc["versions"])
        return cls(**doc)

    def jwks(self, now: float) -> list[dict[str, Any]]:
        """The public JWK of each published version."""
        return [v.public_jwk for v in self.published(now)]


_LOADED: dict[str, SigningKey] = {}  # by key id: a token is signed without loading its key anew
_LOADED_MAX = 256
_LOADED_LOCK = threading.Lock()


def private_key(version: KeyVersion) -> SigningKey:
    with _LOADED_LOCK:
        found = _LOADED.get(version.kid)
    if found is None:
        found = load_signing_key(version.private_pem)
        with _LOADED_LOCK:
            if len(_LOADED) >= _LOADED_MAX:
                _LOADED.clear()
            _LOADED[version.kid] = found
    return found


def _new_version(algorithm: str, now: float) -> KeyVersion:
    pem = new_signing_key(algorithm)
    kid = str(uuid.uuid4())  # Vault's key ids are UUIDs too
    public = load_signing_key(pem).public_key()
    jwk = json.loads(jwt.get_algorithm_by_name(algorithm).to_jwk(public))
    return KeyVersion(kid, pem, now, {**jwk, "kid": kid, "alg": algorithm, "use": "sig"})
