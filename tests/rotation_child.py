"""A process that rotates secret/db with a slow rotator, to be killed at random points by
tests/integration/test_rotation_kill.py. Prints "ready" once set up and "done" on success."""

from __future__ import annotations

import os
import random
import secrets
import sys
import time
from pathlib import Path

from strongroom.config import ServerSettings
from strongroom.rotation import CallableRotator, RotationContext
from strongroom.server.node import Node


def _pause() -> None:
    time.sleep(random.uniform(0.01, 0.06))  # long enough that most kills land inside a run


def main() -> None:
    data_dir, tested_log = Path(sys.argv[1]), Path(sys.argv[2])
    node = Node(ServerSettings(data_dir, dev=True, root_token="t", rotation_lease=0.3))
    runtime = node.require_runtime()

    def create(ctx: RotationContext) -> dict[str, str]:
        _pause()
        return {"password": f"v-{secrets.token_hex(6)}"}

    def test(ctx: RotationContext) -> None:
        _pause()
        assert ctx.pending is not None
        # Record the value as tested before the step returns: promotion comes after this.
        fd = os.open(tested_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.write(fd, ctx.pending["password"].encode() + b"\n")
        os.fsync(fd)
        os.close(fd)
        _pause()

    runtime.rotators.register(
        CallableRotator(
            "killable",
            create,
            set=lambda ctx: _pause(),
            test=test,
            finish=lambda ctx: _pause(),
        )
    )
    print("ready", flush=True)
    while runtime.rotation.run("secret/db", force=True).result != "success":
        time.sleep(0.05)
    print("done", flush=True)
    node.close()


if __name__ == "__main__":
    main()
