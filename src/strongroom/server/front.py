"""The one front door: every HTTP request of every surface passes here, in this order.

1. pick the surface that claims the request (its error shape from here on) and match its route
2. sealed gate: only routes marked open while sealed are reachable
3. who is asking, before anything reads, parses or audits what they sent: the first of the
   surface's authenticators that finds its credential decides; a public route is charged to the
   caller's address's budget of unauthenticated requests instead (as is any failed credential)
4. refuse URLs that would alias another path (encoded separators, invalid UTF-8); no route (404,
   405) is answered only now, so an unauthenticated caller cannot map the routes; a surface may
   now reroute the request by what the path alone cannot tell (Vault: a KV version 1 mount's)
5. the body, bounded; the request audit entry (an unauthenticated, refused or large body is
   audited as its size and one HMAC of its bytes)
6. the route's handler: on a worker thread, or, for a route marked fast, first in a pass that
   only reads, on the event loop (on a worker thread when the store is PostgreSQL)
7. the response audit entry from the route's answer, typed (nothing is parsed back)
8. the answer in the surface's shape, held until its audit entry is written (fail closed)

Every request is counted by surface, operation and status, with its latency."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from starlette.types import Message, Receive, Scope, Send

from strongroom.auth.authenticators import NotRemembered, from_memory
from strongroom.auth.identity import Identity
from strongroom.errors import (
    AuditIncomplete,
    AuditUnavailable,
    PayloadTooLarge,
    RateLimited,
    Sealed,
    StoreUnavailable,
    StrongroomError,
    Unauthenticated,
)
from strongroom.server.auth_paths import MOUNT
from strongroom.server.front_audit import AuditTrail, RequestTrail
from strongroom.server.front_node import FrontNode
from strongroom.server.request_body import UnverifiedBodies, read_body
from strongroom.server.request_ids import new_request_id
from strongroom.server.routes import (
    PROOF,
    Call,
    MethodNotAllowed,
    NeedsThread,
    Route,
    RouteNotFound,
)
from strongroom.server.surface import Rendered, Surface
from strongroom.server.threads import in_thread
from strongroom.server.url_checks import url_error
from strongroom.server.writer import batchable

__all__ = [
    "Front",
    "MethodNotAllowed",
    "RouteNotFound",
    "client_address",
]

log = logging.getLogger("strongroom.server")

_Node = TypeVar("_Node", bound=FrontNode)
_REROUTED = "strongroom.rerouted"  # the operation a surface's reroute chose


def _below_prefix(path: str) -> str:
    """``/v1/nope/foo`` -> ``nope/foo``: the path under a surface's versioned prefix."""
    parts = path.lstrip("/").split("/", 1)
    return parts[1] if len(parts) == 2 else path


def _internal(exc: Exception, where: str = "the front door") -> StrongroomError:
    log.error("unexpected %s in %s", type(exc).__name__, where)
    return StrongroomError("internal error; see the server log")


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


