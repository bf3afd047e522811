"""moto's own boto3 test suites, run in moto's server mode against a strongroom dev server: a
body of Secrets Manager and KMS scenarios written by others, as a compatibility measure.

    .venv/bin/python scripts/moto_suite.py --moto PATH [--suite test_secretsmanager ...]

PATH is a checkout of github.com/getmoto/moto (its ``tests/`` are not in the wheel) at a
release close to the installed moto; its tests also need ``freezegun``
(``pip install freezegun``). Each test's ``mock_aws`` sends boto3 to the server
(``TEST_SERVER_MODE``); moto's reset call becomes strongroom's dev reset. Tests that look into
moto's own backends skip themselves in server mode. Prints pytest's summary and, for each
failure, its first error line; the results and their causes are in docs/compat-aws.md."""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT_TOKEN = "moto-suite-root"  # noqa: S105  (a dev server of this run only)
# the account and key moto's tests use
ACCOUNT = "123456789012"
KEY = "FOOBARKEY:FOOBARSECRET"
_SHIM = '''"""moto's reset, as strongroom's dev reset (written by scripts/moto_suite.py)."""
import os

import httpx
import moto.core.models as models


def _reset(self):
    httpx.post(
        os.environ["TEST_SERVER_MODE_ENDPOINT"] + "/api/v1/sys/dev/reset",
        headers={"Authorization": "Bearer " + os.environ["STRONGROOM_RESET_TOKEN"]},
    ).raise_for_status()


models.ServerModeMockAWS.reset = _reset
'''


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--moto", type=Path, required=True, help="a checkout of getmoto/moto")
    parser.add_argument(
        "--suite",
        action="append",
        help="a directory of moto's tests/ (default: test_secretsmanager and test_kms)",
    )
    args = parser.parse_args()
    suites = args.suite or ["test_secretsmanager", "test_kms"]
    if not (args.moto / "tests" / "__init__.py").exists():
        sys.exit(f"{args.moto} is not a checkout of getmoto/moto (no tests/__init__.py)")
    if importlib.util.find_spec("freezegun") is None:
        sys.exit("moto's tests need freezegun: .venv/bin/pip install freezegun")
    work = Path(tempfile.mkdtemp(prefix="strongroom-moto-suite-"))
    shutil.copytree(args.moto / "tests", work / "tests")
    (work / "conftest.py").write_text(_SHIM)
    port = _free_port()
    addr = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "strongroom",
            "server",
            "--dev",
            "--data-dir",
            str(work / "data"),
            "--port",
            str(port),
            "--root-token",
            ROOT_TOKEN,
            "--aws-access-key",
            KEY,
            "--aws-account-id",
            ACCOUNT,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{addr}/v1/sys/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        run_env = {
            **os.environ,
            "TEST_SERVER_MODE": "true",
            "TEST_SERVER_MODE_ENDPOINT": addr,
            "STRONGROOM_RESET_TOKEN": ROOT_TOKEN,
        }
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf"]
        command += ["-W", "ignore", *(f"tests/{suite}" for suite in suites)]
        return subprocess.run(command, cwd=work, env=run_env, check=False).returncode
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
