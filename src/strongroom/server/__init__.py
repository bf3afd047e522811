"""The ASGI server (needs ``pip install 'strongroom[server]'``)."""

from strongroom.server.app import create_app

__all__ = ["create_app"]
