"""Route tables as data. One ``Route`` per method and path feeds the router, the OpenAPI document
and the front door's gates (public, open while sealed, fast), so no path is listed twice.

A handler is a plain function from a ``Call`` to an ``Answer``. The front door runs it on a
worker thread, or, when the route is marked fast, first in a pass that only reads: on the event
loop (measured cheaper, and bounded), or on a worker thread when the store is across the network
(PostgreSQL, which the event loop never waits on). A fast handler that finds it needs blocking
or writing work raises ``NeedsThread`` before doing any; the front door records the request and
runs it again on a worker thread."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.convertors import PathConvertor, StringConvertor
from starlette.datastructures import QueryParams
from starlette.routing import compile_path

from strongroom.auth.identity import Identity
from strongroom.errors import BadRequest, LimitExceeded, NotFound, Sealed, Unauthenticated
from strongroom.jsondata import check_json
from strongroom.limits import MAX_INTEGER, Limits

if TYPE_CHECKING:
    from strongroom.server.services import Services
    from strongroom.service.seal import SealService

__all__ = [
    "PROOF",
    "Answer",
    "Call",
    "Handler",
    "MethodNotAllowed",
    "NeedsThread",
    "Route",
    "RouteNotFound",
    "Router",
    "Schema",
    "parse_json_object",
    "parse_query_int",
]

Schema = dict[str, Any]
_TEXT_CONVERTORS = (StringConvertor, PathConvertor)
_NO_QUERY = QueryParams("")


class MethodNotAllowed(BadRequest):
    """405, with the native API's code of before (``bad_request``), so clients see no change."""

    http_status = 405


class RouteNotFound(NotFound):
    """No route of the claiming surface matches the path (answered only after authentication)."""

    def __init__(self, method: str, path: str, route: str) -> None:
        super().__init__(f"no route for {method} {path}")
        self.method = method
        self.route = route  # the path below the surface's prefix, for surfaces that quote it


class NeedsThread(Exception):
    """Raised by a fast handler's first pass, before it has done anything, when answering would
    block or write."""


@dataclass(slots=True)
class Answer:
    """What a handler returns. ``doc`` is rendered by the surface (JSON for every surface so
    far); ``raw`` is sent as it is (the OpenAPI document, Prometheus text). ``clear`` names the
    top-level fields of ``doc`` that are not sensitive: the audit entry carries them as they are,
    as ``response_metadata`` (one field: its value; several: an object by name); every other
    leaf of ``doc`` is HMAC'd."""

    doc: Any = field(default=None, repr=False)  # may hold secret values
    status: int = 200
    raw: bytes | None = field(default=None, repr=False)
    media_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    clear: tuple[str, ...] = ()

    @classmethod
    def empty(cls) -> Answer:
        return cls(status=204)

    def header_pairs(self) -> tuple[tuple[bytes, bytes], ...]:
        """``headers`` as ASGI pairs (lower-case names); most answers have none."""
        if not self.headers:
            return ()
        return tuple((k.lower().encode(), v.encode()) for k, v in self.headers)


# Where an authenticator leaves, in the ASGI scope, what it proved beyond the identity (SigV4:
# the signing scope); the front door hands it to the handler as Call.proof.
PROOF = "strongroom.proof"


@dataclass(slots=True)
class Call:
    """One request as a handler sees it: matched path parameters, query, parsed body, the
    caller's identity and the services. Built by the front door."""

    method: str
    path: str
    params: dict[str, str]
    query_string: bytes
    headers: Sequence[tuple[bytes, bytes]] = field(repr=False)  # carry credentials
    body: bytes = field(repr=False)
    address: str
    request_id: str
    limits: Limits
    seal: SealService
    services_or_none: Services | None
    identity_or_none: Identity | None = None
    parsed_body: dict[str, Any] | None = field(default=None, repr=False)
    first_pass: bool = False  # a fast route's pass that only reads (must_not_block raises)
    credential: str | None = field(default=None, repr=False)  # as presented; Vault echoes it
    # What the authenticator proved beyond the identity (SigV4: the signing scope), if anything
    proof: object = field(default=None, repr=False)
    # The auth mount the request was routed by, when not its type's own path (approle-ci/)
    mount: str | None = None
    # Counted against its rate limit quota: a fast route's second pass is not counted again.
    admitted: bool = False
    _query: QueryParams | None = None
    _bound: Services | None = None

    def must_not_block(self) -> None:
        """For fast handlers, before blocking or writing work: in the first pass, hand this call
        to a second one on a worker thread, recorded first."""
        if self.first_pass:
            raise NeedsThread

    @property
    def wire_path(self) -> str:
        """The path as the client sent it: a request to an auth method at a path of its own is
        routed by its type's path (``/v1/auth/approle/login`` for ``/v1/auth/approle-ci/login``)."""
        if self.mount is None:
            return self.path
        before, _, after = self.path.partition("/auth/")
        return f"{before}/auth/{self.mount}/{after.partition('/')[2]}".rstrip("/")

    @property
    def services(self) -> Services:
        if self.services_or_none is None:
            raise Sealed()
        if self.mount is None:
            return self.services_or_none
        if self._bound is None:  # that mount's backend in its type's place
            services = self.services_or_none
            self._bound = services.auth_methods.bind(services, self.mount)
        return self._bound

    @property
    def identity(self) -> Identity:
        if self.identity_or_none is None:
            raise Unauthenticated()
        return self.identity_or_none

    @property
    def query(self) -> QueryParams:
        if self._query is None:
            raw = self.query_string
            self._query = QueryParams(raw.decode("latin-1")) if raw else _NO_QUERY
        return self._query

    def query_int(self, name: str, default: int | None = None) -> int | None:
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        return parse_query_int(raw, name)

    def json(self) -> dict[str, Any]:
        """The body as a JSON object, parsed once, within the depth limit (the front door has
        bounded its size already)."""
        if self.parsed_body is None:
            self.parsed_body = parse_json_object(self.body, self.limits.max_json_depth)
        return self.parsed_body

    def header(self, name: str) -> str | None:
        wanted = name.lower().encode("latin-1")
        for key, value in self.headers:
            if key == wanted:
                return value.decode("latin-1")
        return None


