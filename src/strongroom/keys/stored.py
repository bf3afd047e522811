"""The stored form of a keyring (a record of kind ``keyring`` named after its namespace):

    {"format": 1, "provider": <key_ref of the wrapping key>, "provider_name": <optional>,
     "terms": [{"number", "created"}, ...], "wrapped": base64(provider.wrap(term keys ‖ ...))}

The term keys are wrapped together, bound to the context {purpose: namespace-keyring,
namespace}. ``provider_name`` is present only for a namespace on a provider of its own."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

from strongroom.crypto import KEY_BYTES
from strongroom.errors import DecryptionError
from strongroom.keyproviders.provider import KeyProvider
from strongroom.keys.keyring import Keyring, Terms
from strongroom.keys.term import KeyringTerm

__all__ = [
    "RECORD_KIND",
    "StoredKeyring",
    "build",
    "decode",
    "encode",
    "keyring_context",
    "provider_name",
]

RECORD_KIND = "keyring"

StoredKeyring = tuple[str, str, Terms]  # (provider name, provider key_ref, terms)


def keyring_context(namespace: str) -> dict[str, str]:
    return {"purpose": "namespace-keyring", "namespace": namespace}


def encode(terms: Terms, namespace: str, provider: KeyProvider, provider_name: str) -> bytes:
    material = b"".join(key for _, key, _ in terms)
    doc = {
        "format": 1,
        "provider": provider.key_ref,
        "terms": [{"number": n, "created": created} for n, _, created in terms],
        "wrapped": base64.b64encode(
            provider.wrap(material, context=keyring_context(namespace))
        ).decode(),
    }
    if provider_name:
        doc["provider_name"] = provider_name
    return json.dumps(doc, sort_keys=True).encode()


def provider_name(raw: bytes) -> str:
    """The configured provider a stored keyring names ("" for the root key), without
    unwrapping it."""
    try:
        return str(json.loads(raw).get("provider_name", ""))
    except (ValueError, AttributeError):
        raise DecryptionError() from None


def decode(raw: bytes, namespace: str, providers: Callable[[str], KeyProvider]) -> StoredKeyring:
    """Unwrap a stored keyring with its provider (``providers(name)``; "" is the root)."""
    try:
        doc = json.loads(raw)
        name = str(doc.get("provider_name", ""))
        material = providers(name).unwrap(
            base64.b64decode(doc["wrapped"]), context=keyring_context(namespace)
        )
        entries = doc["terms"]
        if len(material) != KEY_BYTES * len(entries):
            raise DecryptionError()
        terms = [
            (
                int(entry["number"]),
                material[i * KEY_BYTES : (i + 1) * KEY_BYTES],
                float(entry["created"]),
            )
            for i, entry in enumerate(entries)
        ]
        return name, str(doc["provider"]), terms
    except (ValueError, KeyError, TypeError, AttributeError):
        raise DecryptionError() from None


def build(namespace: str, stored: StoredKeyring) -> Keyring:
    name, provider_ref, terms = stored
    return Keyring(
        namespace,
        provider_ref,
        tuple(KeyringTerm(namespace, n, key, created) for n, key, created in terms),
        name,
    )
