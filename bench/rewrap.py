"""Rewrap a million versions after a keyring rotation while reads continue, on one server.

    .venv/bin/python -m bench.rewrap [--versions 1000000] [--rate 200] [--idle 10] [--batch 2000]

1. Bulk-loads the versions (bench.rewrap_load) into a fresh dev data directory.
2. Starts `strongroom server --dev` on it (one uvicorn process, audit on, SQLite).
3. Reads one secret at a fixed rate (--rate per second, one keep-alive connection) for --idle
   seconds: the idle latency.
4. Rotates the keyring, then rewraps every version through the API in --batch batches, as
   `strongroom keys rewrap` does, while the same reads go on: the loaded latency.

Reports the rewrap time and rate, and the read p50/p99 idle and during the rewrap, with ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.http import free_port, wait_healthy
from bench.rewrap_load import load

TOKEN = "bench-root-token"


class Reader(threading.Thread):
    """GETs at a fixed rate; each latency is recorded with the phase it fell in."""

    def __init__(self, url: str, rate: float) -> None:
        super().__init__(daemon=True)
        self.url, self.period = url, 1.0 / rate
        self.phase = "idle"
        self.latencies: dict[str, list[float]] = {"idle": [], "rewrap": [], "after": []}
        self.errors = 0
        self.stop = threading.Event()

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(headers=headers, timeout=30) as client:
            next_at = time.perf_counter()
            while not self.stop.is_set():
                started = time.perf_counter()
                response = client.get(self.url)
                elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    self.errors += 1
                self.latencies[self.phase].append(elapsed * 1000)
                next_at += self.period
                time.sleep(max(0.0, next_at - time.perf_counter()))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--versions", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="strongroom-rewrap-"))
    data = tmp / "data"
    print(f"loading {args.versions:,} versions …", file=sys.stderr)
    load_seconds = load(data, args.versions)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "strongroom",
            "server",
            "--dev",
            "--data-dir",
            str(data),
            "--port",
            str(port),
            "--root-token",
            TOKEN,
            "--scheduler-interval",
            "0",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(f"{base}/healthz")
        reader = Reader(f"{base}/api/v1/secrets/secret/load/0000042", args.rate)
        reader.start()
        time.sleep(args.idle)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=base, headers=headers, timeout=600) as admin:
            admin.post("/api/v1/namespaces/secret/keys/rotate").raise_for_status()
            reader.phase = "rewrap"
            started = time.perf_counter()
            rewrapped = 0
            while True:
                response = admin.post(
                    "/api/v1/namespaces/secret/keys/rewrap", json={"batch_size": args.batch}
                )
                response.raise_for_status()
                progress = response.json()
                rewrapped += progress["rewrapped"]
                if progress["done"]:
                    break
            seconds = time.perf_counter() - started
            reader.phase = "after"
            time.sleep(2)
            reader.stop.set()
            reader.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
    idle, during = reader.latencies["idle"], reader.latencies["rewrap"]
    summary = {
        "versions": args.versions,
        "load_seconds": round(load_seconds, 1),
        "rewrapped": rewrapped,
        "rewrap_seconds": round(seconds, 1),
        "rewrap_per_second": round(rewrapped / seconds),
        "read_rate": args.rate,
        "reads_idle": len(idle),
        "reads_during": len(during),
        "read_errors": reader.errors,
        "idle_p50_ms": round(statistics.median(idle), 2),
        "idle_p99_ms": round(_percentile(idle, 0.99), 2),
        "during_p50_ms": round(statistics.median(during), 2),
        "during_p99_ms": round(_percentile(during, 0.99), 2),
    }
    summary["p99_ratio"] = round(summary["during_p99_ms"] / summary["idle_p99_ms"], 2)
    print("| measure | value |")
    print("|---|---|")
    for key, value in summary.items():
        print(f"| {key} | {value} |")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