Handler = Callable[[Call], Answer]


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # a Starlette-style template: "/api/v1/secrets/{namespace}/{path:path}"
    handler: Handler
    operation: str  # the OpenAPI operationId, the metrics label and the audit operation
    summary: str = ""
    body: Schema | None = None
    query: tuple[Schema, ...] = ()
    response: Schema | None = None
    status: int = 200
    public: bool = False  # reachable without a credential (charged to the address's budget)
    open_while_sealed: bool = False
    fast: bool = False  # runs on the event loop
    # A short store write: on a node whose database is its own file it runs on the writer
    # thread, its commit shared with the writes beside it (server/writer.py)
    batched: bool = False
    audited: bool = True
    documented: bool = True  # appears in the surface's API document


def parse_query_int(raw: str, name: str) -> int:
    """ASCII digits only (superscripts and other scripts' digits pass str.isdigit), up to
    MAX_INTEGER."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or int(raw) > MAX_INTEGER:
        raise BadRequest(f"query parameter {name!r} must be an integer from 0 to {MAX_INTEGER}")
    return int(raw)


def parse_json_object(raw: bytes, max_depth: int) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        doc = json.loads(raw)
    except RecursionError:
        raise LimitExceeded(f"JSON is nested deeper than {max_depth} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        where = (
            f" at line {exc.lineno} column {exc.colno}"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        raise BadRequest(f"request body is not valid JSON{where}") from None
    if not isinstance(doc, dict):
        raise BadRequest("request body must be a JSON object")
    check_json(doc, max_depth + 2)
    return doc


@dataclass(frozen=True)
class _Compiled:
    route: Route
    literal: str  # the path up to its first parameter: a cheap test before the regex
    pattern: re.Pattern[str]
    convertors: Mapping[str, Any]
    as_text: bool  # every parameter is str or path: the matched text is the value


def _head(literal: str) -> str | None:
    """A route's literal part up to and including its third '/' ("/v1/sys/" of
    "/v1/sys/mounts/"), or None when it has no third one: only a path with the same head can
    start with that literal."""
    if not literal.startswith("/") or literal.count("/") < 3:
        return None
    return _head_of_path(literal)


def _head_of_path(path: str) -> str:
    """The same cut of a request's path (which starts with '/'); anything else it gives for a
    path without three slashes is no route's head."""
    return path[: path.find("/", path.find("/", 1) + 1) + 1]


class Router:
    """Matches a path and method against one surface's table, fast routes first. A path that
    matches with another method is a 405; no match at all is a 404.

    The first matching route of the request's method wins, as in one scan of the whole table;
    the table is indexed so that a request looks only at its method's routes whose literal part
    could start its path (by the path's first two segments: a KV write under ``/v1/secret/``
    skips the ``/v1/sys/…`` and ``/v1/auth/…`` routes), and a route without parameters is a
    dict hit (unless an earlier route of its method also matches it)."""

    def __init__(self, routes: Sequence[Route]) -> None:
        ordered = sorted(routes, key=lambda r: not r.fast)
        self._by_method: dict[str, list[_Compiled]] = {}
        # method -> head (a path up to its third '/', as "/v1/sys/") -> the method's routes a
        # path with that head can match, in table order; None: any other head
        self._by_head: dict[str, dict[str | None, list[_Compiled]]] = {}
        self._exact: dict[tuple[str, str], Route] = {}
        for route in ordered:
            pattern, _, convertors = compile_path(route.path)
            literal = route.path.split("{", 1)[0]
            as_text = all(type(c) in _TEXT_CONVERTORS for c in convertors.values())
            entry = _Compiled(route, literal, pattern, convertors, as_text)
            earlier = self._by_method.setdefault(route.method, [])
            key = (route.method, route.path)
            if (
                not convertors
                and key not in self._exact
                and not any(e.pattern.match(route.path) for e in earlier)
            ):
                self._exact[key] = route
                continue
            earlier.append(entry)
        for method, entries in self._by_method.items():
            heads = {_head(e.literal) for e in entries} - {None}
            self._by_head[method] = {
                head: [e for e in entries if _head(e.literal) in (None, head)]
                for head in (*heads, None)
            }

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, path parameters, whether the path exists with another method)."""
        if method == "HEAD":
            method = "GET"
        exact = self._exact.get((method, path))
        if exact is not None:
            return exact, {}, False
        by_head = self._by_head.get(method)
        candidates = () if by_head is None else by_head.get(_head_of_path(path)) or by_head[None]
        for entry in candidates:
            if not path.startswith(entry.literal):
                continue
            found = entry.pattern.match(path)
            if found is None:
                continue
            params = found.groupdict()
            if not entry.as_text:
                params = {name: entry.convertors[name].convert(v) for name, v in params.items()}
            return entry.route, params, False
        return None, {}, self._other_method(method, path)

    def _other_method(self, method: str, path: str) -> bool:
        if any(m != method and p == path for m, p in self._exact):
            return True
        return any(
            path.startswith(entry.literal) and entry.pattern.match(path) is not None
            for other, entries in self._by_method.items()
            if other != method
            for entry in entries
        )
