"""Routes under /api/v1/sys: policies, capabilities, audit sinks, and the seal."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from strongroom.auth.identity import Identity
from strongroom.errors import BadRequest
from strongroom.runtime import Runtime
from strongroom.server.http import (
    body_int,
    client_address,
    identity_of,
    json_response,
    named_resource,
    node_of,
    read_json,
    runtime_of,
)

__all__ = ["sys_routes"]


# -- policies
async def list_policies(request: Request) -> Response:
    rt = runtime_of(request)
    return json_response({"keys": rt.system.list_policies(identity_of(request))})


async def capabilities_self(request: Request) -> Response:
    rt = runtime_of(request)
    identity = identity_of(request)
    doc = await read_json(request, rt.settings.limits)
    paths = doc.get("paths", [doc["path"]] if isinstance(doc.get("path"), str) else None)
    if not isinstance(paths, list):
        raise BadRequest('body must be {"paths": ["secret/app/db", ...]}')
    return json_response({"data": rt.system.capabilities(identity, paths)})


# -- audit
async def list_audit(request: Request) -> Response:
    rt = runtime_of(request)
    return json_response({"sinks": rt.system.audit_sinks(identity_of(request))})


async def verify_audit(request: Request) -> Response:
    rt = runtime_of(request)
    result = await run_in_threadpool(
        rt.system.verify_audit, identity_of(request), request.path_params["name"]
    )
    return json_response({"data": result.to_json()})


async def audit_hash(request: Request) -> Response:
    rt = runtime_of(request)
    identity = identity_of(request)
    doc = await read_json(request, rt.settings.limits)
    digest = rt.system.audit_hash(identity, request.path_params["name"], doc.get("input"))
    return json_response({"data": {"hash": digest}})


def _policy_text(rt: Runtime, identity: Identity, name: str) -> dict[str, Any]:
    found = rt.system.read_policy(identity, name)
    return {"name": found.name, "policy": found.text}


policy = named_resource(
    _policy_text,
    lambda rt, who, name, doc: rt.system.write_policy(who, name, doc.get("policy")),
    lambda rt, who, name: rt.system.delete_policy(who, name),
)
audit_sink = named_resource(
    None,
    lambda rt, who, name, doc: rt.system.enable_audit(who, name, doc.get("type")),
    lambda rt, who, name: rt.system.disable_audit(who, name),
)


# -- seal
async def seal_status(request: Request) -> Response:
    return json_response({"data": node_of(request).status().to_json()})


async def init(request: Request) -> Response:
    node = node_of(request)  # the audit layer charged this unauthenticated call already
    doc = await read_json(request, node.settings.limits)
    shares = body_int(doc, "shares") or 1
    threshold = body_int(doc, "threshold") or 1
    keys, token = await run_in_threadpool(node.initialize, shares, threshold)
    return json_response({"data": {"keys": keys, "root_token": token}})


async def unseal(request: Request) -> Response:
    node = node_of(request)  # the audit layer charged this unauthenticated call already
    doc = await read_json(request, node.settings.limits)
    status = await run_in_threadpool(
        node.unseal, doc.get("key"), doc.get("nonce", ""), client_address(request.scope)
    )
    return json_response({"data": status.to_json()})


async def seal(request: Request) -> Response:
    node = node_of(request)
    identity = identity_of(request)
    await run_in_threadpool(node.seal_as, identity)
    return Response(status_code=204)


async def rekey(request: Request) -> Response:
    node = node_of(request)
    identity = identity_of(request)
    if request.method == "DELETE":
        await run_in_threadpool(node.rekey_cancel_as, identity)
        return Response(status_code=204)
    doc = await read_json(request, node.settings.limits)
    result = await run_in_threadpool(
        node.rekey_as,
        identity,
        doc.get("keys", []),
        body_int(doc, "shares") or 1,
        body_int(doc, "threshold") or 1,
    )
    data = {"keys": result.keys, "nonce": result.nonce, "verification_required": bool(result.nonce)}
    return json_response({"data": data})


async def rekey_verify(request: Request) -> Response:
    node = node_of(request)
    identity = identity_of(request)
    doc = await read_json(request, node.settings.limits)
    await run_in_threadpool(node.rekey_verify_as, identity, doc.get("nonce"), doc.get("keys"))
    return json_response({"data": {"complete": True}})


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
        Route(f"{s}/rekey", rekey, methods=["POST", "DELETE"]),
        Route(f"{s}/rekey/verify", rekey_verify, methods=["POST"]),
    ]
