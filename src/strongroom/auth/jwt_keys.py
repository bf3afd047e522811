"""The keys a JWT auth method verifies signatures with: PEM public keys given in its config, or
a JWKS fetched from ``jwks_url`` (or from the ``jwks_uri`` of an OIDC issuer's discovery
document). Fetches go through the egress policy (the URL is an administrator's, but the server
connects to it) to the address that was checked, with a timeout and a size bound. A JWKS is kept
for ``CACHE_SECONDS``; a token naming a key id the cache lacks fetches again (a key rotation),
at most once per ``REFETCH_SECONDS``."""

from __future__ import annotations

import threading
import time
from typing import Any

from jwt import PyJWKSet
from jwt.exceptions import PyJWKError, PyJWKSetError

from strongroom.auth.egress_json import egress_json
from strongroom.crypto.public_keys import key_family, public_key_from_pem
from strongroom.egress import EgressPolicy
from strongroom.errors import Unauthenticated

__all__ = ["CACHE_SECONDS", "REFETCH_SECONDS", "KeySource"]

CACHE_SECONDS = 300.0
REFETCH_SECONDS = 1.0


class KeySource:
    def __init__(self, egress: EgressPolicy) -> None:
        self._egress = egress
        self._cache: dict[str, tuple[dict[str, Any], float]] = {}  # url -> (jwks, fetched at)
        self._lock = threading.Lock()

    def candidates(
        self, config: dict[str, Any], kid: str | None, alg: str, *, fresh: bool = False
    ) -> list[Any]:
        """The keys that may verify a token signed with ``alg`` under ``kid``: of the alg's
        family only (an RSA key never checks an EC signature, nor is it an HMAC secret).
        ``fresh``: fetch the JWKS again (the issuer rotated its keys), rate-limited."""
        family = _FAMILIES.get(alg[:2], "")
        pems = config.get("jwt_validation_pubkeys") or []
        if pems:
            keys = [public_key_from_pem(pem) for pem in pems]
            return [key for key in keys if key_family(key) == family]
        jwks = self._fetch(self._jwks_url(config), fresh, config.get("ca_pem") or "")
        try:
            keys = PyJWKSet.from_dict(jwks).keys
        except (PyJWKSetError, PyJWKError):
            return []
        return [
            key.key
            for key in keys
            if (kid is None or key.key_id == kid) and str(key.key_type) == family
        ]

    def _jwks_url(self, config: dict[str, Any]) -> str:
        if config.get("jwks_url"):
            return str(config["jwks_url"])
        discovery = str(config["oidc_discovery_url"]).rstrip("/")
        doc = self._fetch(
            f"{discovery}/.well-known/openid-configuration", False, config.get("ca_pem") or ""
        )
        uri = doc.get("jwks_uri")
        if not isinstance(uri, str):
            raise Unauthenticated("the OIDC discovery document names no jwks_uri")
        return uri

    def _fetch(self, url: str, force: bool, ca_pem: str = "") -> dict[str, Any]:
        """``ca_pem``: the CA that signs the server's certificate, if not a public one (a
        Kubernetes API server's)."""
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(url)
        if cached is not None:
            age = now - cached[1]
            if age < (REFETCH_SECONDS if force else CACHE_SECONDS):
                return cached[0]
        doc = egress_json(self._egress, url, "the issuer's keys", ca_pem=ca_pem)
        with self._lock:
            self._cache[url] = (doc, now)
        return doc


_FAMILIES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
