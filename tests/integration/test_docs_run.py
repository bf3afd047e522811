"""Every shell block of README.md and docs/ marked runnable (```` ```sh runnable ````) runs as
written, in order, on a fresh dev server started as scripts/start starts it, with only what the
README tells a reader to set: STRONGROOM_ADDR and STRONGROOM_TOKEN from the banner, and the
virtualenv's bin on PATH (issue 20, 23 and 31). Each file's blocks run in one shell, so a block
may use what an earlier one set."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import StrongroomServer

ROOT_DIR = Path(__file__).parents[2]
_BLOCK = re.compile(r"^```sh runnable\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_VENV_BIN = Path(sys.executable).parent


def _documents() -> list[Path]:
    candidates = [ROOT_DIR / "README.md", *sorted((ROOT_DIR / "docs").glob("*.md"))]
    return [path for path in candidates if _BLOCK.search(path.read_text())]


def blocks(path: Path) -> list[str]:
    return [match.group(1) for match in _BLOCK.finditer(path.read_text())]


def test_the_readme_and_the_docs_have_runnable_blocks() -> None:
    names = [path.name for path in _documents()]
    assert "README.md" in names and len(names) >= 3, names


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[StrongroomServer]:
    """A dev server as scripts/start runs it: no flag but the data directory and port."""
    server = StrongroomServer(tmp_path / "data", root_token=None).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("document", _documents(), ids=lambda path: path.name)
def test_runnable_blocks_run_as_written(
    document: Path, fresh: StrongroomServer, tmp_path: Path
) -> None:
    work = tmp_path / "reader"
    work.mkdir()
    script = ["set -euo pipefail"]
    for number, block in enumerate(blocks(document), start=1):
        script += [f"echo '== block {number}' >&2", block]
    env = {
        "PATH": f"{_VENV_BIN}:{os.environ['PATH']}",
        "HOME": str(work),
        "XDG_CONFIG_HOME": str(work / ".config"),
        "STRONGROOM_ADDR": fresh.addr,
        "STRONGROOM_TOKEN": str(fresh.root_token),
        "STRONGROOM_REPO": str(ROOT_DIR),
        "LANG": "C.UTF-8",
    }
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    tail = (done.stdout + done.stderr)[-4000:]
    assert done.returncode == 0, f"{document.name}:\n{tail}"


_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
_MODULE = re.compile(r"`((?:[a-z_]+/)+[a-z_]+\.py)(?:::[A-Za-z_]+)?`")
_MODULE_HOMES = ("src/strongroom", "src", "tests", "", "tests/integration", "tests/unit")


@pytest.mark.parametrize(
    "document",
    [ROOT_DIR / "README.md", *sorted((ROOT_DIR / "docs").glob("*.md"))],
    ids=lambda path: path.name,
)
def test_what_the_docs_name_exists(document: Path) -> None:
    """Every file a document links to, and every module it names (`auth/lockout.py`), exists:
    a doc that names a module that moved or never was misleads its reader (issue 20, 31)."""
    text = document.read_text()
    missing = []
    for target in _LINK.findall(text):
        if "://" in target or target.startswith("mailto:"):
            continue
        if not (document.parent / target).exists():
            missing.append(target)
    for module in _MODULE.findall(text):
        if not any((ROOT_DIR / home / module).exists() for home in _MODULE_HOMES):
            missing.append(module)
    assert "design.md" not in text, "the design is not in this repository: cite docs/"
    assert missing == [], missing
