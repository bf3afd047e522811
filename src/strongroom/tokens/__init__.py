"""The token library: an application seals its users' tokens for its own database and opens
them only inside an authorized worker context (the S021 story). See docs/tokens.md."""

from strongroom.tokens.cache import CacheLimits, DataKeyCache
from strongroom.tokens.sources import KeySource, LocalKeySource, RemoteKeySource
from strongroom.tokens.vault import TokenVault
from strongroom.tokens.worker import TokenAccessDenied, WorkerContext, current_worker

__all__ = [
    "CacheLimits",
    "DataKeyCache",
    "KeySource",
    "LocalKeySource",
    "RemoteKeySource",
    "TokenAccessDenied",
    "TokenVault",
    "WorkerContext",
    "current_worker",
]
