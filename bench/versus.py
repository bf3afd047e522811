"""The audited secret read (or, with ``--write``, the durable write) of this tree against an
earlier commit's, side by side in one run.

    .venv/bin/python -m bench.versus --before 7bf25f4 [--rounds 5] [--duration 5] [--write]

Needs wrk (Debian: apt-get install wrk) and git. Exports ``--before`` with ``git archive`` into
a temporary directory, starts one ``strongroom server --dev`` from each tree (the dev server
audits every request to DATA_DIR/audit.log), each pinned to CPU 0, and runs wrk pinned to CPU 1
against each in alternating rounds (ABBA order), so machine noise hits both sides. Reports the
median requests/s and latency of each side, the ratio of the medians (after / before) and the
median of the per-round ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import httpx

from bench.http import TOKEN, free_port, run_wrk, wait_healthy

ROOT = Path(__file__).resolve().parent.parent


def export(rev: str, into: Path) -> Path:
    """The ``src`` tree of ``rev``, unpacked under ``into``."""
    archive = into / "before.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "archive", rev, "src"], cwd=ROOT, stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "before", filter="data")
    return into / "before" / "src"


def start(src: Path, data: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    env["PYTHONPATH"] = str(src)  # ahead of the editable install of this tree
    command = [sys.executable, "-m", "strongroom", "server", "--dev", "--data-dir", str(data)]
    command += ["--port", str(port), "--root-token", TOKEN]
    return subprocess.Popen(
        ["taskset", "-c", "0", *command], env=env, stdout=subprocess.DEVNULL, cwd=data.parent
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--before", required=True, help="the git revision (or a src directory) to compare with"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--write", action="store_true", help="PUT a new version each request instead of a read"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None or shutil.which("taskset") is None:
        sys.exit("needs wrk and taskset: apt-get install wrk util-linux")
    tmp = Path(tempfile.mkdtemp(prefix="strongroom-versus-"))
    before = Path(args.before)
    # A directory is a tree to compare as it is (an experiment); anything else a git revision.
    sides = {
        "before": before if before.is_dir() else export(args.before, tmp),
        "after": ROOT / "src",
    }
    ports = {name: free_port() for name in sides}
    servers = {name: start(src, tmp / f"data-{name}", ports[name]) for name, src in sides.items()}
    results: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
    try:
        for port in ports.values():
            wait_healthy(f"http://127.0.0.1:{port}/healthz")
            httpx.put(
                f"http://127.0.0.1:{port}/api/v1/secrets/secret/bench/db",
                json={"data": {"password": "bench-password-value", "user": "app"}},
                headers={"Authorization": f"Bearer {TOKEN}"},
            ).raise_for_status()
        header = ["-H", f"Authorization: Bearer {TOKEN}"]
        if args.write:
            # A new version of one secret per request: each is committed before its answer.
            script = tmp / "put.lua"
            body = json.dumps({"data": {"password": "bench-password-value", "user": "app"}})
            script.write_text(
                'wrk.method = "PUT"\n'
                f"wrk.body = {json.dumps(body)}\n"
                'wrk.headers["Content-Type"] = "application/json"\n'
            )
            header += ["-s", str(script)]
        order = list(ports.items())
        for _ in range(args.rounds):
            order.reverse()  # ABBA: a drift in the machine's speed hits both sides alike
            for name, port in order:
                url = f"http://127.0.0.1:{port}/api/v1/secrets/secret/bench/db"
                results[name].append(run_wrk(url, args.duration, args.connections, header, pin="1"))
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    summary = {
        name: {
            "rps": statistics.median(r["rps"] for r in runs),
            "p50_ms": statistics.median(r["p50_ms"] for r in runs),
            "p99_ms": statistics.median(r["p99_ms"] for r in runs),
        }
        for name, runs in results.items()
    }
    ratio = summary["after"]["rps"] / summary["before"]["rps"]
    paired = statistics.median(
        a["rps"] / b["rps"] for a, b in zip(results["after"], results["before"], strict=True)
    )
    print(f"| side | req/s (median of {args.rounds}) | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    for name, row in summary.items():
        print(f"| {name} | {row['rps']:,.0f} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} |")
    print(f"\nafter / before: {ratio:.2f}x (median of per-round ratios: {paired:.2f}x)")
    print(json.dumps({**summary, "ratio": ratio, "paired": paired, "rounds": results}))


if __name__ == "__main__":
    main()
