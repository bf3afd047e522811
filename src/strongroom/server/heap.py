"""The server's heap once it has started: what start-up built (modules, routes, the object graph
of a node) is set aside from the cyclic garbage collector, and young objects are collected less
often.

A request frees almost everything it allocates by reference counting; the collector only finds
cycles. With CPython's defaults a dev server ran a young collection every ~250 writes (0.9 ms
each, 3.9 µs per write) and, now and then, a full collection of the ~63,000 objects start-up
left: 15 ms during which no request moves (docs/benchmarks.md, session 24)."""

from __future__ import annotations

import gc

__all__ = ["YOUNG_THRESHOLD", "settle_heap"]

# Net allocations of tracked objects between young collections (CPython's default is 700).
# Garbage cycles wait at most this long; 50,000 small objects are a few MiB.
YOUNG_THRESHOLD = 50_000


def settle_heap() -> None:
    """Collect what start-up left, move the survivors out of the collector's sight for good
    (``gc.freeze``) and raise the young generation's threshold. Call once, just before serving."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
