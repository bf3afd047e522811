"""The deployment files in deploy/ (issue 21, 5): the systemd unit passes systemd's own check
with its sandboxing, and the example configuration names only flags the server has."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from strongroom.cli.server import server
from strongroom.cli.server_config import flags_of

DEPLOY = Path(__file__).parents[2] / "deploy"


def test_the_systemd_unit_passes_systemd_analyze(tmp_path: Path) -> None:
    assert shutil.which("systemd-analyze"), "systemd-analyze ships with systemd"
    unit = (DEPLOY / "strongroom.service").read_text()
    for setting in ("NoNewPrivileges=true", "ProtectSystem=strict", "CapabilityBoundingSet="):
        assert setting in unit
    command = str(Path(sys.executable).parent / "strongroom")
    local = tmp_path / "strongroom.service"
    local.write_text(unit.replace("/opt/strongroom/.venv/bin/strongroom", command))
    done = subprocess.run(
        ["systemd-analyze", "verify", str(local)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr


def test_the_example_configuration_names_only_server_flags() -> None:
    doc = tomllib.loads((DEPLOY / "strongroom.toml").read_text())
    known = flags_of(server)
    assert doc and [key for key in doc if key not in known] == []
