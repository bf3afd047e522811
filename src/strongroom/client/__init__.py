"""The Python SDK: a typed client of the native API. Needs only httpx (``strongroom[client]``)."""

from strongroom.client.client import Client

__all__ = ["Client"]
