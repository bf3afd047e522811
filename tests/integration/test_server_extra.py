"""What ``pip install 'strongroom[server]'`` installs is enough to run the server: the README's
``scripts/start`` installs that extra alone, not the dev extras the tests run with, so a module
the server imports from a distribution outside it works here and fails on a fresh machine.
PyJWT was one: every JWT, OIDC and Kubernetes module imports it, and only the dev extras (the
Azure SDK) brought it.

The test starts a dev server that cannot import any installed distribution outside the core and
``server`` requirements of pyproject.toml (and theirs): a finder placed first refuses them as if
they were not installed, so an optional import falls back as it would on a fresh machine and a
required one fails. Then it uses the server through each surface, and the CLI, run the same
way on the ``cli`` extra alone."""

from __future__ import annotations

import importlib.metadata as metadata
import json
import os
import subprocess
import sys
import tomllib
from collections import deque
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.helpers import StrongroomServer

ROOT = Path(__file__).resolve().parents[2]

# Imported at the start of every process here (site's .pth files), before any finder of ours.
_SITE = {"_distutils_hack"}

_REFUSER = '''
import json, os, sys

_LIST = os.environ["REFUSED_MODULES"]
_REFUSED = frozenset(json.loads(open(_LIST).read()))


class _NotInstalled:
    """Distributions outside strongroom[server]: not there, as on a fresh machine."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in _REFUSED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NotInstalled())
open(_LIST + ".used", "a").write(f"{os.getpid()}\\n")  # the test knows the finder ran
'''


def _declared(extra: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = [*project["dependencies"], *project["optional-dependencies"][extra]]
    return [Requirement(text) for text in listed]


def _closure(requirements: list[Requirement]) -> set[str]:
    """The distributions these requirements install, with theirs, as installed here."""
    seen: set[tuple[str, frozenset[str]]] = set()
    names: set[str] = set()
    queue = deque((r, frozenset({""})) for r in requirements)
    while queue:
        requirement, extras = queue.popleft()
        marker = requirement.marker
        if marker is not None and not any(marker.evaluate({"extra": e}) for e in extras):
            continue
        name = canonicalize_name(requirement.name)
        wanted = frozenset({"", *requirement.extras})
        if (name, wanted) in seen:
            continue
        seen.add((name, wanted))
        names.add(name)
        try:
            theirs = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # not for this platform
        queue.extend((Requirement(text), wanted) for text in theirs)
    return names


def _refused(installs: set[str]) -> set[str]:
    """Top-level modules that only distributions outside ``installs`` provide."""
    owners = metadata.packages_distributions()
    return {
        module
        for module, dists in owners.items()
        if module not in sys.stdlib_module_names
        and module not in _SITE
        and module != "strongroom"
        and not any(canonicalize_name(d) in installs for d in dists)
    }


def test_the_closure_of_the_server_extra_is_read_from_pyproject() -> None:
    installs = _closure(_declared("server"))
    assert {"cryptography", "starlette", "uvicorn", "uvloop", "httptools", "pyjwt"} <= installs
    refused = _refused(installs)
    assert {"boto3", "psycopg", "pkcs11", "pytest"} <= refused  # other extras', the tests'
    assert not {"jwt", "uvicorn", "cryptography", "orjson"} & refused


def _only(extra: str, work: Path) -> dict[str, str]:
    """The environment of a process that can import only what ``extra`` installs."""
    work.mkdir()
    refused = work / "refused.json"
    refused.write_text(json.dumps(sorted(_refused(_closure(_declared(extra))))))
    (work / "sitecustomize.py").write_text(_REFUSER)
    # REFUSED_MODULES, not STRONGROOM_…: the server's helper drops those from its environment.
    return {"PYTHONPATH": str(work), "REFUSED_MODULES": str(refused)}


def test_the_server_runs_on_its_extra_and_the_cli_on_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as server_only:
        for name, value in _only("server", tmp_path / "server-only").items():
            server_only.setenv(name, value)
        server = StrongroomServer(tmp_path / "data").start()  # fails if an import does
    try:
        headers = {"X-Vault-Token": str(server.root_token)}
        base = f"{server.addr}/v1"
        written = httpx.post(
            f"{base}/secret/data/app/db", json={"data": {"pw": "s3"}}, headers=headers
        )
        assert written.status_code == 200, written.text
        assert httpx.get(f"{base}/secret/data/app/db", headers=headers).status_code == 200
        assert httpx.get(f"{base}/auth/token/lookup-self", headers=headers).status_code == 200
        native = {"Authorization": f"Bearer {server.root_token}"}
        assert httpx.get(f"{server.addr}/api/v1/secrets/secret/app/db", headers=native).is_success
        assert httpx.get(f"{server.addr}/metrics", headers=native).status_code == 200
        assert httpx.get(f"{server.addr}/ui/").status_code == 200

        cli = {
            **{k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")},
            **_only("cli", tmp_path / "cli-only"),
            "STRONGROOM_ADDR": server.addr,
            "STRONGROOM_TOKEN": str(server.root_token),
        }
        for command in (
            ["kv", "put", "secret/app/cli", "pw=s3"],
            ["-f", "json", "kv", "get", "secret/app/cli"],
            ["kv", "list", "secret/app"],
            ["token", "lookup"],
            ["namespace", "list"],
            ["policy", "list"],
            ["audit", "list"],
        ):
            ran = subprocess.run(
                [sys.executable, "-m", "strongroom", *command],
                env=cli,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert ran.returncode == 0, (command, ran.stderr)
            assert "no module named" not in ran.stderr.lower()
    finally:
        server.stop()
    assert "no module named" not in server.log_path.read_text().lower()
    # Each side ran its finder (a sitecustomize that failed would have been skipped quietly).
    assert (tmp_path / "server-only" / "refused.json.used").read_text().strip()
    assert (tmp_path / "cli-only" / "refused.json.used").read_text().strip()
