"""The keyrings of all namespaces: load (once, then held in memory), create, rotate, retire,
re-wrap, and count each term's encryptions. Use counts are reserved from the store in blocks, so
several nodes never undercount encryptions (they may overcount by at most one block each)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from strongroom.clock import Clock
from strongroom.crypto import Aead, new_key
from strongroom.crypto.envelope import open_sealed, seal_with_data_key
from strongroom.errors import (
    Conflict,
    DecryptionError,
    KeyProviderUnavailable,
    NoSuchNamespace,
    NotFound,
)
from strongroom.keyproviders.provider import KeyProvider
from strongroom.keys import stored
from strongroom.keys.keyring import Keyring, Terms, TermStatus
from strongroom.keys.term import KeyringTerm, parse_term_ref, term_ref
from strongroom.store.protocol import Store
from strongroom.store.records import Records

__all__ = ["COUNTER_KIND", "DEK_CACHE_ENTRIES", "USE_BLOCK", "Keyrings"]

COUNTER_KIND = "term_encryptions"
USE_BLOCK = 1024
DEK_CACHE_ENTRIES = 10_000


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
        providers: Callable[[str], KeyProvider] | None = None,
    ) -> None:
        self._store = store
        self._stored = Records(store, stored.RECORD_KIND, bytes, bytes)  # as wrapped
        self._provider = provider
        # Called when keyrings change under what was opened with them (destroyed here, or
        # rotated, retired or destroyed by another node): caches of plaintext drop theirs.
        self.on_change: list[Callable[[], None]] = []
        self._named = providers
        self._clock = clock
        self._rotate_after = rotate_after
        self._on_rotate = on_rotate
        self._lock = threading.RLock()
        self._load_locks: dict[str, threading.Lock] = {}
        self._keyrings: dict[str, Keyring] = {}
        self._reserved: dict[str, int] = {}  # key_ref -> encryptions left in our block
        # Unwrapped DEKs of recently read versions, keyed by key, wrapped DEK and context, so a
        # hit needs the same stored bytes at the same place. Cleared when a keyring is destroyed.
        self._deks: dict[tuple[str, bytes, bytes], Aead] = {}

    def provider_for(self, name: str) -> KeyProvider:
        """The root provider (``""``), or a namespace's own provider by its configured name."""
        if not name:
            return self._provider
        if self._named is None:
            raise KeyProviderUnavailable(
                f"this server has no key provider named {name!r}; start it with "
                f"--key-provider {name}=<URI>"
            )
        return self._named(name)

    def _decode(self, namespace: str, raw: bytes) -> Keyring:
        return stored.build(namespace, stored.decode(raw, namespace, self.provider_for))

    def namespaces(self) -> list[str]:
        return sorted(self._stored.names())

    def exists(self, namespace: str) -> bool:
        return self._stored.get(namespace) is not None

    def loaded(self, namespace: str) -> bool:
        """Whether the keyring is in memory: using it then makes no store or provider call."""
        return namespace in self._keyrings

    def get(self, namespace: str, *, reload: bool = False) -> Keyring:
        if not reload:
            cached = self._keyrings.get(namespace)  # a dict read is atomic: no lock on hits
            if cached is not None:
                return cached
        # A load calls the namespace's provider, which may be slow or down: it holds only this
        # namespace's lock, never the one every write takes (term_for_encryption).
        with self._loading(namespace):
            cached = self._keyrings.get(namespace)
            if cached is not None and not reload:
                return cached
            raw = self._stored.get(namespace)
            if raw is None:
                with self._lock:
                    self._keyrings.pop(namespace, None)
                    self._load_locks.pop(namespace, None)  # only namespaces that exist keep one
                raise NoSuchNamespace(
                    f"no namespace {namespace!r}; "
                    f"create it with: strongroom namespace create {namespace}"
                )
            keyring = self._decode(namespace, raw)
            with self._lock:
                self._keyrings[namespace] = keyring
            return keyring

    def _loading(self, namespace: str) -> threading.Lock:
        """The lock that makes one load of a namespace's keyring at a time. Taken before the
        shared lock, never while holding it."""
        with self._lock:
            lock = self._load_locks.get(namespace)
            if lock is None:
                lock = self._load_locks[namespace] = threading.Lock()
            return lock

    def create(self, namespace: str, provider_name: str = "") -> Keyring:
        """A new keyring, wrapped by the root provider or by the named provider of its own."""
        provider = self.provider_for(provider_name)
        raw = stored.encode([(1, new_key(), self._clock.now())], namespace, provider, provider_name)
        if not self._stored.create(namespace, raw):
            raise Conflict(f"namespace {namespace!r} already exists")
        return self.get(namespace, reload=True)

    def destroy(self, namespace: str) -> None:
        """Crypto-shredding: once the keyring is gone, nothing of the namespace can be opened."""
        with self._lock:
            self._stored.delete(namespace)
            self._keyrings.pop(namespace, None)
            self._deks.clear()
        for listener in self.on_change:
            listener()
        self._store.publish("keyring", namespace)

    def forget(self, namespace: str) -> None:
        """Drop a cached keyring and the DEK cache (another node rotated, retired or destroyed
        it); the next use reloads it from the store. An empty name drops every keyring."""
        with self._lock:
            if namespace:
                self._keyrings.pop(namespace, None)
            else:
                self._keyrings.clear()
        for listener in self.on_change:
            listener()
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

    def _change_terms(
        self,
        namespace: str,
        change: Callable[[Terms], Terms],
        *,
        provider_name: str | None = None,
    ) -> Keyring:
        """Read a namespace's keyring record, apply ``change`` to its terms and write it back,
        wrapped under the provider's current root key version (or under ``provider_name``, a
        move): one read and one unwrap, then one wrap and a compare-and-set, so the new record
        extends exactly the one it replaces (retried when another node wrote first). Every
        node drops its cached copy."""
        # No lock is held across the provider's unwrap and wrap: a provider that hangs must not
        # stop writes (which take the shared lock). The store's compare-and-set orders changes.
        shrunk = False

        def decode(raw: bytes) -> tuple[str, Terms]:
            name, _, terms = stored.decode(raw, namespace, self.provider_for)
            return name, terms

        def encode(record: tuple[str, Terms]) -> bytes:
            name, terms = record
            return stored.encode(terms, namespace, self.provider_for(name), name)

        def changed(record: tuple[str, Terms] | None) -> tuple[str, Terms]:
            nonlocal shrunk
            if record is None:
                raise NotFound(f"no namespace {namespace!r}")
            name, terms = record
            new_terms = change(terms)
            shrunk = len(new_terms) < len(terms)
            return (name if provider_name is None else provider_name), new_terms

        keyrings = Records(self._store, stored.RECORD_KIND, decode, encode)
        name, terms = keyrings.change(namespace, changed, attempts=5, gave_up=_keyring_busy)
        keyring = stored.build(namespace, (name, self.provider_for(name).key_ref, terms))
        with self._lock:
            self._keyrings[namespace] = keyring
            if shrunk:  # a retired term's DEKs must not open anything
                self._deks.clear()
        self._store.publish("keyring", namespace)
        return keyring

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
        plaintext = open_sealed(
            blob,
            encoded_context,
            lambda key_ref, wrapped: self.resolve(key_ref).unwrap_data_key_encoded(
                wrapped, encoded_context
            ),
        )
        return self.seal_encoded(namespace, plaintext, encoded_context)

    def seal_encoded(
        self, namespace: str, plaintext: bytes, encoded_context: bytes
    ) -> tuple[bytes, str]:
        """Seal under a fresh DEK from the active term (counting one encryption), for a caller
        that already holds ``canonical_context(context)``; returns the envelope and its key
        reference."""
        term = self.term_for_encryption(namespace)
        data_key = term.generate_data_key_encoded(encoded_context)
        sealed = seal_with_data_key(
            plaintext, data_key=data_key, context={}, encoded_context=encoded_context
        )
        return sealed, term.key_ref

    def move(self, namespace: str, provider_name: str) -> Keyring:
        """Wrap a namespace's keyring under another provider (``""``: the root key's). Its
        terms, and so every stored version, stay as they are: one unwrap by the old provider
        and one wrap by the new, whatever the amount of data."""
        return self._change_terms(namespace, lambda terms: terms, provider_name=provider_name)

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

    def rewrap_under_root(self, *, only_root: bool = False) -> int:
        """Re-wrap every keyring under its provider's current root key version (``only_root``:
        only those the root key wraps, for a seal migration): one unwrap and one wrap per
        namespace, whatever the amount of data. Returns the number of keyrings."""
        count = 0
        for namespace in self._stored.names():
            raw = self._stored.get(namespace)
            if raw is None or (only_root and stored.provider_name(raw)):
                continue
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
        for namespace in self._stored.names():
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
        keyring = self.get(namespace)  # loaded outside the shared lock (see get)
        with self._lock:
            term = self._keyrings.get(namespace, keyring).active
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
            statuses.append(
                TermStatus(
                    term.number,
                    term.key_ref,
                    term.created,
                    term is keyring.active,
                    self.encryptions(term),
                    in_use.get(term.key_ref, 0),
                )
            )
        return statuses

    def encryptions(self, term: KeyringTerm) -> int:
        """How many times ``term`` sealed. The counter holds reserved blocks; this node's unused
        part is not an encryption (another node's is counted: at most one block per node)."""
        used = self._store.add_counter(COUNTER_KIND, term.key_ref, 0)
        return max(0, used - self._reserved.get(term.key_ref, 0))


def _keyring_busy() -> Conflict:
    return Conflict("the keyring changed concurrently; retry")
