"""Routes under /api/v1/sys: policies, capabilities, audit sinks, and the seal."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from strongroom.errors import BadRequest
from strongroom.runtime import Runtime
from strongroom.server.http import (
    body_int,
    client_address,
    identity_of,
    json_response,
    read_json,
)
from strongroom.server.node import Node

__all__ = ["sys_routes"]


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def _rt(request: Request) -> Runtime:
    return _node(request).require_runtime()


# -- policies
async def list_policies(request: Request) -> Response:
    rt = _rt(request)
    return json_response({"keys": rt.system.list_policies(identity_of(request))})


async def policy(request: Request) -> Response:
    rt = _rt(request)
    identity = identity_of(request)
    name = request.path_params["name"]
    if request.method == "GET":
        found = rt.system.read_policy(identity, name)
        return json_response({"data": {"name": found.name, "policy": found.text}})
    if request.method == "DELETE":
        rt.system.delete_policy(identity, name)
        return Response(status_code=204)
    doc = await read_json(request, rt.settings.limits)
    rt.system.write_policy(identity, name, doc.get("policy"))
    return Response(status_code=204)


async def capabilities_self(request: Request) -> Response:
    rt = _rt(request)
    identity = identity_of(request)
    doc = await read_json(request, rt.settings.limits)
    paths = doc.get("paths", [doc["path"]] if isinstance(doc.get("path"), str) else None)
    if not isinstance(paths, list):
        raise BadRequest('body must be {"paths": ["secret/app/db", ...]}')
    return json_response({"data": rt.system.capabilities(identity, paths)})


# -- audit
async def list_audit(request: Request) -> Response:
    rt = _rt(request)
    return json_response({"sinks": rt.system.audit_sinks(identity_of(request))})


async def audit_sink(request: Request) -> Response:
    rt = _rt(request)
    identity = identity_of(request)
    name = request.path_params["name"]
    if request.method == "DELETE":
        rt.system.disable_audit(identity, name)
        return Response(status_code=204)
    doc = await read_json(request, rt.settings.limits)
    rt.system.enable_audit(identity, name, doc.get("type"))
    return Response(status_code=204)


async def verify_audit(request: Request) -> Response:
    rt = _rt(request)
    result = await run_in_threadpool(
        rt.system.verify_audit, identity_of(request), request.path_params["name"]
    )
    return json_response({"data": result.to_json()})


async def audit_hash(request: Request) -> Response:
    rt = _rt(request)
    identity = identity_of(request)
    doc = await read_json(request, rt.settings.limits)
    digest = rt.system.audit_hash(identity, request.path_params["name"], doc.get("input"))
    return json_response({"data": {"hash": digest}})


# -- seal
async def seal_status(request: Request) -> Response:
    return json_response({"data": _node(request).status().to_json()})


async def init(request: Request) -> Response:
    node = _node(request)
    node.limiter.hit(client_address(request.scope))
    doc = await read_json(request, node.settings.limits)
    shares = body_int(doc, "shares") or 1
    threshold = body_int(doc, "threshold") or 1
    keys, token = await run_in_threadpool(node.initialize, shares, threshold)
    return json_response({"data": {"keys": keys, "root_token": token}})


async def unseal(request: Request) -> Response:
    node = _node(request)
    node.limiter.hit(client_address(request.scope))
    doc = await read_json(request, node.settings.limits)
    status = await run_in_threadpool(node.unseal, doc.get("key"))
    return json_response({"data": status.to_json()})


async def seal(request: Request) -> Response:
    node = _node(request)
    identity = identity_of(request)
    await run_in_threadpool(node.seal_as, identity)
    return Response(status_code=204)


async def rekey(request: Request) -> Response:
    node = _node(request)
    identity = identity_of(request)
    doc = await read_json(request, node.settings.limits)
    keys = await run_in_threadpool(
        node.rekey_as,
        identity,
        doc.get("keys", []),
        body_int(doc, "shares") or 1,
        body_int(doc, "threshold") or 1,
    )
    return json_response({"data": {"keys": keys}})


def sys_routes() -> list[Route]:
    s = "/api/v1/sys"
    return [
        Route(f"{s}/policies/acl", list_policies, methods=["GET"]),
        Route(f"{s}/policies/acl/{{name}}", policy, methods=["GET", "PUT", "POST", "DELETE"]),
        Route(f"{s}/capabilities-self", capabilities_self, methods=["POST"]),
        Route(f"{s}/audit", list_audit, methods=["GET"]),
        Route(f"{s}/audit/{{name}}", audit_sink, methods=["PUT", "POST", "DELETE"]),
        Route(f"{s}/audit/{{name}}/verify", verify_audit, methods=["POST"]),
        Route(f"{s}/audit-hash/{{name}}", audit_hash, methods=["POST"]),
        Route(f"{s}/seal-status", seal_status, methods=["GET"]),
        Route(f"{s}/init", init, methods=["POST"]),
        Route(f"{s}/unseal", unseal, methods=["POST"]),
        Route(f"{s}/seal", seal, methods=["POST"]),
        Route(f"{s}/rekey", rekey, methods=["POST"]),
    ]
