"""One audited operation of this tree against an earlier commit's, side by side in one run: the
native secret read (``--operation read``, the default), the durable write (``write``), a Vault
Transit encrypt (``transit``), a userpass login (``login``) or an AWS GetSecretValue with its
SigV4 signature verified (``getsecretvalue``; re-signed for each side every round, as bench.aws
does).

    .venv/bin/python -m bench.versus --before 7bf25f4 [--rounds 5] [--operation write]

A login is a public route, charged to the client address's rate-limit budget: 200 users log in
in turn, each from its own X-Forwarded-For address through ``--trusted-proxy 127.0.0.1``, so the
limiter and the login guard run as for real clients without capping the rate at one address's
or one user's budget.

Needs wrk (Debian: apt-get install wrk) and git. Exports ``--before`` with ``git archive`` into
a temporary directory, starts one ``strongroom server --dev`` from each tree (the dev server
audits every request to DATA_DIR/audit.log), each pinned to CPU 0, and runs wrk pinned to CPU 1
against each in alternating rounds (ABBA order), so machine noise hits both sides. Reports the
median requests/s, latency and server CPU time per request (from /proc) of each side, the ratio
of the medians (after / before), the median of the per-round ratios and the ratio of CPU per
request.
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx

from bench import aws
from bench.http import TOKEN, free_port, medians, run_wrk, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
ROOT_HEADERS = {"Authorization": f"Bearer {TOKEN}", "X-Vault-Token": TOKEN}
SECRET = {"data": {"password": "bench-password-value", "user": "app"}}
LOGIN_PASSWORD = "bench-login-password-1"


@dataclass(frozen=True)
class Operation:
    path: str  # what wrk requests
    lua: str  # wrk's script: the method, headers and body of each request
    setup: tuple[tuple[str, str, dict[str, Any]], ...] = ()  # (method, path, JSON) first
    server_flags: list[str] = field(default_factory=list)
    max_connections: int = 1024
    prepare: Callable[[int], None] | None = None  # setup through a client, given the port
    script_for: Callable[[Path, int], Path] | None = None  # a script per side, made each round


def _lua(method: str, body: dict[str, Any] | None, headers: dict[str, str]) -> str:
    lines = [f'wrk.method = "{method}"']
    if body is not None:
        lines += [f"wrk.body = {json.dumps(json.dumps(body))}"]
        lines += ['wrk.headers["Content-Type"] = "application/json"']
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    return "\n".join(lines) + "\n"


# Logins of LOGIN_USERS users in turn, each user always from its own address (10.0.x.y), as
# many clients behind one proxy: no address and no user trips the limiter or the guard against
# one user tried from many addresses (auth/lockout.py).
LOGIN_USERS = 200
_LOGIN_LUA = (
    _lua("POST", {"password": LOGIN_PASSWORD}, {})
    + f"""
counter = 0
request = function()
  counter = counter + 1
  local user = counter % {LOGIN_USERS}
  local headers = {{}}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["X-Forwarded-For"] = string.format("10.0.%d.%d", math.floor(user / 256), user % 256)
  return wrk.format(nil, "/v1/auth/userpass/login/bench-" .. user, headers)
