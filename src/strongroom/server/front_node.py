"""What the front door (server/front.py) needs of the node behind it, and nothing more.

The front door's steps (the seal gate, authentication, the audit trail, metrics, the handler's
thread) read only these parts, so they stand in front of anything that has them: ``Node`` is
one (server/node.py), and an entry that is not HTTP reaches the same steps through
``server/direct.py``. The front door imports no composition root: a new transport or surface
gets every step without knowing how a node is built."""

from __future__ import annotations

from typing import Protocol

from strongroom.audit import AuditBroker
from strongroom.auth.ratelimit import AddressLimiter
from strongroom.clock import Clock
from strongroom.config import ServerSettings
from strongroom.seal import SealStatus
from strongroom.server.gauge import RequestGauge
from strongroom.server.proxies import TrustedProxies
from strongroom.server.services import Services
from strongroom.server.writer import Writer
from strongroom.service.seal import SealService

__all__ = ["FrontNode", "RequestObserver"]


class RequestObserver(Protocol):
    """Counts each answered request (server/metrics.py)."""

    def observe(self, surface: str, operation: str, status: int, seconds: float) -> None: ...


class FrontNode(Protocol):
    @property
    def clock(self) -> Clock: ...

    @property
    def settings(self) -> ServerSettings: ...

    @property
    def limiter(self) -> AddressLimiter:
        """The budget of unauthenticated requests per address."""
        ...

    @property
    def local_store(self) -> bool:
        """The database is a local file: the event loop may read it."""
        ...

    @property
    def listening(self) -> bool:
        """The node hears the other nodes' changes (its caches are current)."""
        ...

    @property
    def metrics(self) -> RequestObserver: ...

    @property
    def proxies(self) -> TrustedProxies: ...

    @property
    def requests(self) -> RequestGauge: ...

    @property
    def seal_service(self) -> SealService: ...

    @property
    def writer(self) -> Writer | None:
        """The thread that runs batched writes, on a node that has one."""
        ...

    @property
    def audit(self) -> AuditBroker | None:
        """The audit broker while unsealed; None while sealed."""
        ...

    @property
    def services(self) -> Services | None:
        """What handlers call while unsealed; None while sealed."""
        ...

    def status(self, nonce: str = "") -> SealStatus: ...

    def close(self) -> None: ...
