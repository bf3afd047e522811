"""strongroom's AWS API against moto's server mode, side by side in one run: GetSecretValue,
each request's SigV4 signature verified (strongroom) and the request audited.

    .venv/bin/python -m bench.aws [--rounds 5] [--duration 5] [--connections 16]

Needs wrk and taskset (Debian: apt-get install wrk util-linux) and moto[server] (a dev
dependency). Each server is pinned to CPU 0 and wrk to CPU 1; the sides take turns in ABBA
rounds. wrk replays one request signed by botocore for each side (a SigV4 signature is valid for
5 minutes and carries no nonce, so replaying it is what a retrying client does; each round signs
anew). strongroom runs ``server --dev`` (SQLite, auditing every request to DATA_DIR/audit.log);
moto keeps its secrets in memory and checks no signature. Reports the median requests/s,
latency and CPU time per request of each side (the server's user and system time from /proc over
the run, divided by the requests wrk counted), the ratio of the req/s medians and how many times
less CPU a request costs strongroom.
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
from pathlib import Path

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from bench.http import TOKEN, free_port, medians, rss_mib, run_wrk, wait_healthy

KEY = ("benchkey", "bench-secret")
REGION = "us-east-1"
NAME = "bench/db"
BODY = json.dumps({"SecretId": NAME})


def start_strongroom(work: Path, port: int) -> subprocess.Popen[bytes]:
    work.parent.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    command = [sys.executable, "-m", "strongroom", "server", "--dev", "--data-dir", str(work)]
    command += ["--port", str(port), "--root-token", TOKEN, "--aws-access-key", ":".join(KEY)]
    process = subprocess.Popen(
        ["taskset", "-c", "0", *command], env=env, stdout=subprocess.DEVNULL, cwd=work.parent
    )
    wait_healthy(f"http://127.0.0.1:{port}/v1/sys/health")
    return process


def start_moto(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, "-m", "moto.server", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_healthy(f"http://127.0.0.1:{port}/moto-api/")
    return process


def signed_script(path: Path, port: int) -> Path:
    """A wrk script replaying one GetSecretValue request signed by botocore."""
    request = AWSRequest(
        method="POST",
        url=f"http://127.0.0.1:{port}/",
        data=BODY,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "secretsmanager.GetSecretValue",
        },
    )
    SigV4Auth(Credentials(*KEY), "secretsmanager", REGION).add_auth(request)
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(BODY)}"]
    for name, value in request.headers.items():
        lines.append(f'wrk.headers["{name}"] = {json.dumps(str(value))}')
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if shutil.which("wrk") is None or shutil.which("taskset") is None:
        sys.exit("needs wrk and taskset: apt-get install wrk util-linux")
    tmp = Path(tempfile.mkdtemp(prefix="strongroom-vs-moto-"))
    ports = {"moto": free_port(), "strongroom": free_port()}
    servers: list[subprocess.Popen[bytes]] = []
    results: dict[str, list[dict[str, float]]] = {side: [] for side in ports}
    try:
        servers.append(start_moto(ports["moto"]))
        servers.append(start_strongroom(tmp / "strongroom" / "data", ports["strongroom"]))
        pids = {side: [server.pid] for side, server in zip(ports, servers, strict=True)}
        for port in ports.values():
            client = boto3.client(
                "secretsmanager",
                endpoint_url=f"http://127.0.0.1:{port}",
                region_name=REGION,
                aws_access_key_id=KEY[0],
                aws_secret_access_key=KEY[1],
            )
            client.create_secret(Name=NAME, SecretString='{"password": "bench-password-value"}')
            client.close()
        order = list(ports)
        for _ in range(args.rounds):
            order.reverse()  # ABBA
            for side in order:
                script = signed_script(tmp / f"{side}.lua", ports[side])
                url = f"http://127.0.0.1:{ports[side]}/"
                extra = ["-s", str(script)]
                results[side].append(
                    run_wrk(url, args.duration, args.connections, extra, "1", pids[side])
                )
        rss = {side: rss_mib(server.pid) for side, server in zip(ports, servers, strict=True)}
        print("RSS after load (MiB): " + ", ".join(f"{s} {m:.0f}" for s, m in rss.items()))
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
    middle = {side: medians(runs) for side, runs in results.items()}
    print(f"| case | side | req/s (median of {args.rounds}) | p50 ms | p99 ms | CPU µs/request |")
    print("|---|---|---|---|---|---|")
    for side, row in middle.items():
        print(
            f"| GetSecretValue | {side} | {row['rps']:,.0f} | {row['p50_ms']:.2f} | "
            f"{row['p99_ms']:.2f} | {row['cpu_us']:.0f} |"
        )
    ratio = middle["strongroom"]["rps"] / middle["moto"]["rps"]
    paired = statistics.median(
        s["rps"] / m["rps"] for s, m in zip(results["strongroom"], results["moto"], strict=True)
    )
    cpu_ratio = middle["moto"]["cpu_us"] / middle["strongroom"]["cpu_us"]
    both = f"{ratio:.2f}x (per-round median {paired:.2f}x)"
    print(f"| GetSecretValue | strongroom / moto | {both} | | | {cpu_ratio:.2f}x less |")
    report = {"medians": middle, "ratio": ratio, "paired": paired, "cpu_ratio": cpu_ratio}
    print(json.dumps({**report, "rounds": results}))


if __name__ == "__main__":
    main()
