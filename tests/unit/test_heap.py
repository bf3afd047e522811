"""server/heap.py: once the server has started, start-up's objects are out of the cyclic
collector's sight and young collections are rarer, yet garbage cycles are still collected, and a
seal lets go of the runtime start-up froze (its keyrings and caches). Each case runs in a fresh
interpreter: freezing this test process's heap would change every later test's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

_SETTLED = """
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

_SEALED = """
import gc, json, sys, weakref
from pathlib import Path
from strongroom.config import ServerSettings
from strongroom.server.app import create_app
from strongroom.server.heap import settle_heap

data = Path(sys.argv[1])
front = create_app(ServerSettings(data / "data", dev=True, root_token="heap-root",
                                  audit_file=data / "audit.log"))
runtime = weakref.ref(front.node.runtime)  # auto-unsealed: built before the freeze
settle_heap()
front.node.seal()
print(json.dumps({"runtime_alive": runtime() is not None,
                  "frozen_after_seal": gc.get_freeze_count()}))
front.node.close()
"""


def _probe(source: str, *args: str) -> dict[str, Any]:
    ran = subprocess.run(
        [sys.executable, "-c", source, *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    found: dict[str, Any] = json.loads(ran.stdout)
    return found


def test_start_up_objects_are_frozen_and_cycles_still_collected() -> None:
    seen = _probe(_SETTLED)
    assert seen["frozen"] > 10_000  # modules, classes and functions of the whole server
    assert seen["threshold"][0] == seen["young"] == 50_000
    assert seen["found"] >= 1  # the cycle made after the freeze


def test_a_seal_lets_go_of_the_runtime_start_up_froze(tmp_path: Path) -> None:
    seen = _probe(_SEALED, str(tmp_path))
    # Without settle_again the frozen runtime (keyrings, opened values) stays for good.
    assert seen["runtime_alive"] is False
    assert seen["frozen_after_seal"] > 10_000  # what is left is frozen again
