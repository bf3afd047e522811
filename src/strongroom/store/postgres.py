"""PostgreSQL (psycopg 3) for several stateless nodes. Commits are synchronous (durable)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from strongroom.errors import StorageFull, StoreUnavailable
from strongroom.store.group_commit import Dialect, GroupCommit
from strongroom.store.sql import SqlStore

try:
    import psycopg
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError("PostgreSQL support needs: pip install 'strongroom[postgres]'") from exc

__all__ = ["PostgresStore"]

_CHANNEL = "strongroom_invalidate"  # payload: "topic:key"
_FIRST_LISTEN_WAIT = 5.0  # seconds subscribe waits for its first LISTEN


def _bounded_connection(url: str) -> Any:
    """A connection that gives up on a database that stopped answering, rather than wait for
    the operating system's TCP timeout (minutes): a lock proved, a listener, a query behind a
    network partition fail within seconds, and the node says so (503) instead of hanging."""
    return psycopg.connect(
        url,
        autocommit=True,
        connect_timeout=5,
        keepalives=1,
        keepalives_idle=5,
        keepalives_interval=2,
        keepalives_count=3,
        tcp_user_timeout=10_000,  # ms: unacknowledged data is given up after 10 s
    )


def _store_error(exc: Exception) -> StorageFull | StoreUnavailable:
    if isinstance(exc, psycopg.errors.DiskFull):
        return StorageFull()
    return StoreUnavailable(f"PostgreSQL write failed: {type(exc).__name__}")


# The writes of a node share one connection and one commit (store/group_commit.py). That
# connection is in autocommit mode; a batch opens its own transaction.
_POSTGRES = Dialect(
    psycopg.Error,
    "BEGIN",
    lambda conn: conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE,
    lambda conn: bool(conn.closed or conn.broken),
)


class _Placeholders:
    """A psycopg connection whose ``execute`` takes the ``?`` placeholders the store writes."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, statement: str, params: Any = ()) -> Any:
        return self._conn.execute(statement.replace("?", "%s"), params)


class PostgresStore(SqlStore):
    placeholder = "%s"
    text_type = 'TEXT COLLATE "C"'
    blob_type = "BYTEA"
    integrity_errors = (psycopg.errors.UniqueViolation,)

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url
        self._leaders: dict[str, Any] = {}
        self._leader_guard = threading.Lock()
        self._deaf: set[int] = set()  # subscriptions not listening right now
        self._group = GroupCommit(self._connect, _store_error, lambda: None, _POSTGRES)
        self.migrate()

    def __repr__(self) -> str:
        return "PostgresStore(<url hidden>)"

    def try_leader(self, name: str) -> bool:
        """A session advisory lock on a connection of its own, held until close: exactly one
        node holds it; when that node dies, its connection and the lock go with it. A lock
        held is proved at each call by its connection answering (a database restart ends the
        session and the lock with it, though the client may not know yet), and taken again
        when it was lost, unless another node took it meanwhile."""
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        with self._leader_guard:
            conn = self._leaders.pop(name, None)
            if conn is not None:
                try:
                    conn.execute("SELECT 1")
                except psycopg.Error:
                    conn.close()  # the session, and the lock, are gone
                else:
                    self._leaders[name] = conn
                    return True
            conn = None
            try:
                conn = _bounded_connection(self._url)
                row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            except psycopg.Error:
                if conn is not None:
                    conn.close()
                return False
            if row is None or not row[0]:
                conn.close()
                return False
            self._leaders[name] = conn
            return True

    def publish(self, topic: str, key: str = "") -> None:
        # Delivered when its batch commits, to every listening node.
        with self._write() as conn:
            self._exec(conn, "SELECT pg_notify(?, ?)", (_CHANNEL, f"{topic}:{key}"))

    @property
    def listening(self) -> bool:
        return not self._deaf

    def subscribe(self, handler: Callable[[str, str], None]) -> Callable[[], None]:
        """The handler hears every notification from a thread of its own. When the connection
        is lost, the subscription counts as deaf (``listening`` is False) until it listens
        again and the handler has taken ``("*", "")``: everything may have changed meanwhile.
        A handler that raises StoreUnavailable is asked again after the next reconnect."""
        stop, heard = threading.Event(), threading.Event()
        ident = id(stop)
        self._deaf.add(ident)

        def listen() -> None:
            while not stop.is_set():
                try:
                    with _bounded_connection(self._url) as conn:
                        conn.execute(f"LISTEN {_CHANNEL}")
                        # Notifications sent while we were not listening are lost: drop it all.
                        handler("*", "")
                        self._deaf.discard(ident)
                        heard.set()
                        while not stop.is_set():
                            for note in conn.notifies(timeout=0.5):
                                topic, _, key = note.payload.partition(":")
                                handler(topic, key)
                except (psycopg.Error, StoreUnavailable):
                    self._deaf.add(ident)
                    stop.wait(1.0)  # the database is away; the node answers 503 meanwhile
            self._deaf.discard(ident)

        thread = threading.Thread(target=listen, name="strongroom-invalidate", daemon=True)
        thread.start()
        heard.wait(_FIRST_LISTEN_WAIT)  # a node starting up serves once it hears the others

        def stop_listening() -> None:
            stop.set()
            if thread is not threading.current_thread():  # a handler may stop its own
                thread.join(timeout=5)

        return stop_listening

    def close(self) -> None:
        with self._leader_guard:
            for conn in self._leaders.values():
                conn.close()
            self._leaders.clear()
        self._group.close()
        super().close()

    def _write(self) -> AbstractContextManager[Any]:
        return self._group.write(self.integrity_errors)  # no generator of its own: hot path

    def _refused(self) -> None:
        # What refused a compare-and-set may be a write of this node still in the open batch,
        # which other connections cannot see yet: let it commit, so the caller's next read does.
        self._group.settle()

    def _connect(self) -> Any:
        try:
            return _bounded_connection(self._url)
        except psycopg.Error as exc:
            raise StoreUnavailable(f"cannot connect to PostgreSQL: {type(exc).__name__}") from None

    def _query(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        """One statement on an autocommit connection is its own transaction (and one snapshot):
        one round trip, where a BEGIN and a COMMIT around it made three."""
        conn = self._conn()
        try:
            return list(conn.execute(self._sql(statement), params).fetchall())
        except psycopg.OperationalError as exc:
            self._drop(conn)  # closed, not left to leak its socket
            raise StoreUnavailable(f"PostgreSQL unavailable: {type(exc).__name__}") from None

    @contextmanager
    def _snapshot(self) -> Iterator[Any]:
        """A connection of its own in a repeatable-read, read-only transaction: one moment of
        the database while writers go on."""
        conn = self._connect()
        try:
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                yield _Placeholders(conn)
        except psycopg.Error as exc:
            raise StoreUnavailable(f"database snapshot failed: {type(exc).__name__}") from None
        finally:
            conn.close()

    def migrate(self) -> int:
        # Several nodes may start at once: serialize migrations with an advisory lock.
        with self._write() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(7432001)")
            return super().migrate()
