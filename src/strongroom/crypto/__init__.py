"""The safe recipe: one ``seal``/``open`` pair over envelope format v1.

Only :mod:`strongroom.crypto._aead` touches AES-GCM; everything else goes through here.
"""

from strongroom.crypto._aead import KEY_BYTES, NONCE_BYTES, Aead, new_key, new_nonce
from strongroom.crypto.context import Context, canonical_context
from strongroom.crypto.envelope import (
    FORMAT_V1,
    SUITE_AES256_GCM,
    DataKey,
    DataKeySource,
    Envelope,
    open_envelope,
    open_sealed,
    parse_envelope,
    seal,
    seal_with_data_key,
)

__all__ = [
    "FORMAT_V1",
    "KEY_BYTES",
    "NONCE_BYTES",
    "SUITE_AES256_GCM",
    "Aead",
    "Context",
    "DataKey",
    "DataKeySource",
    "Envelope",
    "canonical_context",
    "new_key",
    "new_nonce",
    "open_envelope",
    "open_sealed",
    "parse_envelope",
    "seal",
    "seal_with_data_key",
]
