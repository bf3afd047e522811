"""Seals, once, the records of a store written before records were sealed.

When to migrate must not be something a database writer can arrange: if "no record key yet"
triggered it, a writer could delete the key, plant plain records, and have the server seal them
for them. So the trigger is evidence only the keys can make: the token HMAC key still wrapped
under its old provider context. The migration rewraps it under the new context last, so a
migration cut short runs again at the next start, and a store that was created sealed never
migrates. (A writer who kept a copy of that old record from before the upgrade can replay the
migration: docs/security.md.)"""

from __future__ import annotations

import json
import logging
from dataclasses import replace

from strongroom.errors import DecryptionError
from strongroom.keyproviders.provider import KeyProvider
from strongroom.sealed_store import SEAL_RECORDS, SealedStore

__all__ = [
    "AUDIT_KEY_PURPOSE",
    "TOKEN_HMAC_CONTEXT",
    "audit_key_context",
    "migrate_records",
]

log = logging.getLogger("strongroom.store")

_LEGACY_TOKEN_HMAC_CONTEXT = {"purpose": "token-hmac-key"}
TOKEN_HMAC_CONTEXT = {"purpose": "token-hmac-key", "records": "sealed-v1"}
AUDIT_KEY_PURPOSE = "audit-hmac-key"
_LEGACY_AUDIT_CONTEXT = {"purpose": AUDIT_KEY_PURPOSE}


def audit_key_context(sink: str) -> dict[str, str]:
    """An audit sink's HMAC key is bound to the sink's name: moved to another sink, it fails."""
    return {"purpose": AUDIT_KEY_PURPOSE, "sink": sink}


def _is_legacy(sealed: SealedStore, provider: KeyProvider) -> bool:
    raw = sealed.inner.get_record("system", "token-hmac-key")
    if raw is None:
        return False
    if sealed.opens("system", "token-hmac-key", raw):
        return False
    try:
        provider.unwrap(raw, context=_LEGACY_TOKEN_HMAC_CONTEXT)
    except DecryptionError:
        return False
    return True


def _converted(kind: str, name: str, value: bytes, provider: KeyProvider) -> bytes:
    """A record's value in the sealed format's terms (keys bound to their new contexts)."""
    if kind == "system" and name == "token-hmac-key":
        key = provider.unwrap(value, context=_LEGACY_TOKEN_HMAC_CONTEXT)
        return provider.wrap(key, context=TOKEN_HMAC_CONTEXT)
    if kind == "audit-sink":
        doc = json.loads(value)
        key = provider.unwrap(bytes.fromhex(doc["wrapped_key"]), context=_LEGACY_AUDIT_CONTEXT)
        doc["wrapped_key"] = provider.wrap(key, context=audit_key_context(name)).hex()
        return json.dumps(doc).encode()
    return value


def _seal_records(sealed: SealedStore, provider: KeyProvider) -> int:
    inner, count = sealed.inner, 0
    for kind in inner.list_kinds():
        for name in inner.list_records(kind):
            if kind == "system" and (name in SEAL_RECORDS or name == "token-hmac-key"):
                continue
            value = inner.get_record(kind, name)
            if value is None:
                continue
            if sealed.opens(kind, name, value):
                continue  # sealed by an earlier, interrupted run
            new = sealed.seal_record(kind, name, _converted(kind, name, value, provider))
            count += inner.replace_record(kind, name, value, new)
    return count


def _sign_secrets(sealed: SealedStore) -> int:
    inner, count = sealed.inner, 0
    for namespace in inner.list_records("keyring"):
        after = ""
        while batch := inner.scan_secrets(namespace, after, 500):
            for secret in batch:
                after = secret.path
                if sealed.signed(secret):
                    continue
                marks = {
                    str(v.version): v.deletion_time
                    for v in inner.list_versions(namespace, secret.path)
                    if v.deletion_time is not None and v.envelope is not None
                }
                settings = secret.settings.copy()
                if marks:
                    settings["_deleted"] = marks  # DELETED_FIELD
                signed = sealed.signed_row(replace(secret, settings=settings))
                count += inner.replace_secret(secret, signed)
    return count


def migrate_records(sealed: SealedStore, provider: KeyProvider) -> None:
    if not _is_legacy(sealed, provider):
        return
    records = _seal_records(sealed, provider)
    secrets = _sign_secrets(sealed)
    # Last: the evidence that this store still needs migrating. Another node migrating at the
    # same time may have converted it already (each step above is a compare-and-set too).
    inner = sealed.inner
    legacy = inner.get_record("system", "token-hmac-key")
    if legacy is not None and not sealed.opens("system", "token-hmac-key", legacy):
        new = sealed.seal_record(
            "system", "token-hmac-key", _converted("system", "token-hmac-key", legacy, provider)
        )
        inner.replace_record("system", "token-hmac-key", legacy, new)
    log.warning("sealed %d records and %d secret rows of an older version", records, secrets)
