"""Bulk-load N secret versions into a dev data directory, for bench.rewrap.

Each version is sealed by strongroom's own envelope code under the namespace's active term,
then inserted with one SQL transaction (the API would fsync each write: hours for a million).

    .venv/bin/python -m bench.rewrap_load DATA_DIR N
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path

from strongroom.config import ServerSettings
from strongroom.crypto.envelope import seal
from strongroom.server.node import Node
from strongroom.service.secret_core import version_context
from strongroom.store.sql import _SECRET_COLUMNS, _VERSION_COLUMNS

NAMESPACE = "secret"
BATCH = 20_000


def load(data_dir: Path, count: int) -> float:
    node = Node(ServerSettings(data_dir, dev=True, root_token="bench-root-token"))
    runtime = node.require_runtime()
    started = time.perf_counter()
    db = sqlite3.connect(data_dir / "strongroom.db")
    db.execute("PRAGMA synchronous=OFF")
    now = time.time()
    for first in range(0, count, BATCH):
        versions, secrets = [], []
        for i in range(first, min(count, first + BATCH)):
            path = f"load/{i:07d}"
            term = runtime.keyrings.term_for_encryption(NAMESPACE)
            plaintext = json.dumps({"password": f"value-{i}"}).encode()
            envelope = seal(plaintext, keys=term, context=version_context(NAMESPACE, path, 1))
            versions.append((NAMESPACE, path, 1, envelope, term.key_ref, now, None))
            secrets.append((NAMESPACE, path, 1, now, now, "{}"))
        with db:  # the column lists are constants of the store module, the values are bound
            db.executemany(
                f"INSERT INTO versions ({_VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                versions,
            )
            db.executemany(
                f"INSERT INTO secrets ({_SECRET_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",  # noqa: S608
                secrets,
            )
    db.close()
    node.close()
    return time.perf_counter() - started


if __name__ == "__main__":
    seconds = load(Path(sys.argv[1]), int(sys.argv[2]))
    print(f"loaded {sys.argv[2]} versions in {seconds:.1f} s")
