"""The server's heap once it has started: what start-up built (modules, routes, the object graph
of a node) is set aside from the cyclic garbage collector, and young objects are collected less
often.

A request frees almost everything it allocates by reference counting; the collector only finds
cycles. With CPython's defaults a dev server under writes spent 8 µs per write in the collector:
a young collection every ~150 writes and, every few seconds, a full collection of the ~63,000
objects start-up left, during which no request moves for 15-30 ms (docs/benchmarks.md, session
24).

Frozen objects are never collected. A seal lets go of the unsealed runtime (keyrings, caches of
opened values), which start-up may have built and frozen: so a seal thaws the heap, collects,
and freezes again what is left (``settle_again``)."""

from __future__ import annotations

import gc

__all__ = ["YOUNG_THRESHOLD", "settle_again", "settle_heap"]

# Net allocations of tracked objects between young collections (CPython's default is 700).
# Garbage cycles wait at most this long; 50,000 small objects are a few MiB.
YOUNG_THRESHOLD = 50_000

_settled = False  # only a process that settled its heap (the server command) settles it again


def settle_heap() -> None:
    """Collect what start-up left, move the survivors out of the collector's sight
    (``gc.freeze``) and raise the young generation's threshold. Called once, just before
    serving."""
    global _settled
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    _settled = True


def settle_again() -> None:
    """After a seal: what was frozen and is now garbage (the runtime the seal dropped) is
    collected, and the rest frozen again. Does nothing in a process that never settled its heap
    (tests, a program embedding the app)."""
    if not _settled:
        return
    gc.unfreeze()
    settle_heap()
