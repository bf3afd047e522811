"""Where a backend gets the typed ``Records`` of each kind it keeps (store/records.py), without
holding the store: the compatibility backends reach records only through this."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from strongroom.store.protocol import Store
from strongroom.store.records import Records

__all__ = ["Repository"]

_T = TypeVar("_T")


class Repository:
    """Where a backend gets the ``Records`` of each kind it keeps, without holding the store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def of(
        self, kind: str, decode: Callable[[bytes], _T], encode: Callable[[_T], bytes]
    ) -> Records[_T]:
        return Records(self._store, kind, decode, encode)