class Front(Generic[_Node]):
    """The ASGI app of a node (a ``Node``, or anything with a ``FrontNode``'s parts)."""

    def __init__(self, node: _Node, surfaces: Sequence[Surface], *, owns_node: bool = True) -> None:
        self.node = node
        self._owns_node = owns_node
        self.surfaces = tuple(surfaces)
        self._trail = AuditTrail(node.clock, node.settings.limits.max_json_depth)
        self._unverified = UnverifiedBodies()  # read before their signature is checked

    # -- ASGI
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(self.node if self._owns_node else None, receive, send)
            return
        if scope["type"] != "http":
            return
        node = self.node
        node.requests.enter()
        if node.proxies:
            node.proxies.apply(scope)
        started = time.perf_counter()
        surface, claimed = self._surface(scope)
        route: Route | None = None
        params: dict[str, str] = {}
        other_method = False
        if claimed and surface.method is not None:
            # Rewritten in the scope, so the router, the audit entry and the handler agree.
            scope["method"] = surface.method(scope)
        if claimed and surface.path is not None:
            scope["path"] = surface.path(scope)
        if claimed:
            route, params, other_method = surface.router.match(scope["method"], scope["path"])
        status = 500
        try:
            status = await self._serve(
                surface, claimed, route, params, other_method, scope, receive, send
            )
        except Exception as exc:
            # Nothing a caller sends may reach the log as a traceback (it may quote the request):
            # the type only, and an answer in the surface's shape unless one has started. A
            # request the node sealed under (its store and audit closed) is a 503: retried
            # elsewhere by a load balancer.
            error = Sealed() if node.audit is None else _internal(exc)
            status = error.http_status
            with contextlib.suppress(Exception):
                await self._send(scope, send, surface.render_error(error, new_request_id()))
        finally:
            node.requests.leave()
            operation = route.operation if route is not None else "unmatched"
            operation = scope.get(_REROUTED, operation)
            node.metrics.observe(surface.name, operation, status, time.perf_counter() - started)

    def _surface(self, scope: Scope) -> tuple[Surface, bool]:
        """The surface that claims the request; nobody's request is answered 404 in the shape of
        the first surface."""
        for surface in self.surfaces:
            if surface.claims(scope):
                return surface, True
        return self.surfaces[0], False

    @staticmethod
    async def _lifespan(node: FrontNode | None, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                # Closed here, not after the server returns: uvicorn re-raises SIGTERM once it
                # has shut down, so code after it never runs, and the audit checkpoints, the
                # store and the locks would be left to the operating system.
                if node is not None:
                    await in_thread(node.close)
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- the steps
    async def _serve(
        self,
        surface: Surface,
        claimed: bool,
        route: Route | None,
        params: dict[str, str],
        other_method: bool,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> int:
        node = self.node
        if route is not None and not route.audited:  # health checks: no id, no audit, no limit
            call = self._call(scope, params, b"", "", None)
            return await self._send(
                scope, send, (await self._answer(surface, route, call, None))[0]
            )
        request_id = new_request_id()
        audit = node.audit  # None while sealed
        if audit is None:
            return await self._serve_sealed(
                surface, route, params, request_id, scope, receive, send
            )
        if not node.listening:
            # After losing the database, a node serves again only once it hears the other
            # nodes again: its caches may be stale until then.
            error = StoreUnavailable(
                "this node is reconnecting to the database; retry, or ask another node"
            )
            return await self._send(scope, send, surface.render_error(error, request_id))
        body = b""
        refused: StrongroomError | None = None
        signs_body = surface.signs_body is not None and claimed
        if signs_body:
            if node.local_store:
                refused = self._refusal_before_body(surface, scope)
            else:  # it looks the access key up: never waited on by the event loop
                refused = await in_thread(self._refusal_before_body, surface, scope)
            if refused is None:
                try:
                    read = await self._unverified.read(receive, node.settings.limits.max_body_bytes)
                except (PayloadTooLarge, RateLimited) as exc:
                    refused, read = exc, b""
                if read is None:
                    return 499
                body = scope["strongroom.body"] = read
        # A path of a surface's own gets no 404 before authentication: no route is an oracle.
        credential: str | None = None
        identity: Identity | None = None
        if refused is None:
            try:
                gated = self._gate(surface, route, scope, claimed, node.local_store)
            except NotRemembered:  # a database across the network: never waited on by the loop
                gated = await in_thread(self._gate, surface, route, scope, claimed, True)
            credential, identity, refused = gated
        if refused is None:
            refused = url_error(scope)
        if refused is None and route is None:
            refused = (
                MethodNotAllowed(f"method {scope['method']} is not allowed on this path")
                if other_method
                else RouteNotFound(scope["method"], scope["path"], _below_prefix(scope["path"]))
            )
        reroute, services = surface.reroute, node.services
        if refused is None and route is not None and reroute is not None and services is not None:
            # the route that serves the request (Vault: a KV version 1 mount's), decided once
            # the caller is known: a look-up nobody unauthenticated can make the server do
            path: str = scope["path"]
            try:
                found = reroute(route, params, path, services, node.local_store)
            except NotRemembered:  # a database across the network: never waited on by the loop
                found = await in_thread(reroute, route, params, path, services, True)
            if found is not None:
                route, params = found
                scope[_REROUTED] = route.operation  # counted as the operation it ran as
        if refused is None and not signs_body:
            try:
                read = await read_body(receive, node.settings.limits.max_body_bytes)
            except PayloadTooLarge as exc:
                refused = exc
            else:
                if read is None:
                    return 499  # the client went away mid-body: a cut body is never acted on
                body = read
        trail = self._trail.begin(
            audit, scope, request_id, route, credential, identity, client_address(scope)
        )
        doc: dict[str, Any] | None = None
        if trail is not None:
            doc = trail.request(body, trusted=refused is None)
            if trail.pending:  # anything but a read is on record before it runs
                try:
                    await trail.write_request(len(body))
                except AuditUnavailable as exc:
                    return await self._send(scope, send, surface.render_error(exc, request_id))
        if refused is not None or route is None:
            assert refused is not None
            rendered = surface.render_error(refused, request_id)
            record = trail.refused(refused) if trail is not None else None
        else:
            # The body was parsed once, for the audit entry and the handler alike.
            call = self._call(scope, params, body, request_id, identity, doc)
            call.credential = credential
            call.proof = scope.get(PROOF)
            rendered, record = await self._answer(surface, route, call, trail)
        if trail is not None and record is not None:
            try:
                await trail.response(rendered.status, record, len(rendered.body))
            except StrongroomError as exc:
                failure: StrongroomError = exc
                if trail.may_change and rendered.status < 400:
                    # It ran: "refused" (503, retry) would be a lie a load balancer acts on.
                    failure = AuditIncomplete()
                return await self._send(scope, send, surface.render_error(failure, request_id))
        return await self._send(scope, send, rendered)

    async def _serve_sealed(
        self,
        surface: Surface,
        route: Route | None,
        params: dict[str, str],
        request_id: str,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> int:
        """While sealed, only routes marked open while sealed answer (status, init, unseal),
        charged to the caller's address; nothing is audited (the audit keys are sealed too)."""
        node = self.node
        if route is None or not route.open_while_sealed:
            error = Sealed()
            if not node.status().initialized:
                error = Sealed("the server is not initialized; run: strongroom operator init")
            return await self._send(scope, send, surface.render_error(error, request_id))
        try:
            node.limiter.hit(client_address(scope))
            bad_url = url_error(scope)
            if bad_url is not None:
                raise bad_url
            body = await read_body(receive, node.settings.limits.max_body_bytes)
        except StrongroomError as exc:
            return await self._send(scope, send, surface.render_error(exc, request_id))
        if body is None:
            return 499
        call = self._call(scope, params, body, request_id, None)
        return await self._send(scope, send, (await self._answer(surface, route, call, None))[0])

    def _refusal_before_body(self, surface: Surface, scope: Scope) -> StrongroomError | None:
        """For a surface whose signature covers the body: a request that cannot authenticate is
        refused, and charged to its address's budget, before a byte of its body is read."""
        assert surface.signs_body is not None
        refusal = surface.signs_body(scope)
        if refusal is not None:
            try:
                self.node.limiter.hit(client_address(scope))
            except RateLimited as exc:
                return exc
        return refusal

    def _gate(
        self,
        surface: Surface,
        route: Route | None,
        scope: Scope,
        claimed: bool,
        may_read_store: bool,
    ) -> tuple[str | None, Identity | None, StrongroomError | None]:
        """(the credential presented, the identity it proves, or the error to answer with).
        Without ``may_read_store``, only what this node remembers: NotRemembered otherwise."""
        credential = None
        try:
            if not claimed or (route is not None and route.public):
                self.node.limiter.hit(client_address(scope))
                return None, None, None
            for authenticator in surface.authenticators:
                credential = authenticator.credential(scope)
                if credential is not None:
                    try:
                        if may_read_store:
                            identity = authenticator.identify(credential, scope)
                        else:
                            identity = from_memory(authenticator, credential, scope)
                        return credential, identity, None
                    except Unauthenticated:
                        self.node.limiter.hit(client_address(scope))
                        raise
            self.node.limiter.hit(client_address(scope))
            raise Unauthenticated()
        except StrongroomError as exc:
            return credential, None, exc

    def _call(
        self,
        scope: Scope,
        params: dict[str, str],
        body: bytes,
        request_id: str,
        identity: Identity | None,
        parsed_body: dict[str, Any] | None = None,
    ) -> Call:
        node = self.node
        return Call(
            method=scope["method"],
            path=scope["path"],
            params=params,
            query_string=scope.get("query_string", b""),
            headers=scope["headers"],
            body=body,
            address=client_address(scope),
            request_id=request_id,
            limits=node.settings.limits,
            seal=node.seal_service,
            services_or_none=node.services,
            identity_or_none=identity,
            parsed_body=parsed_body,
            mount=scope.get(MOUNT),
        )

    async def _answer(
        self, surface: Surface, route: Route, call: Call, trail: RequestTrail | None
    ) -> tuple[Rendered, Any]:
        """Run the handler; its answer (or error) rendered, and the audit record of it."""
        try:
            if route.fast:
                call.first_pass = True
                try:
                    if self.node.local_store:
                        answer = route.handler(call)
                    else:  # the event loop never waits on a database across the network
                        answer = await in_thread(route.handler, call)
                except NeedsThread:
                    call.first_pass = False
                    if trail is not None:
                        await trail.write_deferred(len(call.body))
                    answer = await in_thread(route.handler, call)
            elif route.batched and (writer := self.node.writer) and batchable(call):
                answer = await writer(route.handler, call)
            else:
                answer = await in_thread(route.handler, call)
        except StrongroomError as exc:
            return surface.render_error(exc, call.request_id), self._trail.error(route, exc)
        except Exception as exc:
            # Sealed while it ran (its services closed under it): a 503, retried elsewhere.
            error = Sealed() if self.node.audit is None else _internal(exc, route.operation)
            return surface.render_error(error, call.request_id), self._trail.error(route, error)
        return surface.render(answer), self._trail.answered(route, call, answer)

    @staticmethod
    async def _send(scope: Scope, send: Send, rendered: Rendered) -> int:
        body = rendered.body
        headers = rendered.headers
        if rendered.status != 204:
            headers = (*headers, (b"content-length", str(len(body)).encode()))
        if scope["method"] == "HEAD":
            body = b""
        start: Message = {"type": "http.response.start", "status": rendered.status}
        start["headers"] = headers
        await send(start)
        await send({"type": "http.response.body", "body": body})
        return rendered.status
