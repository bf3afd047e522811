"""The server as a remote KMS for the token library: data keys per namespace keyring.

Encrypting (a new data key) and decrypting (unwrapping one) are separate capabilities, so a web
process that seals tokens cannot open them; only a worker identity with ``decrypt`` can."""

from __future__ import annotations

from collections.abc import Mapping

from strongroom.auth import Identity
from strongroom.crypto import new_key
from strongroom.crypto.context import Context, canonical_context
from strongroom.errors import BadRequest, CiphertextRejected, DecryptionError, LimitExceeded
from strongroom.keys import Keyrings, parse_term_ref
from strongroom.limits import Limits
from strongroom.paths import check_namespace
from strongroom.types import WrappedDataKey

__all__ = ["DataKeyService"]

# Added to every caller context so a KMS data key can never be confused with a secret's DEK.
_DOMAIN = "strongroom:purpose"


class DataKeyService:
    def __init__(self, keyrings: Keyrings, limits: Limits) -> None:
        self._keyrings = keyrings
        self._limits = limits

    def _context(self, context: Mapping[str, str]) -> Context:
        if not isinstance(context, Mapping):
            raise BadRequest("context must be an object of string values")
        if len(context) > self._limits.max_context_pairs:
            raise LimitExceeded(f"context has more than {self._limits.max_context_pairs} pairs")
        if any(key.startswith("strongroom:") for key in context):
            raise BadRequest("context keys starting with 'strongroom:' are reserved")
        bound = {**context, _DOMAIN: "datakey"}
        if len(canonical_context(bound)) > self._limits.max_context_bytes:
            raise LimitExceeded(f"context is larger than {self._limits.max_context_bytes} bytes")
        return bound

    def generate(
        self, identity: Identity, namespace: str, context: Mapping[str, str]
    ) -> WrappedDataKey:
        check_namespace(namespace, self._limits)
        identity.require("update", f"sys/kms/encrypt/{namespace}")
        bound = self._context(context)
        term = self._keyrings.term_for_encryption(namespace)
        plaintext = new_key()
        return WrappedDataKey(term.key_ref, term.wrap(plaintext, context=bound), plaintext)

    def decrypt(
        self,
        identity: Identity,
        namespace: str,
        key_ref: str,
        wrapped: bytes,
        context: Mapping[str, str],
    ) -> bytes:
        check_namespace(namespace, self._limits)
        identity.require("update", f"sys/kms/decrypt/{namespace}")
        parsed = parse_term_ref(key_ref)
        if parsed is None or parsed[0] != namespace:
            raise CiphertextRejected()
        try:
            return self._keyrings.resolve(key_ref).unwrap(wrapped, context=self._context(context))
        except DecryptionError:
            raise CiphertextRejected() from None
