"""The ASGI server (needs ``pip install 'strongroom[server]'``).

``create_app`` is imported when first asked for, not with the package: a module that needs one
piece of it (``server.routes``, as the AWS wire modules do) must not import the whole app, which
imports that module back before it has finished."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from strongroom.server.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from strongroom.server.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
