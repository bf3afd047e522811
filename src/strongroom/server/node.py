"""One server node: its store and seal always, its runtime (the services) only while unsealed."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterable, Sequence

from strongroom.audit import AuditBroker
from strongroom.auth.ratelimit import AddressLimiter
from strongroom.clock import Clock, SystemClock
from strongroom.config import ServerSettings
from strongroom.errors import (
    BadRequest,
    KeyProviderUnavailable,
    Sealed,
    StoreUnavailable,
    StrongroomError,
)
from strongroom.keyproviders.local import LocalKeyFile
from strongroom.keyproviders.provider import KeyProvider
from strongroom.keyproviders.registry import ProviderRegistry, configured_provider
from strongroom.results import SealMigration
from strongroom.rotation.registry import RotatorRegistry
from strongroom.rotation.rotators import Rotator
from strongroom.seal import RekeyResult, SealManager, SealStatus
from strongroom.seal.root_keys import SealedRootKeys
from strongroom.seal.seals import FileSeal, KmsSeal, Seal, ShamirSeal
from strongroom.server.gauge import RequestGauge
from strongroom.server.heap import settle_again
from strongroom.server.leadership import Leadership
from strongroom.server.metrics import Metrics
from strongroom.server.proxies import TrustedProxies
from strongroom.server.roster import Roster
from strongroom.server.runtime import Runtime
from strongroom.server.scheduler import Scheduler
from strongroom.server.services import Services
from strongroom.server.writer import Writer
from strongroom.service.seal import Health, SealService
from strongroom.store import open_store
from strongroom.store.sqlite import SqliteStore
from strongroom.types import ClusterNode

__all__ = ["Node"]

_log = logging.getLogger("strongroom.server")


class Node:
    def __init__(
        self,
        settings: ServerSettings,
        clock: Clock | None = None,
        rotators: Iterable[Rotator] = (),
    ) -> None:
        self.settings = settings
        # The rotators this server knows: built in, the embedding app's, installed packages'.
        self.rotators = RotatorRegistry(rotators)
        self.rotators.load_entry_points()
        self.clock = clock or SystemClock()
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.store = open_store(settings.resolved_store_url, exclusive=settings.exclusive_store)
        # Its own database file: short writes run on one thread and share its commits.
        self.writer = (
            Writer(self.store.group_commit) if isinstance(self.store, SqliteStore) else None
        )
        # Key providers are built from URIs, once, by this node's registry.
        self.providers = ProviderRegistry()
        self.seal_manager = SealManager(
            self.store,
            self.clock,
            wanted="kms" if settings.dev else settings.seal,
            seals=self._seals(settings),
        )
        self.limiter = AddressLimiter(
            self.clock,
            rate=settings.unauthenticated_rate,
            burst=settings.unauthenticated_burst,
        )
        self.requests = RequestGauge()
        shared = settings.resolved_store_url.startswith("postgres")
        # A store across the network (PostgreSQL) is never read on the event loop: a slow or
        # partitioned database would stall every connection of the node, health checks too.
        self.local_store = not shared
        self.leadership = Leadership(self.store, shared=shared)
        self.metrics = Metrics(lambda: self.runtime)
        self.proxies = TrustedProxies(settings.trusted_proxies)
        self.runtime: Runtime | None = None
        self.seal_service = SealService(self)
        self.scheduler: Scheduler | None = None
        self.roster: Roster | None = None
        self._stop_following: Callable[[], None] | None = None
        self._lock = threading.Lock()
        self._closed = False
        try:
            if settings.dev and not self.seal_manager.status().initialized:
                self.seal_manager.initialize()
            # A node started before `operator init` (on another node) follows it when it comes.
            self._awaiting_init = not self.seal_manager.status().initialized
            if self.seal_manager.auto_unseal() is not None:
                self._open()
            # From the start, sealed or not: another node's init or seal migration reaches this
            # one through the store's events (and on every reconnect, as "*").
            self._stop_following = self.store.subscribe(self._follow_seal)
        except BaseException:
            self.store.close()  # a node that cannot start leaves no connection or lock behind
            raise

    def _seals(self, settings: ServerSettings) -> dict[str, Seal]:
        root_keys = SealedRootKeys(self.store, settings.resolved_key_file, settings.root_key_name)

        return {
            "kms": KmsSeal(self._root_provider),
            "file": FileSeal(root_keys, settings.seal_key_file),
            "shamir": ShamirSeal(root_keys, self.store),
        }

    def _root_provider(self, name: str) -> KeyProvider:
        """The provider that holds the root key: the seal's own (``--seal-provider``, or the
        local key file), or, after a seal migration, the ``--key-provider`` it moved to."""
        settings = self.settings
        if name:
            uris = dict(settings.key_providers)
            if name not in uris:
                raise KeyProviderUnavailable(
                    f"the root key is in key provider {name!r} (a seal migration moved it "
                    f"there): start the server with --key-provider {name}=<its URI>"
                )
            return self.providers.build(uris[name])
        if settings.seal_provider:
            return self.providers.build(settings.seal_provider)
        return LocalKeyFile(settings.resolved_key_file).provider(settings.root_key_name)

    def migrate_seal(self, to: str) -> SealMigration:
        """Move the root key to one of this server's ``--key-provider``s, online: recorded
        first, then every root-wrapped record re-wrapped (a few provider calls each), then
        the new provider alone. Interrupted, it resumes when run again (both providers open
        meanwhile, after a restart too). Other nodes follow through the store's events."""
        runtime = self.require_runtime()
        name = configured_provider(to, dict(self.settings.key_providers), allow_root=False)
        self.seal_manager.begin_migration(name, self._root_provider(name))
        self.store.publish("seal")
        rewrapped = runtime.rewrap_root_wrapped(self.store)
        done = self.seal_manager.finish_migration()
        self.store.publish("seal")
        return SealMigration(done.provider, runtime.provider.key_ref, rewrapped)

    def _follow_seal(self, topic: str, key: str) -> None:
        """Another node initialized the server, or began or finished a seal migration. A node
        waiting for the init unseals itself when its seal allows (kms, file); a node that lacks
        a migration's new provider seals itself: it must not go on wrapping with a root key the
        others left. The store being away is no reason to seal: StoreUnavailable propagates, and
        the subscription asks again once it is back."""
        if topic not in ("seal", "*") or self._closed:
            return
        if self.runtime is None:
            if self._awaiting_init and self.seal_manager.status().initialized:
                self._awaiting_init = False
                if self.seal_manager.auto_unseal() is not None:
                    _log.info("another node initialized the server: unsealed")
                    self._open()
            return
        try:
            self.seal_manager.refresh(self._root_provider)
        except StoreUnavailable:
            raise
        except StrongroomError as exc:
            _log.error("sealing this node: the root key moved and %s", exc.message)
            self.seal()

    def _open(self) -> Runtime:
        provider = self.seal_manager.provider
        assert provider is not None
        with self._lock:
            if self.runtime is None:
                self.runtime = Runtime.build(
                    self.settings,
                    self.store,
                    provider,
                    self.clock,
                    self.requests.pause_if_busy,
                    self.rotators,
                    self.providers,
                )
                settings = self.settings
                scheme = "https" if settings.tls_cert else "http"
                self.roster = Roster(
                    self.runtime.store,
                    self.clock,
                    settings.node_name or socket.gethostname(),
                    f"{scheme}://{settings.host}:{settings.port}",
                    self.leadership,
                ).start()
                if self.settings.scheduler_interval > 0:
                    self.scheduler = Scheduler(
                        self.runtime, self.settings.scheduler_interval, self.leadership
                    )
                    self.scheduler.start()
            return self.runtime

    def require_runtime(self) -> Runtime:
        runtime = self.runtime
        if runtime is None:
            raise Sealed()
        return runtime

    def status(self, nonce: str = "") -> SealStatus:
        return self.seal_manager.status(nonce)

    def nodes(self) -> list[ClusterNode]:
        """The nodes heard from lately (sys/ha-status), this one included."""
        roster = self.roster
        if roster is None:
            raise Sealed()
        return roster.nodes()

    def health(self) -> Health:
        sealed = self.runtime is None
        serving = not sealed and self.store.listening
        leads = self.leadership.held
        return Health(not self._awaiting_init, sealed, serving, self.leadership.shared, leads)

    @property
    def services(self) -> Services | None:
        """What routes may call while unsealed; None while sealed."""
        runtime = self.runtime
        return runtime.services if runtime is not None else None

    @property
    def audit(self) -> AuditBroker | None:
        """The audit broker while unsealed; None while sealed."""
        runtime = self.runtime
        return runtime.audit if runtime is not None else None

    @property
    def listening(self) -> bool:
        return self.store.listening

    def initialize(self, shares: int, threshold: int) -> tuple[list[str], str]:
        """Create the root keys and a root token; returns (unseal shares, root token)."""
        if self.settings.dev:
            raise BadRequest("a dev server initializes itself")
        printed = self.seal_manager.initialize(shares, threshold)
        self._awaiting_init = False
        provider = self.seal_manager.provider
        if provider is None:  # shamir: open once with the new shares to create the root token
            nonce = ""
            for share in printed[:threshold]:
                _, nonce = self.seal_manager.submit_share(share, nonce, "init")
        runtime = self._open()
        token, _ = runtime.tokens.create(("root",), display_name="root", path="auth/token/root")
        if self.seal_manager.status().type == "shamir":
            self.seal()  # as in Vault, a shamir server starts sealed: operators unseal it
        self.store.publish("seal")  # nodes started before the init follow it
        return printed, token

    def unseal(self, share: str, nonce: str = "", address: str = "") -> SealStatus:
        provider, nonce = self.seal_manager.submit_share(share, nonce, address)
        if provider is not None:
            self._open()
        return self.seal_manager.status(nonce)

    def latest_attempt(self, address: str) -> str:
        return self.seal_manager.latest_attempt(address)

    def rekey(self, old_shares: Sequence[str], shares: int, threshold: int) -> RekeyResult:
        return self.seal_manager.rekey(old_shares, shares, threshold)

    def rekey_verify(self, nonce: str, new_shares: Sequence[str]) -> None:
        self.seal_manager.rekey_verify(nonce, new_shares)

    def rekey_cancel(self) -> bool:
        return self.seal_manager.rekey_cancel()

    def seal(self) -> None:
        self._drop_runtime()
        settle_again()  # the runtime it dropped may have been frozen at start (heap.py)

    def _drop_runtime(self) -> None:
        with self._lock:
            runtime, self.runtime = self.runtime, None
            roster, self.roster = self.roster, None
        if roster is not None:
            roster.stop()
        with self._lock:
            scheduler, self.scheduler = self.scheduler, None
            self.seal_manager.seal()
        if scheduler is not None:
            scheduler.stop()
        if runtime is not None:
            runtime.close()

    def close(self) -> None:
        """Seal and let go of the store and the providers; a second call does nothing."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            stop_following, self._stop_following = self._stop_following, None
        if stop_following is not None:
            stop_following()
        if self.writer is not None:
            self.writer.close()  # the writes queued finish first
        self.seal()
        self.store.close()
        self.providers.close()
