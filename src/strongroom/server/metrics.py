"""Prometheus metrics (``GET /metrics`` and ``/api/v1/sys/metrics``), with prometheus-client.

- Requests: every request the front door answers, counted by surface, operation (the method and
  the route's path template, never the path asked for) and status, with a latency histogram.
  Counters are this node's since it started.
- Rotation and keys: read from the store at scrape time, so every node reports the same state.
  Labels carry secret paths, never values."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from strongroom.runtime import Runtime

__all__ = ["Metrics", "render_metrics"]

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class _RuntimeCollector(Collector):
    """Rotation and key gauges of the unsealed runtime, computed at each scrape."""

    def __init__(self, runtime: Callable[[], Runtime | None]) -> None:
        self._runtime = runtime

    def collect(self) -> Iterator[Metric]:
        runtime = self._runtime()
        if runtime is None:  # sealed: nothing to read the store with
            return
        rotation = runtime.rotation
        total = CounterMetricFamily(
            "strongroom_rotations",
            "Rotation runs that ended, by result (this node).",
            labels=["result"],
        )
        for result, count in sorted(rotation.counters.items()):
            total.add_metric([result], float(count))
        yield total
        since = GaugeMetricFamily(
            "strongroom_rotation_seconds_since_success",
            "Seconds since the secret last rotated successfully.",
            labels=["secret"],
        )
        failures = GaugeMetricFamily(
            "strongroom_rotation_consecutive_failures",
            "Rotation runs rolled back since the last success.",
            labels=["secret"],
        )
        running = GaugeMetricFamily(
            "strongroom_rotation_in_progress", "1 while a run is under way.", labels=["secret"]
        )
        now = rotation.clock.now()
        for item in rotation.configured():
            secret = [f"{item['namespace']}/{item['path']}"]
            if item["last_rotated"] is not None:
                since.add_metric(secret, now - float(item["last_rotated"]))
            failures.add_metric(secret, float(item["failures"]))
            running.add_metric(secret, 1.0 if item["in_progress"] else 0.0)
        yield from (since, failures, running)
        terms = GaugeMetricFamily(
            "strongroom_keyring_terms",
            "Key terms in each namespace's keyring.",
            labels=["namespace"],
        )
        in_use = GaugeMetricFamily(
            "strongroom_keyring_term_versions",
            "Stored secret versions sealed under each key term.",
            labels=["namespace", "term"],
        )
        for namespace in runtime.keyrings.namespaces():
            statuses = runtime.keyrings.status(namespace)
            terms.add_metric([namespace], float(len(statuses)))
            for term in statuses:
                in_use.add_metric([namespace, str(term.number)], float(term.versions_in_use))
        yield from (terms, in_use)


class Metrics:
    """One node's metrics: a registry of its own (no global state) with the request counters
    and the runtime collector."""

    def __init__(self, runtime: Callable[[], Runtime | None]) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self._requests = Counter(
            "strongroom_requests",
            "Requests answered, by surface, operation and status.",
            ["surface", "operation", "status"],
            registry=self.registry,
        )
        self._latency = Histogram(
            "strongroom_request_seconds",
            "Time to answer a request, by surface and operation.",
            ["surface", "operation"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_RuntimeCollector(runtime))
        # Labelled children, looked up once: .labels() takes a lock and builds a key each time.
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._lock = threading.Lock()

    def observe(self, surface: str, operation: str, status: int, seconds: float) -> None:
        key = (surface, operation, status)
        children = self._children.get(key)
        if children is None:
            with self._lock:
                children = (
                    self._requests.labels(surface, operation, str(status)),
                    self._latency.labels(surface, operation),
                )
                self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def render_metrics(runtime: Runtime) -> str:
    """The rotation and key metrics of ``runtime`` alone, in the text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_RuntimeCollector(lambda: runtime))
    return generate_latest(registry).decode()
