"""``strongroom server`` settles its heap (server/heap.py) before it serves: seen from inside a
real dev server's process, through a ``sitecustomize`` that reports the collector's state once
something has been frozen."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers import StrongroomServer

_REPORTER = """
import gc, json, os, threading, time

def _report():
    while not gc.get_freeze_count():
        time.sleep(0.02)
    with open(os.environ["HEAP_REPORT"], "w") as out:
        json.dump({"frozen": gc.get_freeze_count(), "threshold": gc.get_threshold()}, out)

threading.Thread(target=_report, daemon=True).start()
"""


def test_the_server_freezes_start_up_objects_and_raises_the_young_threshold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(_REPORTER)
    report = tmp_path / "heap.json"
    monkeypatch.setenv("PYTHONPATH", str(site))
    monkeypatch.setenv("HEAP_REPORT", str(report))
    server = StrongroomServer(tmp_path / "data").start()
    try:
        deadline = time.monotonic() + 10
        while not report.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        seen = json.loads(report.read_text())
        assert seen["frozen"] > 10_000
        assert seen["threshold"][0] == 50_000
        # and it serves, audited, as before
        headers = {"X-Vault-Token": str(server.root_token)}
        written = httpx.post(
            f"{server.addr}/v1/secret/data/heap", json={"data": {"k": "v"}}, headers=headers
        )
        assert written.status_code == 200
    finally:
        server.stop()
