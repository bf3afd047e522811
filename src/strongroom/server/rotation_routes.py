"""Routes of rotation, staging labels, passwords, key lifecycle and metrics."""

from __future__ import annotations

from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from strongroom.durations import parse_duration
from strongroom.errors import BadRequest
from strongroom.rotation.passwords import PasswordPolicy, generate_password
from strongroom.server.http import (
    body_int,
    identity_of,
    json_response,
    node_of,
    read_json,
    runtime_of,
)

__all__ = ["rotation_routes"]

_S = "/{namespace}/{path:path}"


def _secret(request: Request) -> tuple[str, str]:
    return request.path_params["namespace"], request.path_params["path"]


def _optional_str(doc: dict[str, Any], name: str) -> str | None:
    value = doc.get(name)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{name!r} must be a string")
    return value


async def rotation_config(request: Request) -> Response:
    rt = runtime_of(request)
    identity = identity_of(request)
    namespace, path = _secret(request)
    if request.method == "GET":
        return json_response({"data": rt.rotation.status(identity, namespace, path)})
    if request.method == "DELETE":
        rt.rotation.remove(identity, namespace, path)
        return Response(status_code=204)
    doc = await read_json(request, rt.settings.limits)
    rotator = doc.get("rotator")
    if not isinstance(rotator, str):
        raise BadRequest('body must name a "rotator" (random, postgres, webhook, …)')
    params = doc.get("params", {})
    if not isinstance(params, dict):
        raise BadRequest("params must be a JSON object")
    described = await run_in_threadpool(
        lambda: rt.rotation.configure(
            identity,
            namespace,
            path,
            rotator=rotator,
            params=params,
            interval=parse_duration(doc.get("interval"), "interval"),
            cron=_optional_str(doc, "cron"),
            expire_after=parse_duration(doc.get("expire_after"), "expire_after"),
            notify_url=_optional_str(doc, "notify_url"),
            notify_secret=_optional_str(doc, "notify_secret"),
        )
    )
    return json_response({"data": described})


async def rotate_now(request: Request) -> Response:
    rt = runtime_of(request)
    identity = identity_of(request)
    namespace, path = _secret(request)
    result = await run_in_threadpool(rt.rotation.rotate_now, identity, namespace, path)
    return json_response({"data": result.to_json()})


async def rotation_cancel(request: Request) -> Response:
    rt = runtime_of(request)
    namespace, path = _secret(request)
    cancelled = await run_in_threadpool(rt.rotation.cancel, identity_of(request), namespace, path)
    return json_response({"data": {"cancelled": cancelled}})


async def list_rotations(request: Request) -> Response:
    rt = runtime_of(request)
    return json_response({"data": rt.rotation.configured(identity_of(request))})


async def set_label(request: Request) -> Response:
    rt = runtime_of(request)
    namespace, path = _secret(request)
    doc = await read_json(request, rt.settings.limits)
    label = doc.get("label")
    if not isinstance(label, str):
        raise BadRequest('body must be {"label": "name", "version": N} (version null removes it)')
    version = body_int(doc, "version")
    labels = rt.secrets.set_label(identity_of(request), namespace, path, label, version)
    return json_response({"data": {"labels": labels}})


async def random_password(request: Request) -> Response:
    rt = runtime_of(request)
    identity_of(request)  # any valid token may ask: the answer depends on nothing stored
    doc = await read_json(request, rt.settings.limits)
    policy = PasswordPolicy.from_json(doc)
    return json_response(
        {"data": {"password": generate_password(policy), "entropy_bits": policy.entropy_bits}}
    )


async def retire_term(request: Request) -> Response:
    rt = runtime_of(request)
    doc = await read_json(request, rt.settings.limits)
    number = body_int(doc, "term")
    if number is None:
        raise BadRequest('body must be {"term": N}')
    info = rt.namespaces.retire(identity_of(request), request.path_params["namespace"], number)
    return json_response({"data": info.to_json()})


async def rotate_root(request: Request) -> Response:
    rt = runtime_of(request)
    identity = identity_of(request)
    doc = await read_json(request, rt.settings.limits)
    if doc.get("rewrap_only"):
        result = await run_in_threadpool(rt.namespaces.rewrap_root, identity)
    else:
        result = await run_in_threadpool(rt.namespaces.rotate_root, identity, rt.provider)
    return json_response({"data": result})


async def metrics(request: Request) -> Response:
    node = node_of(request)
    identity_of(request).require("read", "sys/metrics")
    body = await run_in_threadpool(node.metrics.render)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def rotation_routes() -> list[Route]:
    p = "/api/v1"
    return [
        Route(f"{p}/rotation", list_rotations, methods=["GET"]),
        Route(f"{p}/rotation/config{_S}", rotation_config, methods=["GET", "PUT", "DELETE"]),
        Route(f"{p}/rotation/run{_S}", rotate_now, methods=["POST"]),
        Route(f"{p}/rotation/cancel{_S}", rotation_cancel, methods=["POST"]),
        Route(f"{p}/labels{_S}", set_label, methods=["POST"]),
        Route(f"{p}/sys/tools/password", random_password, methods=["POST"]),
        Route(f"{p}/namespaces/{{namespace}}/keys/retire", retire_term, methods=["POST"]),
        Route(f"{p}/sys/kms/rotate-root", rotate_root, methods=["POST"]),
        Route(f"{p}/sys/metrics", metrics, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),  # where Prometheus looks by default
    ]
