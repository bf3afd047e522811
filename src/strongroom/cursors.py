"""Opaque page cursors for listings and searches.

A cursor holds the server's position in a scan, which may be a path the caller may not see; so it
is sealed (AEAD under the record key, bound to what is being listed) and shown only as an opaque
token. A caller can neither read a hidden path out of it nor forge one to start elsewhere."""

from __future__ import annotations

import base64
import binascii
from typing import Protocol

from strongroom.errors import BadRequest

__all__ = ["Cursors"]

_KIND = "page-cursor"


class _Sealer(Protocol):
    def seal_record(self, kind: str, name: str, value: bytes) -> bytes: ...

    def try_open(self, kind: str, name: str, value: bytes) -> bytes | None: ...


class Cursors:
    def __init__(self, sealer: _Sealer) -> None:
        self._sealer = sealer

    def make(self, scope: str, position: str) -> str:
        """A cursor for resuming the scan of ``scope`` after ``position`` ("" when done)."""
        if not position:
            return ""
        sealed = self._sealer.seal_record(_KIND, scope, position.encode("utf-8"))
        return base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def read(self, scope: str, cursor: str) -> str:
        """The position in a cursor this server made for ``scope``; "" for no cursor."""
        if not cursor:
            return ""
        invalid = BadRequest("invalid page cursor; pass the 'next' value of the previous page")
        try:
            sealed = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            raise invalid from None
        position = self._sealer.try_open(_KIND, scope, sealed)
        try:
            if position is None:
                raise invalid
            return position.decode("utf-8")
        except UnicodeDecodeError:
            raise invalid from None
