"""server/heap.py: once the server has started, start-up's objects are out of the cyclic
collector's sight and young collections are rarer, yet garbage cycles are still collected. Run
in a fresh interpreter: freezing this test process's heap would change every later test's."""

from __future__ import annotations

import json
import subprocess
import sys

_PROBE = """
import gc, json
import strongroom.server.app  # what a server has imported by the time it serves
from strongroom.server.heap import YOUNG_THRESHOLD, settle_heap

settle_heap()
frozen = gc.get_freeze_count()
threshold = gc.get_threshold()

class Node:
    pass

gc.disable()  # only the explicit collection below may find the cycle
cycle = Node()
cycle.me = cycle
del cycle
found = gc.collect()
print(json.dumps({"frozen": frozen, "threshold": threshold, "young": YOUNG_THRESHOLD,
                  "found": found}))
"""


def test_start_up_objects_are_frozen_and_cycles_still_collected() -> None:
    ran = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    seen = json.loads(ran.stdout)
    assert seen["frozen"] > 10_000  # modules, classes and functions of the whole server
    assert seen["threshold"][0] == seen["young"] == 50_000
    assert seen["found"] >= 1  # the cycle made after the freeze
