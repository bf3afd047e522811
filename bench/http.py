"""HTTP secret read and write against a bare ASGI hello world, same uvicorn, same run.

    .venv/bin/python -m bench.http [--rounds 3] [--duration 5] [--connections 16]

Needs wrk (Debian: apt-get install wrk). Starts both servers on 127.0.0.1 (one uvicorn process
each, the same uvicorn with httptools and uvloop), runs wrk against each in alternating rounds,
and reports median requests/s, latency and the ratio to hello world.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

TOKEN = "bench-root-token"
WRITE_LUA = """
wrk.method = "PUT"
wrk.body = '{"data": {"password": "bench-password-value", "user": "app"}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer TOKEN"
request = function()
  return wrk.format(nil, "/api/v1/secrets/secret/bench/w" .. math.random(1, 1000))
end
""".replace("TOKEN", TOKEN)


def rss_mib(pid: int) -> float:
    """A process's resident memory now, in MiB (Linux), with its children's (moto's workers)."""
    total = 0
    for each in [pid, *_children(pid)]:
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        listed = task / "children"
        if listed.exists():
            for child in listed.read_text().split():
                found += [int(child), *_children(int(child))]
    return found


def cpu_seconds(pids: Sequence[int]) -> float:
    """CPU time (user + system) the processes have used so far, with their children's, live or
    reaped (Linux)."""
    total = 0
    for pid in pids:
        for each in [pid, *_children(pid)]:
            try:
                stat = Path(f"/proc/{each}/stat").read_text()
            except FileNotFoundError:  # a child that ended meanwhile: its parent's cutime
                continue
            # the fields after the command name, which may hold spaces and parentheses
            fields = stat.rpartition(")")[2].split()
            total += sum(int(n) for n in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def medians(runs: Sequence[dict[str, float]]) -> dict[str, float]:
    """The median of each figure over a side's rounds."""
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_healthy(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def run_wrk(
    url: str,
    duration: int,
    connections: int,
    extra: list[str],
    pin: str = "",
    server: Sequence[int] = (),
) -> dict[str, float]:
    """One wrk run; ``pin`` names a CPU for wrk (taskset), apart from the server's. With
    ``server`` (its process ids), also the CPU time the server spent per request, in µs."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", *extra, url]
    cpu_before = cpu_seconds(server)
    out = subprocess.run(
        ["taskset", "-c", pin, *command] if pin else command,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu = cpu_seconds(server) - cpu_before
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise RuntimeError(f"{url}: {non2xx.group(1)} error responses")

    def ms(label: str) -> float:
        match = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out)
        assert match, out
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    figures = {"rps": rps, "p50_ms": ms("50%"), "p99_ms": ms("99%")}
    if server:
        figures["cpu_us"] = cpu * 1e6 / max(requests, 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="strongroom-bench-"))
    hello_port, sr_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    hello = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.hello_app:app",
            "--port",
            str(hello_port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
    )
    strongroom = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "strongroom",
            "server",
            "--dev",
            "--data-dir",
            str(tmp / "data"),
            "--port",
            str(sr_port),
            "--root-token",
            TOKEN,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    lua = tmp / "write.lua"
    lua.write_text(WRITE_LUA)
    try:
        wait_healthy(f"http://127.0.0.1:{hello_port}/")
        wait_healthy(f"http://127.0.0.1:{sr_port}/healthz")
        headers = {"Authorization": f"Bearer {TOKEN}"}
        base = f"http://127.0.0.1:{sr_port}/api/v1/secrets/secret/bench"
        httpx.put(
            f"{base}/db",
            json={"data": {"password": "bench-password-value", "user": "app"}},
            headers=headers,
        ).raise_for_status()
        cases = {
            "hello world (bare ASGI)": (f"http://127.0.0.1:{hello_port}/", []),
            "secret read (GET)": (f"{base}/db", ["-H", f"Authorization: Bearer {TOKEN}"]),
            "secret write (PUT, fsync)": (f"{base}/w1", ["-s", str(lua)]),
        }
        results: dict[str, list[dict[str, float]]] = {name: [] for name in cases}
        for _ in range(args.rounds):
            for name, (url, extra) in cases.items():
                results[name].append(run_wrk(url, args.duration, args.connections, extra))
    finally:
        for proc in (hello, strongroom):
            proc.terminate()
            proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    hello_rps = statistics.median(r["rps"] for r in results["hello world (bare ASGI)"])
    summary = {}
    print(f"| case | req/s (median of {args.rounds}) | p50 ms | p99 ms | ratio to hello world |")
    print("|---|---|---|---|---|")
    for name, runs in results.items():
        rps = statistics.median(r["rps"] for r in runs)
        p50 = statistics.median(r["p50_ms"] for r in runs)
        p99 = statistics.median(r["p99_ms"] for r in runs)
        summary[name] = {"rps": rps, "p50_ms": p50, "p99_ms": p99, "ratio": rps / hello_rps}
        print(f"| {name} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {rps / hello_rps:.2f}x |")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