end
"""
)

_AUTH = {"Authorization": f"Bearer {TOKEN}"}
OPERATIONS = {
    "read": Operation(
        "/api/v1/secrets/secret/bench/db",
        _lua("GET", None, _AUTH),
        (("PUT", "/api/v1/secrets/secret/bench/db", SECRET),),
    ),
    # A new version of one secret per request: each is committed before its answer.
    "write": Operation(
        "/api/v1/secrets/secret/bench/db",
        _lua("PUT", SECRET, _AUTH),
        (("PUT", "/api/v1/secrets/secret/bench/db", SECRET),),
    ),
    "transit": Operation(
        "/v1/transit/encrypt/bench",
        _lua("POST", {"plaintext": "YmVuY2ggcGxhaW50ZXh0"}, {"X-Vault-Token": TOKEN}),
        (
            ("POST", "/v1/sys/mounts/transit", {"type": "transit"}),
            ("POST", "/v1/transit/keys/bench", {}),
        ),
    ),
    "login": Operation(
        "/v1/auth/userpass/login/bench-0",
        _LOGIN_LUA,
        (
            ("POST", "/v1/sys/auth/userpass", {"type": "userpass"}),
            *(
                (
                    "POST",
                    f"/v1/auth/userpass/users/bench-{user}",
                    {"password": LOGIN_PASSWORD, "policies": "default"},
                )
                for user in range(LOGIN_USERS)
            ),
        ),
        ["--trusted-proxy", "127.0.0.1/32"],
        # A server checks at most 10 passwords at once (auth/hash_queue.py), refusing more; the
        # checks of a run's last requests go on into the next run, so each uses 4 at most.
        max_connections=4,
    ),
}


def _aws_secret(port: int) -> None:
    client = boto3.client(
        "secretsmanager",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name=aws.REGION,
        aws_access_key_id=aws.KEY[0],
        aws_secret_access_key=aws.KEY[1],
    )
    client.create_secret(Name=aws.NAME, SecretString='{"password": "bench-password-value"}')
    client.close()


OPERATIONS["getsecretvalue"] = Operation(
    "/",
    "",
    server_flags=["--aws-access-key", ":".join(aws.KEY)],
    prepare=_aws_secret,
    script_for=aws.signed_script,
)


def export(rev: str, into: Path) -> Path:
    """The ``src`` tree of ``rev``, unpacked under ``into``."""
    archive = into / "before.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "archive", rev, "src"], cwd=ROOT, stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "before", filter="data")
    return into / "before" / "src"


def start(src: Path, data: Path, port: int, extra: list[str]) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    env["PYTHONPATH"] = str(src)  # ahead of the editable install of this tree
    command = [sys.executable, "-m", "strongroom", "server", "--dev", "--data-dir", str(data)]
    command += ["--port", str(port), "--root-token", TOKEN, *extra]
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
    parser.add_argument("--operation", choices=sorted(OPERATIONS), default="read")
    parser.add_argument("--write", action="store_true", help="the same as --operation write")
    args = parser.parse_args()
    operation = OPERATIONS["write" if args.write else args.operation]
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
    servers = {
        name: start(src, tmp / f"data-{name}", ports[name], operation.server_flags)
        for name, src in sides.items()
    }
    results: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
    try:
        for port in ports.values():
            wait_healthy(f"http://127.0.0.1:{port}/healthz")
            for method, path, doc in operation.setup:
                answer = httpx.request(
                    method, f"http://127.0.0.1:{port}{path}", json=doc, headers=ROOT_HEADERS
                )
                answer.raise_for_status()
            if operation.prepare is not None:
                operation.prepare(port)
        script = tmp / "request.lua"
        script.write_text(operation.lua)
        wrk_args = ["-s", str(script)]
        order = list(ports.items())
        for _ in range(args.rounds):
            order.reverse()  # ABBA: a drift in the machine's speed hits both sides alike
            for name, port in order:
                if operation.script_for is not None:
                    wrk_args = ["-s", str(operation.script_for(tmp / f"{name}.lua", port))]
                url = f"http://127.0.0.1:{port}{operation.path}"
                connections = min(args.connections, operation.max_connections)
                pids = [servers[name].pid]
                runs = run_wrk(url, args.duration, connections, wrk_args, "1", pids)
                results[name].append(runs)
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    summary = {name: medians(runs) for name, runs in results.items()}
    ratio = summary["after"]["rps"] / summary["before"]["rps"]
    paired = statistics.median(
        a["rps"] / b["rps"] for a, b in zip(results["after"], results["before"], strict=True)
    )
    print(f"| side | req/s (median of {args.rounds}) | p50 ms | p99 ms | CPU µs/request |")
    print("|---|---|---|---|---|")
    for name, row in summary.items():
        print(
            f"| {name} | {row['rps']:,.0f} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} "
            f"| {row['cpu_us']:.0f} |"
        )
    print(f"\nafter / before: {ratio:.2f}x (median of per-round ratios: {paired:.2f}x)")
    cpu = summary["after"]["cpu_us"] / summary["before"]["cpu_us"]
    print(f"CPU per request, after / before: {cpu:.2f}x")
    print(json.dumps({**summary, "ratio": ratio, "paired": paired, "rounds": results}))


if __name__ == "__main__":
    main()
