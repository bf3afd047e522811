"""The ``strongroom`` command's entry point: the CLI lives in the ``cli`` extra, so a core-only
install says which extra to install instead of failing on a missing module."""

from __future__ import annotations

import sys

__all__ = [
    "EXIT_MISSING_EXTRA",
    "main",
]

EXIT_MISSING_EXTRA = 1


def main() -> None:
    try:
        import click  # noqa: F401
        import httpx  # noqa: F401
    except ImportError as exc:
        sys.stderr.write(
            f"Error: the strongroom command needs the CLI ({exc.name} is not installed): "
            "pip install 'strongroom[cli]' (or 'strongroom[server]' to run a server)\n"
        )
        sys.exit(EXIT_MISSING_EXTRA)
    from strongroom.cli.main import main as cli_main

    cli_main()
