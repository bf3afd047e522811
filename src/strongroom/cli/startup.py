"""What ``strongroom server`` makes sure of before it prints a banner: the port is free, no
other server uses the data directory, and a failure to start is one line and an exit code,
never a traceback (which could quote what it failed on)."""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from strongroom.cli.output import fail
from strongroom.errors import KeyProviderUnavailable, StrongroomError

__all__ = [
    "EXIT_IN_USE",
    "EXIT_START_FAILED",
    "LOCK_NAME",
    "hold_data_dir",
    "port_free",
    "started",
]

EXIT_IN_USE = 3  # the port or the data directory is another process's
EXIT_START_FAILED = 1
LOCK_NAME = "strongroom.lock"
_T = TypeVar("_T")


def port_free(host: str, port: int) -> None:
    """Exit at once when ``host:port`` cannot be bound (another process listens there)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(
                "port_in_use",
                f"cannot start: {host}:{port} is in use ({exc.strerror}); stop what listens "
                "there or pass --port",
                EXIT_IN_USE,
                as_json=False,
            )


def hold_data_dir(data_dir: Path) -> int:
    """Lock the data directory for this process's life (the lock goes when it exits, however it
    exits): two servers on one directory would break its audit chain. Returns the lock's fd."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "another process"
        os.close(fd)
        fail(
            "data_dir_in_use",
            f"cannot start: another strongroom server (pid {holder}) uses {data_dir}; one "
            "server per data directory: stop it, or give this one its own --data-dir",
            EXIT_IN_USE,
            as_json=False,
        )
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


def started(build: Callable[[], _T]) -> _T:
    """``build()``, or one clean line and an exit code if it fails."""
    try:
        return build()
    except KeyProviderUnavailable as exc:
        # Fail closed, and say what to fix: nothing is served without the root key.
        message = f"cannot start: {exc.message}; start the key provider and try again"
        fail(exc.code, message, exc.exit_code, as_json=False)
    except StrongroomError as exc:
        fail(exc.code, f"cannot start: {exc.message}", exc.exit_code or 1, as_json=False)
    except OSError as exc:
        fail("start_failed", f"cannot start: {exc}", EXIT_START_FAILED, as_json=False)
    except Exception as exc:  # the type only: a message could quote a database URL
        fail(
            "start_failed",
            f"cannot start: unexpected {type(exc).__name__}; see docs/operations.md",
            EXIT_START_FAILED,
            as_json=False,
        )
    raise AssertionError("unreachable")  # fail() exits
