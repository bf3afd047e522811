"""Request ids: this process's random prefix and a counter, unique across processes and nodes,
in a UUID's shape, with no system call per request."""

from __future__ import annotations

import itertools
import os

__all__ = ["new_request_id"]

_ID_PREFIX = os.urandom(8).hex()
_ID_COUNTER = itertools.count(int.from_bytes(os.urandom(4), "big"))


def _new_id_prefix() -> None:  # a forked child must not repeat its parent's ids
    global _ID_PREFIX, _ID_COUNTER
    _ID_PREFIX = os.urandom(8).hex()
    _ID_COUNTER = itertools.count(int.from_bytes(os.urandom(4), "big"))


os.register_at_fork(after_in_child=_new_id_prefix)


def new_request_id() -> str:
    tail = f"{next(_ID_COUNTER) & 0xFFFFFFFFFFFFFFFF:016x}"
    prefix = _ID_PREFIX
    return f"{prefix[:8]}-{prefix[8:12]}-{prefix[12:16]}-{tail[:4]}-{tail[4:]}"
