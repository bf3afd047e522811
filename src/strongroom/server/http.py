"""Request parsing and response rendering shared by the native routes: body limits, JSON depth,
tokens, and the one error shape ``{"error": {"code", "message"}, "request_id"}``."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from strongroom.auth import Identity
from strongroom.errors import (
    BadRequest,
    LimitExceeded,
    PayloadTooLarge,
    StrongroomError,
    Unauthenticated,
)
from strongroom.jsondata import check_json
from strongroom.limits import MAX_INTEGER, Limits

if TYPE_CHECKING:
    from strongroom.runtime import Runtime
    from strongroom.server.node import Node

__all__ = [
    "OPERATION",
    "RESPONSE_DOC",
    "error_response",
    "json_response",
    "needs_token",
    "parse_query_int",
    "query_int",
    "read_json",
    "request_token",
    "token_from_headers",
]

_JSON = "application/json"
RESPONSE_DOC = "strongroom.response_doc"  # scope key: the JSON document of a successful answer
OPERATION = "strongroom.operation"  # scope key: the route template of a route outside Starlette


def new_request_id() -> str:
    raw = os.urandom(16).hex()
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


def request_id_of(scope: Scope) -> str | None:
    """The id the audit layer gave this request, so error bodies and audit entries match."""
    value = scope.get("strongroom.request_id")
    return value if isinstance(value, str) else None


# Answers carry secrets and tokens: no browser, proxy or CDN may keep a copy.
NO_STORE = {"Cache-Control": "no-store"}


def json_response(doc: Any, status: int = 200) -> Response:
    body = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return Response(body, status_code=status, media_type=_JSON, headers=NO_STORE)


def error_response(exc: StrongroomError, request_id: str | None = None) -> Response:
    error: dict[str, Any] = {"code": exc.code, "message": exc.message, **exc.details}
    doc = {"error": error, "request_id": request_id or new_request_id()}
    response = json_response(doc, exc.http_status)
    if exc.http_status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="strongroom"'
    return response


async def read_json(request: Request, limits: Limits) -> dict[str, Any]:
    """The request body as a JSON object, within the body-size and depth limits."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise BadRequest("invalid Content-Length header")
        if int(declared) > limits.max_body_bytes:
            raise PayloadTooLarge(f"request body is larger than {limits.max_body_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limits.max_body_bytes:
            raise PayloadTooLarge(f"request body is larger than {limits.max_body_bytes} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw:
        return {}
    try:
        doc = json.loads(raw)
    except RecursionError:
        raise LimitExceeded(f"JSON is nested deeper than {limits.max_json_depth} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        where = (
            f" at line {exc.lineno} column {exc.colno}"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        raise BadRequest(f"request body is not valid JSON{where}") from None
    if not isinstance(doc, dict):
        raise BadRequest("request body must be a JSON object")
    check_json(doc, limits.max_json_depth + 2)
    return doc


def token_from_headers(headers: Sequence[tuple[bytes, bytes]]) -> str | None:
    """The bearer token (or X-Strongroom-Token) from ASGI headers, which are lowercase."""
    fallback = None
    for name, value in headers:
        if name == b"authorization" and value[:7].lower() == b"bearer ":
            return value[7:].strip().decode("latin-1")
        if name == b"x-strongroom-token":
            fallback = value.decode("latin-1")
    return fallback


def request_token(request: Request) -> str | None:
    return token_from_headers(request.scope["headers"])


def parse_query_int(raw: str, name: str) -> int:
    """ASCII digits only (superscripts and other scripts' digits pass str.isdigit), up to
    MAX_INTEGER."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or int(raw) > MAX_INTEGER:
        raise BadRequest(f"query parameter {name!r} must be an integer from 0 to {MAX_INTEGER}")
    return int(raw)


def query_int(request: Request, name: str, default: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    return parse_query_int(raw, name)


def body_int(doc: dict[str, Any], name: str) -> int | None:
    value = doc.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INTEGER:
        raise BadRequest(f"{name!r} must be an integer from 0 to {MAX_INTEGER}")
    return value


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


def authenticate_scope(node: Node, scope: Scope) -> Identity:
    """The identity of a request's token. A request without a valid token spends its client
    address's budget of unauthenticated requests (429 when spent)."""
    known = scope.get("strongroom.identity")
    if isinstance(known, Identity):
        return known  # the audit layer's gate authenticated it already
    runtime = node.require_runtime()
    try:
        identity = runtime.tokens.authenticate(token_from_headers(scope["headers"]))
    except Unauthenticated:
        node.limiter.hit(client_address(scope))
        raise
    scope["strongroom.identity"] = identity  # for the audit entry of the response
    return identity


# The only API paths a request may reach without a token; everything else is authenticated before
# routing, so a new route is closed unless it is added here (and to openapi_access.UNAUTHENTICATED).
_PUBLIC_PATHS = frozenset(
    {
        "/api/v1/openapi.json",
        "/api/v1/sys/seal-status",
        "/api/v1/sys/init",
        "/api/v1/sys/unseal",
        "/api/v1/auth/approle/login",
    }
)
_PUBLIC_PREFIXES = ("/api/v1/auth/userpass/login/",)


def needs_token(path: str) -> bool:
    """Whether a request path must carry a valid token before anything else looks at it."""
    if not path.startswith("/api/"):
        return False
    return path not in _PUBLIC_PATHS and not path.startswith(_PUBLIC_PREFIXES)


def identity_of(request: Request) -> Identity:
    identity = request.scope.get("strongroom.identity")
    if isinstance(identity, Identity):
        return identity
    return authenticate_scope(node_of(request), request.scope)


def node_of(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def runtime_of(request: Request) -> Runtime:
    """The unsealed runtime, or Sealed (503)."""
    return node_of(request).require_runtime()


def named_resource(
    read: Callable[[Runtime, Identity, str], dict[str, Any]] | None,
    write: Callable[[Runtime, Identity, str, dict[str, Any]], object],
    delete: Callable[[Runtime, Identity, str], object],
) -> Callable[[Request], Awaitable[Response]]:
    """One endpoint for GET (``{"data": read()}``), PUT/POST and DELETE of ``…/{name}``."""

    async def endpoint(request: Request) -> Response:
        rt = runtime_of(request)
        identity = identity_of(request)
        name = request.path_params["name"]
        if request.method == "GET" and read is not None:
            return json_response({"data": read(rt, identity, name)})
        if request.method == "DELETE":
            await run_in_threadpool(delete, rt, identity, name)
        else:
            doc = await read_json(request, rt.settings.limits)
            await run_in_threadpool(write, rt, identity, name, doc)
        return Response(status_code=204)

    return endpoint
