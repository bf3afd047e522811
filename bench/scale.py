"""Read throughput with 100 k secrets against 1 M: the same audited Vault read of a random
secret, side by side in one run (issue 22's "throughput at 1 M secrets ≥ 0.95x of 100 k").

    .venv/bin/python -m bench.scale [--sizes 100000 1000000] [--rounds 3] [--duration 5]

Each size gets its own data directory, filled by the server's own secret service (every value
sealed as a write through the API seals it, many writers sharing commits), then its own
``server --dev`` pinned to CPU 0, read by ``wrk -t1 -c16`` on CPU 1 at a random one of its
secrets per request. The sizes take turns in ABBA rounds. Reports req/s, p50, p99 and the
server's CPU time per read (from /proc) per size, the ratio of the medians and of the rounds, the
ratio of CPU per read, each database's size and each server's RSS after load. Each size's
database files are read through first (the page cache holds them, as on a server that has run a
while), then each size gets one round that is not counted (the servers' own caches warm up).
Filling 1 M secrets takes about eight minutes; ``--work DIR`` keeps the filled directories for
the next run.
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
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.http import TOKEN, free_port, medians, rss_mib, run_wrk, wait_healthy

_WRITERS = 16
_CHUNK = 1000


def _fill(data: Path, size: int) -> None:
    """``size`` secrets at ``secret/scale/NNNNNNN`` through the secret service, in process."""
    from strongroom.auth import Identity
    from strongroom.config import ServerSettings
    from strongroom.server.app import create_app

    filler = Identity.system("bench-filler")  # the operator filling a store for the run

    settings = ServerSettings(data, dev=True, root_token=TOKEN, exclusive_store=True)
    app = create_app(settings)
    services = app.node.services
    assert services is not None, "the dev server unseals itself"
    secrets = services.secrets

    def chunk(start: int) -> None:
        for number in range(start, min(start + _CHUNK, size)):
            value = {"password": f"scale-password-{number:07d}", "user": "app"}
            secrets.put(filler, "secret", f"scale/{number:07d}", value)

    started = time.monotonic()
    with ThreadPoolExecutor(_WRITERS) as pool:
        for done, _ in enumerate(pool.map(chunk, range(0, size, _CHUNK)), start=1):
            if done % 50 == 0:
                rate = done * _CHUNK / (time.monotonic() - started)
                print(f"  {done * _CHUNK:,} of {size:,} ({rate:,.0f}/s)", file=sys.stderr)
    app.node.close()


def _read_through(data: Path) -> None:
    """Read the database files once, so the operating system's page cache holds them: a
    freshly filled 1 M store may not be (its first rounds measured the disk, 0.74x)."""
    for path in sorted(data.glob("strongroom.db*")):
        with path.open("rb") as handle:
            while handle.read(1 << 20):
                pass


def _script(path: Path, size: int) -> Path:
    path.write_text(
        f'wrk.headers["X-Vault-Token"] = "{TOKEN}"\n'
        "request = function()\n"
        f'  return wrk.format(nil, string.format("/v1/secret/data/scale/%07d", '
        f"math.random(0, {size - 1})))\n"
        "end\n"
    )
    return path


def _start(data: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    command = [sys.executable, "-m", "strongroom", "server", "--dev", "--data-dir", str(data)]
    command += ["--port", str(port), "--root-token", TOKEN]
    server = subprocess.Popen(
        ["taskset", "-c", "0", *command], env=env, stdout=subprocess.DEVNULL, cwd=data.parent
    )
    wait_healthy(f"http://127.0.0.1:{port}/v1/sys/health")
    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs=2, default=[100_000, 1_000_000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument(
        "--work", type=Path, help="keep the filled data directories here and reuse them"
    )
    parser.add_argument("--fill", nargs=2, help=argparse.SUPPRESS)  # DATA SIZE, in a child
    args = parser.parse_args()
    if args.fill:
        _fill(Path(args.fill[0]), int(args.fill[1]))
        return
    if shutil.which("wrk") is None or shutil.which("taskset") is None:
        sys.exit("needs wrk and taskset: apt-get install wrk util-linux")
    tmp = args.work or Path(tempfile.mkdtemp(prefix="strongroom-scale-"))
    servers: dict[int, subprocess.Popen[bytes]] = {}
    results: dict[int, list[dict[str, float]]] = {size: [] for size in args.sizes}
    try:
        ports = {}
        for size in args.sizes:
            data = tmp / str(size) / "data"
            if not (tmp / str(size) / "filled").exists():
                shutil.rmtree(data.parent, ignore_errors=True)
                data.parent.mkdir(parents=True)
                print(f"filling {size:,} secrets", file=sys.stderr)
                fill = [sys.executable, "-m", "bench.scale", "--fill", str(data), str(size)]
                subprocess.run(fill, check=True)
                (tmp / str(size) / "filled").touch()
            ports[size] = free_port()
            servers[size] = _start(data, ports[size])
        scripts = {size: _script(tmp / f"{size}.lua", size) for size in args.sizes}
        for size in args.sizes:  # as on a server that has run a while: its file is in memory
            _read_through(tmp / str(size) / "data")
        for size in args.sizes:  # one round each first, not counted: the servers' caches warm
            extra = ["-s", str(scripts[size])]
            run_wrk(f"http://127.0.0.1:{ports[size]}/", args.duration, 16, extra, pin="1")
        order = list(args.sizes)
        for _ in range(args.rounds):
            order.reverse()  # ABBA
            for size in order:
                url = f"http://127.0.0.1:{ports[size]}/"
                extra = ["-s", str(scripts[size])]
                pids = [servers[size].pid]
                results[size].append(run_wrk(url, args.duration, 16, extra, "1", pids))
        rss = {size: rss_mib(server.pid) for size, server in servers.items()}
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(timeout=30)
    sizes_on_disk = {
        size: sum(
            f.stat().st_size
            for f in (tmp / str(size)).rglob("*")
            if f.is_file() and "audit" not in f.name  # the store, not the runs' audit logs
        )
        for size in args.sizes
    }
    if args.work is None:
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        "| secrets | req/s (median) | p50 ms | p99 ms | CPU µs/read | store MiB "
        "| RSS after load MiB |"
    )
    print("|---|---|---|---|---|---|---|")
    middle = {size: medians(runs) for size, runs in results.items()}
    for size, row in middle.items():
        print(
            f"| {size:,} | {row['rps']:,.0f} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | "
            f"{row['cpu_us']:.0f} | {sizes_on_disk[size] / 2**20:,.0f} | {rss[size]:.0f} |"
        )
    small, large = args.sizes
    ratio = middle[large]["rps"] / middle[small]["rps"]
    paired = statistics.median(
        b["rps"] / a["rps"] for a, b in zip(results[small], results[large], strict=True)
    )
    cpu = middle[small]["cpu_us"] / middle[large]["cpu_us"]
    print(f"{large:,} / {small:,}: {ratio:.2f}x (per-round median {paired:.2f}x)")
    print(f"CPU per read, {small:,} / {large:,}: {cpu:.2f}x")
    report = {"medians": middle, "ratio": ratio, "paired": paired, "cpu_ratio": cpu}
    print(json.dumps({**report, "rounds": results, "rss": rss}))


if __name__ == "__main__":
    main()
