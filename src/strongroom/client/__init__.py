"""The Python SDK: a typed client of the native API. Needs only httpx (``strongroom[client]``)."""

from strongroom.client.base import InsecureTransportWarning
from strongroom.client.client import Client
from strongroom.client.watch import SecretWatcher

__all__ = ["Client", "InsecureTransportWarning", "SecretWatcher"]
