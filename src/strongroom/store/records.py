"""One typed repository for a kind of record over the Store protocol: read, create, change with
compare-and-set.

Every change is a read, an edit of what was read, and a compare-and-set of the result; when
another request changed the record in between, the edit runs again on what that request left.
So two requests that change different fields of one record both land (a plain put would keep
only the last), and an edit that refuses (raises) writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from strongroom.errors import Conflict
from strongroom.store.protocol import Store

__all__ = ["MAX_ATTEMPTS", "Records"]

_T = TypeVar("_T")

# Enough for any contention a request can meet; a record that changes this often under one
# edit is refused rather than retried for ever.
MAX_ATTEMPTS = 100


class Records(Generic[_T]):
    """The records of one kind, each decoded to a value of its type."""

    def __init__(
        self,
        store: Store,
        kind: str,
        decode: Callable[[bytes], _T],
        encode: Callable[[_T], bytes],
    ) -> None:
        self._store = store
        self.kind = kind
        self._decode = decode
        self._encode = encode

    @classmethod
    def of_json(cls, store: Store, kind: str) -> Records[Any]:
        """Records that are one JSON document each."""
        return Records(store, kind, json.loads, lambda value: json.dumps(value).encode())

    def get(self, name: str) -> _T | None:
        raw = self._store.get_record(self.kind, name)
        return None if raw is None else self._decode(raw)

    def create(self, name: str, value: _T) -> bool:
        """Write ``value`` only if no record has the name (False when one has)."""
        return self._store.replace_record(self.kind, name, None, self._encode(value))

    def read(self, name: str) -> tuple[bytes | None, _T | None]:
        """The record and the bytes it is stored as, for a later ``swap`` (None, None: absent)."""
        raw = self._store.get_record(self.kind, name)
        return raw, (None if raw is None else self._decode(raw))

    def swap(self, name: str, seen: bytes | None, value: _T) -> bytes | None:
        """Write ``value`` only if the record is still stored as ``seen`` (None: absent); the
        bytes now stored, or None when another writer came first. For a caller that keeps a
        record across steps (a rotation's lease); ``change`` is the one-step form."""
        new = self._encode(value)
        return new if self._store.replace_record(self.kind, name, seen, new) else None

    def put(self, name: str, value: _T) -> None:
        """Write ``value`` whatever is stored: for a record each write replaces whole (a
        policy's text), where the last writer wins by design."""
        self._store.put_record(self.kind, name, self._encode(value))

    def change(
        self,
        name: str,
        edit: Callable[[_T | None], _T],
        *,
        attempts: int = MAX_ATTEMPTS,
        gave_up: Callable[[], Exception] | None = None,
    ) -> _T:
        """Write ``edit(current)`` (current is None for a missing record) with compare-and-set,
        running ``edit`` again on a fresh read when another writer came first; the value
        written. An edit that returns what it was given unchanged writes nothing. After
        ``attempts`` refusals, ``gave_up()`` is raised (by default a Conflict)."""
        for _ in range(attempts):
            raw, current = self.read(name)
            edited = edit(current)
            new = self._encode(edited)
            if new == raw or self._store.replace_record(self.kind, name, raw, new):
                return edited
        if gave_up is not None:
            raise gave_up()
        # The name is left out: some are digests of credentials or identities.
        raise Conflict(f"a {self.kind} record changed under every attempt; try again")

    def delete(self, name: str) -> bool:
        return self._store.delete_record(self.kind, name)

    def names(self) -> list[str]:
        return self._store.list_records(self.kind)

    def items(self, prefix: str = "") -> Iterator[tuple[str, _T]]:
        """(name, value) of each record whose name starts with ``prefix``, in name order; one
        deleted while this runs is skipped."""
        for name in sorted(self.names()):
            if name.startswith(prefix):
                value = self.get(name)
                if value is not None:
                    yield name, value
