"""The benchmarks' CPU time per request reads /proc: a process's own time, and its children's
whether they still run or have ended. Measured in a fresh process each: the test runner's own
children (database servers) would add theirs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.http import medians

ROOT = Path(__file__).resolve().parents[2]

MEASURE = """
import json, os, subprocess, sys, time
from bench.http import cpu_seconds

SPIN = "import time\\nend = time.process_time() + 0.3\\nwhile time.process_time() < end: pass\\n"
me = [os.getpid()]
figures = {}
before = cpu_seconds(me)
exec(SPIN)
figures["self"] = cpu_seconds(me) - before
before = cpu_seconds(me)
child = subprocess.Popen([sys.executable, "-c", SPIN + "time.sleep(30)"])
deadline = time.monotonic() + 20
while cpu_seconds(me) - before < 0.3 and time.monotonic() < deadline:
    time.sleep(0.05)
figures["running child"] = cpu_seconds(me) - before
child.kill()
child.wait()
before = cpu_seconds(me)
subprocess.run([sys.executable, "-c", SPIN], check=True)
figures["ended child"] = cpu_seconds(me) - before
print(json.dumps(figures))
"""


def test_cpu_time_counts_the_process_and_its_children_running_or_ended() -> None:
    out = subprocess.run(
        [sys.executable, "-c", MEASURE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    figures = json.loads(out.stdout)
    assert 0.25 <= figures["self"] <= 0.6
    assert 0.25 <= figures["running child"] <= 0.8  # its own /proc entry, while it runs
    assert 0.25 <= figures["ended child"] <= 1.0  # the parent's cutime once it was waited for


def test_medians_take_every_figure_of_the_rounds() -> None:
    runs = [{"rps": 3.0, "cpu_us": 10.0}, {"rps": 1.0, "cpu_us": 30.0}]
    runs.append({"rps": 2.0, "cpu_us": 20.0})
    assert medians(runs) == {"rps": 2.0, "cpu_us": 20.0}
