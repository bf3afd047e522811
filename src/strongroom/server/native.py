"""The native API under /api/v1: parse, call the service, render. No business logic here."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from strongroom.errors import BadRequest
from strongroom.limits import MAX_INTEGER, is_version
from strongroom.server.fastpath import read_secret_body
from strongroom.server.http import (
    body_int,
    identity_of,
    json_response,
    node_of,
    query_int,
    read_json,
    runtime_of,
)

__all__ = ["native_routes"]

Endpoint = Callable[[Request], Awaitable[Response]]


def _target(request: Request) -> tuple[str, str]:
    return request.path_params["namespace"], request.path_params["path"]


def _versions(doc: dict[str, Any]) -> list[int]:
    versions = doc.get("versions")
    if not isinstance(versions, list) or not versions:
        raise BadRequest('body must name versions: {"versions": [1, 2]}')
    if not all(is_version(v) for v in versions):
        raise BadRequest(f"versions must be integers from 1 to {MAX_INTEGER}")
    return versions


def _b64(doc: dict[str, Any], name: str) -> bytes:
    try:
        return base64.b64decode(str(doc.get(name, "")), validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f"{name!r} must be standard base64") from None


def _context(doc: dict[str, Any]) -> dict[str, str]:
    context = doc.get("context", {})
    if not isinstance(context, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in context.items()
    ):
        raise BadRequest("context must be an object of string values")
    return context


# -- secrets
async def read_secret(request: Request) -> Response:
    ns, path = _target(request)  # reached for HEAD; GET takes the fast path in front
    body = read_secret_body(node_of(request), request.scope, ns, path)
    return Response(body, media_type="application/json")


async def write_secret(request: Request) -> Response:
    ns, path = _target(request)
    rt = runtime_of(request)
    doc = await read_json(request, rt.settings.limits)
    if "data" not in doc:
        raise BadRequest('body must be {"data": {...}, "cas": N}')
    identity = identity_of(request)
    meta = await run_in_threadpool(
        rt.secrets.put, identity, ns, path, doc["data"], cas=body_int(doc, "cas")
    )
    return json_response(meta.to_json())


async def patch_secret(request: Request) -> Response:
    ns, path = _target(request)
    rt = runtime_of(request)
    doc = await read_json(request, rt.settings.limits)
    identity = identity_of(request)
    meta = await run_in_threadpool(
        rt.secrets.patch, identity, ns, path, doc.get("data"), cas=body_int(doc, "cas")
    )
    return json_response(meta.to_json())


async def delete_secret(request: Request) -> Response:
    ns, path = _target(request)
    rt = runtime_of(request)
    await run_in_threadpool(rt.secrets.delete, identity_of(request), ns, path)
    return Response(status_code=204)


def _versions_action(action: str) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        ns, path = _target(request)
        rt = runtime_of(request)
        doc = await read_json(request, rt.settings.limits)
        method = getattr(rt.secrets, action)
        await run_in_threadpool(method, identity_of(request), ns, path, _versions(doc))
        return Response(status_code=204)

    endpoint.__name__ = f"{action}_versions"
    return endpoint


async def rollback_secret(request: Request) -> Response:
    ns, path = _target(request)
    rt = runtime_of(request)
    doc = await read_json(request, rt.settings.limits)
    version = body_int(doc, "version")
    if not version:
        raise BadRequest('body must be {"version": N}')
    meta = await run_in_threadpool(rt.secrets.rollback, identity_of(request), ns, path, version)
    return json_response(meta.to_json())


async def read_metadata(request: Request) -> Response:
    ns, path = _target(request)
    return json_response(
        runtime_of(request).secrets.metadata(identity_of(request), ns, path).to_json()
    )


async def write_metadata(request: Request) -> Response:
    ns, path = _target(request)
    rt = runtime_of(request)
    doc = await read_json(request, rt.settings.limits)
    cas_required = doc.get("cas_required")
    if cas_required is not None and not isinstance(cas_required, bool):
        raise BadRequest("cas_required must be true or false")
    meta = await run_in_threadpool(
        rt.secrets.write_metadata,
        identity_of(request),
        ns,
        path,
        max_versions=body_int(doc, "max_versions"),
        cas_required=cas_required,
        custom_metadata=doc.get("custom_metadata"),
    )
    return json_response(meta.to_json()) if meta is not None else Response(status_code=204)


async def delete_metadata(request: Request) -> Response:
    ns, path = _target(request)
    await run_in_threadpool(runtime_of(request).secrets.delete_all, identity_of(request), ns, path)
    return Response(status_code=204)


async def list_secrets(request: Request) -> Response:
    ns = request.path_params["namespace"]
    prefix = request.path_params.get("path", "")
    rt = runtime_of(request)
    identity = identity_of(request)
    if request.query_params.get("recursive") in ("true", "1"):
        keys, cursor = rt.secrets.list_recursive(
            identity,
            ns,
            prefix,
            after=request.query_params.get("after", ""),
            limit=query_int(request, "limit", 1000) or 1000,
        )
        return json_response({"keys": keys, "next": cursor})
    return json_response({"keys": rt.secrets.list_keys(identity, ns, prefix), "next": ""})


async def search_secrets(request: Request) -> Response:
    ns = request.path_params["namespace"]
    params = request.query_params
    metadata: dict[str, str] = {}
    for pair in params.getlist("metadata"):
        key, sep, value = pair.partition("=")
        if not sep:
            raise BadRequest("metadata filters are key=value")
        metadata[key] = value
    paths, cursor = runtime_of(request).secrets.search(
        identity_of(request),
        ns,
        prefix=params.get("prefix", ""),
        name=params.get("name", ""),
        metadata=metadata,
        limit=query_int(request, "limit", 1000) or 1000,
        after=params.get("after", ""),
    )
    return json_response({"keys": paths, "next": cursor})


# -- namespaces and keys
async def list_namespaces(request: Request) -> Response:
    items = runtime_of(request).namespaces.list_namespaces(identity_of(request))
    return json_response({"namespaces": [n.to_json() for n in items]})


async def create_namespace(request: Request) -> Response:
    rt = runtime_of(request)
    doc = await read_json(request, rt.settings.limits)
    name = doc.get("name")
    if not isinstance(name, str):
        raise BadRequest('body must be {"name": "..."}')
    info = await run_in_threadpool(rt.namespaces.create, identity_of(request), name)
    return json_response(info.to_json(), 201)


async def read_namespace(request: Request) -> Response:
    info = runtime_of(request).namespaces.get(
        identity_of(request), request.path_params["namespace"]
    )
    return json_response(info.to_json())


async def delete_namespace(request: Request) -> Response:
    rt = runtime_of(request)
    await run_in_threadpool(
        rt.namespaces.delete, identity_of(request), request.path_params["namespace"]
    )
    return Response(status_code=204)


async def key_status(request: Request) -> Response:
    ns = request.path_params["namespace"]
    terms = await run_in_threadpool(runtime_of(request).namespaces.status, identity_of(request), ns)
    return json_response({"namespace": ns, "terms": [t.to_json() for t in terms]})


async def rotate_keys(request: Request) -> Response:
    rt = runtime_of(request)
    info = await run_in_threadpool(
        rt.namespaces.rotate, identity_of(request), request.path_params["namespace"]
    )
    return json_response(info.to_json())


async def rewrap_keys(request: Request) -> Response:
    rt = runtime_of(request)
    doc = await read_json(request, rt.settings.limits)
    progress = await run_in_threadpool(
        lambda: rt.namespaces.rewrap(
            identity_of(request),
            request.path_params["namespace"],
            batch_size=body_int(doc, "batch_size") or 500,
            pause=node_of(request).requests.pause_if_busy,
        )
    )
    return json_response(progress.to_json())


async def generate_data_key(request: Request) -> Response:
    rt = runtime_of(request)
    doc = await read_json(request, rt.settings.limits)
    key = rt.datakeys.generate(
        identity_of(request), request.path_params["namespace"], _context(doc)
    )
    return json_response(
        {
            "key_ref": key.key_ref,
            "wrapped": base64.b64encode(key.wrapped).decode(),
            "plaintext": base64.b64encode(key.plaintext).decode(),
        }
    )


async def decrypt_data_key(request: Request) -> Response:
    rt = runtime_of(request)
    doc = await read_json(request, rt.settings.limits)
    key_ref = doc.get("key_ref")
    if not isinstance(key_ref, str):
        raise BadRequest('body must be {"key_ref": str, "wrapped": base64, "context": {...}}')
    plaintext = rt.datakeys.decrypt(
        identity_of(request),
        request.path_params["namespace"],
        key_ref,
        _b64(doc, "wrapped"),
        _context(doc),
    )
    return json_response({"plaintext": base64.b64encode(plaintext).decode()})


def native_routes() -> list[Route]:
    p = "/api/v1"
    s = "/{namespace}/{path:path}"
    return [
        Route(f"{p}/secrets{s}", read_secret, methods=["GET"]),
        Route(f"{p}/secrets{s}", write_secret, methods=["PUT", "POST"]),
        Route(f"{p}/secrets{s}", patch_secret, methods=["PATCH"]),
        Route(f"{p}/secrets{s}", delete_secret, methods=["DELETE"]),
        Route(f"{p}/delete{s}", _versions_action("delete"), methods=["POST"]),
        Route(f"{p}/undelete{s}", _versions_action("undelete"), methods=["POST"]),
        Route(f"{p}/destroy{s}", _versions_action("destroy"), methods=["POST"]),
        Route(f"{p}/rollback{s}", rollback_secret, methods=["POST"]),
        Route(f"{p}/metadata{s}", read_metadata, methods=["GET"]),
        Route(f"{p}/metadata{s}", write_metadata, methods=["PUT", "POST"]),
        Route(f"{p}/metadata{s}", delete_metadata, methods=["DELETE"]),
        Route(f"{p}/list/{{namespace}}", list_secrets, methods=["GET"]),
        Route(f"{p}/list{s}", list_secrets, methods=["GET"]),
        Route(f"{p}/search/{{namespace}}", search_secrets, methods=["GET"]),
        Route(f"{p}/namespaces", list_namespaces, methods=["GET"]),
        Route(f"{p}/namespaces", create_namespace, methods=["POST"]),
        Route(f"{p}/namespaces/{{namespace}}", read_namespace, methods=["GET"]),
        Route(f"{p}/namespaces/{{namespace}}", delete_namespace, methods=["DELETE"]),
        Route(f"{p}/namespaces/{{namespace}}/keys", key_status, methods=["GET"]),
        Route(f"{p}/namespaces/{{namespace}}/keys/rotate", rotate_keys, methods=["POST"]),
        Route(f"{p}/namespaces/{{namespace}}/keys/rewrap", rewrap_keys, methods=["POST"]),
        Route(f"{p}/namespaces/{{namespace}}/datakey", generate_data_key, methods=["POST"]),
        Route(f"{p}/namespaces/{{namespace}}/datakey/decrypt", decrypt_data_key, methods=["POST"]),
    ]
