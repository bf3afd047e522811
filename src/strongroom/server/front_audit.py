"""The front door's audit entries, built from typed parts (the route, the identity, the route's
``AuditRecord``), fail closed.

Anything that may change state has a request entry, written before the handler runs (an
unaudited change never happens), and a response entry. A read changes nothing, so it has one
entry: its response entry, which carries the request's body too (everything a request entry
would say); a fast read that moves to a worker thread, where it may write, puts its request entry
on record first. Entries go out with those of the other requests answered in the same turn of the
event loop (audit_batch.py); the answer is held until its entry is written. What an
unauthenticated caller can make the server write is bounded: its body is audited as its size and
one HMAC of the bytes, as is any body over ``AUDITED_BODY_BYTES``; big bodies are HMAC'd on a
worker thread."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strongroom.audit import AuditBroker
from strongroom.audit.record import SENSITIVE_FIELDS, AuditRecord
from strongroom.auth.identity import Identity
from strongroom.clock import Clock
from strongroom.errors import BadRequest, StrongroomError
from strongroom.jsondata import check_json, parse_json
from strongroom.server.audit_batch import AuditBatch
from strongroom.server.audit_sync import SharedSync
from strongroom.server.auth_paths import WIRE_PATH
from strongroom.server.routes import Answer, Call, Route
from strongroom.server.threads import in_thread
from strongroom.types import format_time

__all__ = ["AUDITED_BODY_BYTES", "AuditTrail", "RequestTrail", "audited_body"]

AUDITED_BODY_BYTES = 64 * 1024  # a larger body is audited as its size and HMAC
_INLINE_BYTES = 4 * 1024  # smaller entries are HMAC'd on the event loop (cheaper than a thread)


def _opaque(raw: bytes) -> str:
    """The whole body as one string leaf, which each sink HMACs: its size and digest, never its
    content (a SHA-256 of a short password would be guessable; a keyed HMAC is not)."""
    return raw.decode("latin-1")


def audited_body(raw: bytes, trusted: bool, depth_limit: int) -> tuple[Any, Any]:
    """(what the request entry carries for a body, the parsed JSON object for the handler or
    None). Only an authenticated caller's well-formed body of a bounded size is parsed (every leaf
    is then HMAC'd)."""
    if not trusted or len(raw) > AUDITED_BODY_BYTES:
        return _opaque(raw), None
    try:
        doc = parse_json(raw)
        check_json(doc, depth_limit)
    except (ValueError, RecursionError, BadRequest):
        return _opaque(raw), None
    return doc, doc if isinstance(doc, dict) else None


class AuditTrail:
    """Makes the audit records of routes and starts each request's entries."""

    def __init__(self, clock: Clock, max_json_depth: int) -> None:
        self._clock = clock
        self._depth = max_json_depth + 2  # as the handler's parse allows
        self._synced: tuple[AuditBroker, SharedSync, AuditBatch] | None = None  # the broker's

    def _shared(self, broker: AuditBroker) -> tuple[AuditBroker, SharedSync, AuditBatch]:
        if self._synced is None or self._synced[0] is not broker:  # a new broker on unseal
            sync = SharedSync(broker.sync)
            self._synced = (broker, sync, AuditBatch(broker, sync))
        return self._synced

    def begin(
        self,
        broker: AuditBroker,
        scope: Mapping[str, Any],
        request_id: str,
        route: Route | None,
        credential: str | None,
        identity: Identity | None,
        address: str,
    ) -> RequestTrail | None:
        if not broker.enabled:
            return None
        _, sync, batch = self._shared(broker)
        return RequestTrail(
            broker,
            sync,
            batch,
            self._clock,
            scope,
            request_id,
            route,
            credential,
            identity,
            address,
            self._depth,
        )

    @staticmethod
    def answered(route: Route, call: Call, answer: Answer) -> AuditRecord:
        doc = answer.doc
        if answer.clear and isinstance(doc, dict):
            response = dict(doc)
            # One marked field is audited as its value (a secret read's version metadata, as
            # documented); several, by name. A dotted name ("data.metadata") marks a field
            # inside another.
            if len(answer.clear) == 1 and "." not in answer.clear[0]:
                clear = response.pop(answer.clear[0], None)
            else:
                clear = {}
                for name in answer.clear:
                    if "." not in name:  # a top-level field: no copies on the way
                        if name in response:
                            clear[name] = response.pop(name)
                        continue
                    found, value = _pop_path(response, name.split("."))
                    if found:
                        clear[name] = value
            return AuditRecord(route.operation, response=response, clear=clear)
        return AuditRecord(route.operation, response=doc)

    @staticmethod
    def error(route: Route, exc: StrongroomError) -> AuditRecord:
        return AuditRecord(route.operation, error=exc)


