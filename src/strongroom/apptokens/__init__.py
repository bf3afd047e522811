"""The token library: an application seals its users' tokens for its own database and opens
them only inside an authorized worker context (the S021 story). See docs/tokens.md."""

from strongroom.apptokens.cache import CacheLimits, DataKeyCache
from strongroom.apptokens.sealer import TokenSealer
from strongroom.apptokens.sources import KeySource, LocalKeySource, RemoteKeySource
from strongroom.apptokens.worker import TokenAccessDenied, WorkerContext, current_worker

__all__ = [
    "CacheLimits",
    "DataKeyCache",
    "KeySource",
    "LocalKeySource",
    "RemoteKeySource",
    "TokenAccessDenied",
    "TokenSealer",
    "WorkerContext",
    "current_worker",
]
