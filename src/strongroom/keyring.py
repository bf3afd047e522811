"""Namespace keyrings: an immutable list of numbered AES-256 terms, wrapped by the root key.

A term is a DataKeySource: it wraps each version's DEK, bound to the version's context.
Rotation appends a term (never mutates one). Use counts are reserved from the store in blocks,
so several nodes never undercount encryptions (they may overcount by at most one block each).
"""

from __future__ import annotations

import base64
import json
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from strongroom.clock import Clock
from strongroom.crypto._aead import KEY_BYTES, Aead, new_key
from strongroom.crypto.context import Context, canonical_context
from strongroom.crypto.envelope import DataKey, open_at, seal_with_data_key, split_header
from strongroom.errors import Conflict, DecryptionError, NotFound
from strongroom.kms.provider import KeyProvider, KeyProviderBase
from strongroom.store.protocol import Store

__all__ = [
    "COUNTER_KIND",
    "DEK_CACHE_ENTRIES",
    "RECORD_KIND",
    "USE_BLOCK",
    "Keyring",
    "KeyringTerm",
    "Keyrings",
    "TermStatus",
    "Terms",
    "parse_term_ref",
    "term_ref",
]

RECORD_KIND = "keyring"
COUNTER_KIND = "term_encryptions"
USE_BLOCK = 1024
DEK_CACHE_ENTRIES = 10_000


def term_ref(namespace: str, number: int) -> str:
    return f"ns:{namespace}#{number}"


def parse_term_ref(key_ref: str) -> tuple[str, int] | None:
    if not key_ref.startswith("ns:") or "#" not in key_ref:
        return None
    namespace, _, number = key_ref[3:].rpartition("#")
    return (namespace, int(number)) if number.isdigit() else None


class KeyringTerm(KeyProviderBase):
    """One term of a namespace keyring. It wraps each DEK bound to the DEK's context, so it is
    a key provider in its own right (and an envelope's DataKeySource)."""

    __slots__ = ("_aead", "_key_ref", "created", "number")

    def __init__(self, namespace: str, number: int, key: bytes, created: float) -> None:
        self.number = number
        self.created = created
        self._key_ref = term_ref(namespace, number)
        self._aead = Aead(key)

    def __repr__(self) -> str:
        return f"KeyringTerm({self._key_ref!r})"

    @property
    def key_ref(self) -> str:
        return self._key_ref

    def _associated_data(self, encoded_context: bytes) -> bytes:
        ref = self._key_ref.encode()
        return b"strongroom dek v1\x00" + struct.pack(">H", len(ref)) + ref + encoded_context

    def wrap(self, plaintext_key: bytes, *, context: Context) -> bytes:
        return self._aead.wrap(plaintext_key, self._associated_data(canonical_context(context)))

    def unwrap(self, wrapped: bytes, *, context: Context) -> bytes:
        return self._aead.unwrap(wrapped, self._associated_data(canonical_context(context)))

    def generate_data_key_encoded(self, encoded_context: bytes) -> DataKey:
        """generate_data_key for a caller that already holds canonical_context(context)."""
        dek = new_key()
        wrapped = self._aead.wrap(dek, self._associated_data(encoded_context))
        return DataKey(self._key_ref, wrapped, Aead(dek))

    def unwrap_data_key_encoded(self, wrapped: bytes, encoded_context: bytes) -> Aead:
        """unwrap_data_key for a caller that already holds canonical_context(context)."""
        return Aead(self._aead.unwrap(wrapped, self._associated_data(encoded_context)))


@dataclass(frozen=True)
class Keyring:
    namespace: str
    provider_ref: str
    terms: tuple[KeyringTerm, ...] = field(repr=False)

    @property
    def active(self) -> KeyringTerm:
        return self.terms[-1]

    def term(self, number: int) -> KeyringTerm:
        for term in self.terms:
            if term.number == number:
                return term
        raise DecryptionError()


@dataclass(frozen=True)
class TermStatus:
    number: int
    key_ref: str
    created: float
    active: bool
    encryptions: int
    versions_in_use: int


def _keyring_context(namespace: str) -> dict[str, str]:
    return {"purpose": "namespace-keyring", "namespace": namespace}


Terms = list[tuple[int, bytes, float]]  # (number, key, created) of each term, oldest first


def _keyring(namespace: str, provider_ref: str, terms: Terms) -> Keyring:
    return Keyring(
        namespace,
        provider_ref,
        tuple(KeyringTerm(namespace, n, key, created) for n, key, created in terms),
    )


def _serialize(keyring_terms: Terms, namespace: str, provider: KeyProvider) -> bytes:
    material = b"".join(key for _, key, _ in keyring_terms)
    wrapped = provider.wrap(material, context=_keyring_context(namespace))
    return json.dumps(
        {
            "format": 1,
            "provider": provider.key_ref,
            "terms": [{"number": n, "created": created} for n, _, created in keyring_terms],
            "wrapped": base64.b64encode(wrapped).decode(),
        },
        sort_keys=True,
    ).encode()