def _pop_path(doc: dict[str, Any], names: list[str]) -> tuple[bool, Any]:
    """Remove ``a.b.c`` from ``doc``, copying the objects on the way (the answer itself, already
    rendered, is shared with them)."""
    head, rest = names[0], names[1:]
    if head not in doc:
        return False, None
    if not rest:
        return True, doc.pop(head)
    inner = doc[head]
    if not isinstance(inner, dict):
        return False, None
    doc[head] = dict(inner)
    return _pop_path(doc[head], rest)


class RequestTrail:
    __slots__ = (
        "_base",
        "_batch",
        "_broker",
        "_credential",
        "_deferred",
        "_depth",
        "_identity",
        "_pending",
        "_route",
        "_sync",
        "may_change",
    )

    def __init__(
        self,
        broker: AuditBroker,
        sync: SharedSync,
        batch: AuditBatch,
        clock: Clock,
        scope: Mapping[str, Any],
        request_id: str,
        route: Route | None,
        credential: str | None,
        identity: Identity | None,
        address: str,
        depth: int,
    ) -> None:
        self._broker = broker
        self._sync = sync
        self._batch = batch
        self._route = route
        self._credential = credential
        self._identity = identity
        self._base: dict[str, Any] = {
            "time": format_time(clock.now()),
            "request_id": request_id,
            "request": {
                "method": scope["method"],
                "path": scope.get(WIRE_PATH) or scope["path"],
                "query": scope.get("query_string", b"").decode("latin-1"),
                "remote_addr": address,
            },
            "operation": route.operation if route is not None else "unmatched",
        }
        self._deferred: dict[str, Any] | None = None
        self._pending: dict[str, Any] | None = None
        self._depth = depth
        self.may_change = False  # its request entry went on record before it ran

    def request(self, body: bytes, *, trusted: bool) -> dict[str, Any] | None:
        """Audit the request's body: a read's goes into its response entry; anything else's
        request entry is written by ``write_request`` before the handler runs. Returns the body
        parsed as a JSON object when it was parsed for the entry, so the handler does not parse
        it again. A read is a GET or HEAD, or a fast route (one that answers on the event loop,
        which never writes: one that would moves to a thread, and ``write_deferred`` puts its
        request entry on record first)."""
        trusted = trusted and self._identity is not None
        form, parsed = audited_body(body, trusted, self._depth) if body else (None, None)
        said: dict[str, Any] = {"body": form, "body_size": len(body)} if body else {}
        fast = self._route is not None and self._route.fast
        if fast or self._base["request"]["method"] in ("GET", "HEAD"):
            self._deferred = said  # a read changes nothing: one entry, with the response
        else:
            self._pending = self._request_entry(said)
        return parsed

    def _request_entry(self, said: dict[str, Any]) -> dict[str, Any]:
        entry: dict[str, Any] = {**self._base, "type": "request", "body": None, **said}
        if self._credential:
            entry["token"] = self._credential
        return entry

    @property
    def pending(self) -> bool:
        return self._pending is not None

    async def write_request(self, size: int) -> None:
        if self._pending is not None:
            await self._write((self._pending,), size)
            self.may_change = True

    async def write_deferred(self, size: int) -> None:
        """A fast route going to a thread may write: its request goes on record first."""
        if self._deferred is not None:
            said, self._deferred = self._deferred, None
            await self._write((self._request_entry(said),), size)
            self.may_change = True

    def refused(self, exc: StrongroomError) -> AuditRecord:
        operation = self._route.operation if self._route is not None else "unmatched"
        return AuditRecord(operation, error=exc)

    async def response(self, status: int, record: AuditRecord, size: int) -> None:
        entry: dict[str, Any] = {**self._base, "type": "response", "status": status}
        entry.update(record.fields())
        if self._credential:
            entry["token"] = self._credential
        identity = self._identity
        if identity is not None:
            entry["auth"] = {"display_name": identity.name, "policies": list(identity.policies)}
            entry["accessor"] = identity.accessor
        if self._deferred:  # a read's body, in its only entry
            entry.update(self._deferred)
        # What may have changed something is answered only once its entries are on disk (one
        # fsync shared by the writes answered together).
        await self._write((entry,), size, durable=self.may_change)

    async def _write(
        self, entries: tuple[dict[str, Any], ...], size: int, *, durable: bool = False
    ) -> None:
        if size > _INLINE_BYTES:
            await in_thread(self._broker.log, *entries, sensitive=SENSITIVE_FIELDS)
            if durable:
                await self._sync()
        else:  # with the other requests answered in this turn of the event loop
            await self._batch.write(entries, durable=durable)
