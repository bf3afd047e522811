"""Prometheus text exposition of rotation and key metrics (``GET /api/v1/sys/metrics``).

Counters are this node's since it started; gauges are read from the store at scrape time, so
every node reports the same state. Labels carry secret paths, never values."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from strongroom.runtime import Runtime

__all__ = ["render_metrics"]


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render_metrics(runtime: Runtime) -> str:
    lines: list[str] = []

    def metric(name: str, kind: str, text: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP {name} {text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(f"{name}{labels} {value:g}" for labels, value in samples)

    rotation = runtime.rotation
    metric(
        "strongroom_rotations_total",
        "counter",
        "Rotation runs that ended, by result (this node).",
        [(f'{{result="{r}"}}', float(n)) for r, n in sorted(rotation.counters.items())],
    )
    now = runtime.rotation.clock.now()
    since, failures, running = [], [], []
    for item in rotation.configured():
        secret = f'{{secret="{_label(item["namespace"] + "/" + item["path"])}"}}'
        if item["last_rotated"] is not None:
            since.append((secret, now - float(item["last_rotated"])))
        failures.append((secret, float(item["failures"])))
        running.append((secret, 1.0 if item["in_progress"] else 0.0))
    metric(
        "strongroom_rotation_seconds_since_success",
        "gauge",
        "Seconds since the secret last rotated successfully.",
        since,
    )
    metric(
        "strongroom_rotation_consecutive_failures",
        "gauge",
        "Rotation runs rolled back since the last success.",
        failures,
    )
    metric("strongroom_rotation_in_progress", "gauge", "1 while a run is under way.", running)
    terms, in_use = [], []
    for namespace in runtime.keyrings.namespaces():
        statuses = runtime.keyrings.status(namespace)
        terms.append((f'{{namespace="{_label(namespace)}"}}', float(len(statuses))))
        for term in statuses:
            labels = f'{{namespace="{_label(namespace)}",term="{term.number}"}}'
            in_use.append((labels, float(term.versions_in_use)))
    metric("strongroom_keyring_terms", "gauge", "Key terms in each namespace's keyring.", terms)
    metric(
        "strongroom_keyring_term_versions",
        "gauge",
        "Stored secret versions sealed under each key term.",
        in_use,
    )
    return "\n".join(lines) + "\n"