class Keyrings:
    """Loads, creates, rotates and counts the keyrings of all namespaces. Keys stay in memory."""

    def __init__(
        self,
        store: Store,
        provider: KeyProvider,
        clock: Clock,
        *,
        rotate_after: int = 2**30,
        on_rotate: Callable[[str, int], None] | None = None,
    ) -> None:
        self._store = store
        self._provider = provider
        self._clock = clock
        self._rotate_after = rotate_after
        self._on_rotate = on_rotate
        self._lock = threading.RLock()
        self._keyrings: dict[str, Keyring] = {}
        self._reserved: dict[str, int] = {}  # key_ref -> encryptions left in our block
        # Unwrapped DEKs of recently read versions, keyed by key, wrapped DEK and context, so a
        # hit needs the same stored bytes at the same place. Cleared when a keyring is destroyed.
        self._deks: dict[tuple[str, bytes, bytes], Aead] = {}

    def _unwrap_terms(self, namespace: str, raw: bytes) -> tuple[str, Terms]:
        """The provider reference and (number, key, created) of every term in a stored record."""
        try:
            doc = json.loads(raw)
            material = self._provider.unwrap(
                base64.b64decode(doc["wrapped"]), context=_keyring_context(namespace)
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
            return str(doc["provider"]), terms
        except (ValueError, KeyError, TypeError):
            raise DecryptionError() from None

    def _decode(self, namespace: str, raw: bytes) -> Keyring:
        return _keyring(namespace, *self._unwrap_terms(namespace, raw))

    def namespaces(self) -> list[str]:
        return sorted(self._store.list_records(RECORD_KIND))

    def exists(self, namespace: str) -> bool:
        return self._store.get_record(RECORD_KIND, namespace) is not None

    def loaded(self, namespace: str) -> bool:
        """Whether the keyring is in memory: using it then makes no store or provider call."""
        return namespace in self._keyrings

    def get(self, namespace: str, *, reload: bool = False) -> Keyring:
        if not reload:
            cached = self._keyrings.get(namespace)  # a dict read is atomic: no lock on hits
            if cached is not None:
                return cached
        with self._lock:
            cached = self._keyrings.get(namespace)
            if cached is not None and not reload:
                return cached
            raw = self._store.get_record(RECORD_KIND, namespace)
            if raw is None:
                self._keyrings.pop(namespace, None)
                raise NotFound(
                    f"no namespace {namespace!r}; "
                    f"create it with: strongroom namespace create {namespace}"
                )
            keyring = self._decode(namespace, raw)
            self._keyrings[namespace] = keyring
            return keyring

    def create(self, namespace: str) -> Keyring:
        raw = _serialize([(1, new_key(), self._clock.now())], namespace, self._provider)
        if not self._store.replace_record(RECORD_KIND, namespace, None, raw):
            raise Conflict(f"namespace {namespace!r} already exists")
        return self.get(namespace, reload=True)

    def destroy(self, namespace: str) -> None:
        """Crypto-shredding: once the keyring is gone, nothing of the namespace can be opened."""
        with self._lock:
            self._store.delete_record(RECORD_KIND, namespace)
            self._keyrings.pop(namespace, None)
            self._deks.clear()
        self._store.publish("keyring", namespace)

    def forget(self, namespace: str) -> None:
        """Drop a cached keyring and the DEK cache (another node rotated, retired or destroyed
        it); the next use reloads it from the store. An empty name drops every keyring."""
        with self._lock:
            if namespace:
                self._keyrings.pop(namespace, None)
            else:
                self._keyrings.clear()
            self._deks.clear()

    def unwrap_dek(self, key_ref: str, wrapped: bytes, encoded_context: bytes) -> Aead:
        """The DEK of a stored envelope, from the cache or unwrapped by its term."""
        cache_key = (key_ref, wrapped, encoded_context)
        aead = self._deks.get(cache_key)
        if aead is None:
            aead = self.resolve(key_ref).unwrap_data_key_encoded(wrapped, encoded_context)
            if len(self._deks) >= DEK_CACHE_ENTRIES:
                self._deks.clear()
            self._deks[cache_key] = aead
        return aead

    def _change_terms(self, namespace: str, change: Callable[[Terms], Terms]) -> Keyring:
        """Read a namespace's keyring record, apply ``change`` to its terms and write it back,
        wrapped under the provider's current root key version: one read and one unwrap, then a
        compare-and-set, so the new record extends exactly the one it replaces (retried when
        another node wrote first). Every node drops its cached copy."""
        with self._lock:
            for _ in range(5):
                old = self._store.get_record(RECORD_KIND, namespace)
                if old is None:
                    raise NotFound(f"no namespace {namespace!r}")
                _, terms = self._unwrap_terms(namespace, old)
                changed = change(terms)
                new = _serialize(changed, namespace, self._provider)
                if self._store.replace_record(RECORD_KIND, namespace, old, new):
                    keyring = _keyring(namespace, self._provider.key_ref, changed)
                    self._keyrings[namespace] = keyring
                    if len(changed) < len(terms):  # a retired term's DEKs must not open anything
                        self._deks.clear()
                    self._store.publish("keyring", namespace)
                    return keyring
            raise Conflict("the keyring changed concurrently; retry")

    def rotate(self, namespace: str) -> KeyringTerm:
        def add_term(terms: Terms) -> Terms:
            return [*terms, (max(n for n, _, _ in terms) + 1, new_key(), self._clock.now())]

        active = self._change_terms(namespace, add_term).active
        if self._on_rotate is not None:
            self._on_rotate(namespace, active.number)
        return active

    def rewrap_envelope(
        self, namespace: str, blob: bytes, encoded_context: bytes
    ) -> tuple[bytes, str]:
        """Open an envelope and seal its plaintext again, with a new DEK, under the active term
        (a rewrap); returns the envelope and its key reference. It bypasses the DEK cache,
        which would otherwise fill with keys nobody reads again."""
        key_ref, wrapped, end = split_header(blob)
        aead = self.resolve(key_ref).unwrap_data_key_encoded(wrapped, encoded_context)
        plaintext = open_at(aead, blob, end, encoded_context)
        term = self.term_for_encryption(namespace)
        data_key = term.generate_data_key_encoded(encoded_context)
        fresh = seal_with_data_key(
            plaintext, data_key=data_key, context={}, encoded_context=encoded_context
        )
        return fresh, term.key_ref

    def retire(self, namespace: str, number: int) -> None:
        """Remove a term for good. Only an inactive term that no stored version uses; after
        this, anything still sealed under it (data keys an app keeps) cannot be opened."""

        def drop_term(terms: Terms) -> Terms:
            if number not in {n for n, _, _ in terms}:
                raise NotFound(f"namespace {namespace!r} has no key term {number}")
            if number == max(n for n, _, _ in terms):
                raise Conflict("the active term cannot be retired; rotate first")
            users = self._store.count_by_key_ref(namespace).get(term_ref(namespace, number))
            if users:
                raise Conflict(
                    f"{users} stored versions still use term {number}; "
                    f"run: strongroom keys rewrap {namespace}"
                )
            return [term for term in terms if term[0] != number]

        self._change_terms(namespace, drop_term)

    def rewrap_under_root(self) -> int:
        """Re-wrap every keyring under the provider's current root key version: one unwrap and
        one wrap per namespace, whatever the amount of data. Returns the number of keyrings."""
        count = 0
        for namespace in self._store.list_records(RECORD_KIND):
            try:
                self._change_terms(namespace, lambda terms: terms)
            except NotFound:
                continue  # deleted meanwhile
            count += 1
        return count

    def rotate_older_than(self, max_age: float) -> list[str]:
        """Rotate every namespace whose active term is older than ``max_age`` seconds."""
        rotated = []
        now = self._clock.now()
        for namespace in self._store.list_records(RECORD_KIND):
            try:
                active = self.get(namespace, reload=True).active
            except NotFound:
                continue
            if now - active.created >= max_age:
                self.rotate(namespace)
                rotated.append(namespace)
        return rotated

    def resolve(self, key_ref: str) -> KeyringTerm:
        """The term a stored envelope names; reloads once in case another node rotated."""
        parsed = parse_term_ref(key_ref)
        if parsed is None:
            raise DecryptionError()
        namespace, number = parsed
        try:
            return self.get(namespace).term(number)
        except DecryptionError:
            return self.get(namespace, reload=True).term(number)
        except NotFound:
            raise DecryptionError() from None

    def term_for_encryption(self, namespace: str) -> KeyringTerm:
        """The active term, counting one encryption; rotates when the term's budget is spent.
        Every term, the first and each one after a rotation, gets the same budget."""
        block = min(USE_BLOCK, self._rotate_after)  # never reserve past a term's budget
        with self._lock:
            term = self.get(namespace).active
            left = self._reserved.get(term.key_ref, 0)
            for _ in range(4):
                if left > 0:
                    break
                total = self._store.add_counter(COUNTER_KIND, term.key_ref, block)
                # Use only the part of the block within the term's budget; past it, rotate.
                left = min(block, self._rotate_after - (total - block))
                if left <= 0:
                    # Spent: give back the block just taken, so the count stays true, and rotate.
                    self._store.add_counter(COUNTER_KIND, term.key_ref, -block)
                    term = self.rotate(namespace)
            if left <= 0:
                raise Conflict("the keyring is rotating on every node at once; retry")
            self._reserved[term.key_ref] = left - 1
            return term

    def status(self, namespace: str) -> list[TermStatus]:
        keyring = self.get(namespace, reload=True)
        in_use = self._store.count_by_key_ref(namespace)
        statuses = []
        for term in keyring.terms:
            # The counter holds reserved blocks; this node's unused part is not an encryption
            # (another node's unused reservation is counted: at most one block per node).
            used = self._store.add_counter(COUNTER_KIND, term.key_ref, 0)
            left = self._reserved.get(term.key_ref, 0)
            statuses.append(
                TermStatus(
                    term.number,
                    term.key_ref,
                    term.created,
                    term is keyring.active,
                    max(0, used - left),
                    in_use.get(term.key_ref, 0),
                )
            )
        return statuses
