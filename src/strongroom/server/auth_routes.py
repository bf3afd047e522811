"""Routes under /api/v1/auth: tokens, token roles, AppRole and userpass (Vault's paths)."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from strongroom.auth.token_service import TokenRequest
from strongroom.auth.tokens import TokenInfo
from strongroom.durations import parse_duration
from strongroom.errors import BadRequest
from strongroom.runtime import Runtime
from strongroom.server.http import (
    client_address,
    identity_of,
    json_response,
    named_resource,
    node_of,
    read_json,
    runtime_of,
)

__all__ = ["auth_routes"]


def _auth_body(rt: Runtime, token: str, info: TokenInfo) -> dict[str, Any]:
    """Vault's ``auth`` block: the new token and what it carries."""
    return {
        "auth": {
            "client_token": token,
            "accessor": info.accessor,
            "policies": list(info.policies),
            "token_policies": list(info.policies),
            "metadata": info.meta,
            "lease_duration": int(info.expires - info.created) if info.expires else 0,
            "renewable": info.renewable,
            "orphan": info.orphan,
            "num_uses": info.num_uses,
        }
    }


def _info_body(rt: Runtime, info: TokenInfo) -> dict[str, Any]:
    return {"data": info.to_json(rt.tokens.now(), rt.tokens.uses_left(info))}


# -- tokens
async def create_token(request: Request) -> Response:
    rt = runtime_of(request)
    identity = identity_of(request)
    doc = await read_json(request, rt.settings.limits)
    role = request.path_params.get("role")
    token, info = await run_in_threadpool(
        rt.token_service.create, identity, TokenRequest.from_json(doc), role
    )
    return json_response(_auth_body(rt, token, info), 200)


async def lookup_self(request: Request) -> Response:
    rt = runtime_of(request)
    return json_response(_info_body(rt, rt.token_service.self_info(identity_of(request))))


async def lookup_other(request: Request) -> Response:
    rt = runtime_of(request)
    identity = identity_of(request)
    doc = await read_json(request, rt.settings.limits)
    info = rt.token_service.target(identity, "lookup", doc.get("token"), doc.get("accessor"))
    return json_response(_info_body(rt, info))


async def renew_self(request: Request) -> Response:
    rt = runtime_of(request)
    identity = identity_of(request)
    doc = await read_json(request, rt.settings.limits)
    info = rt.token_service.renew_self(identity, parse_duration(doc.get("increment"), "increment"))
    return json_response(_info_body(rt, info))


async def renew_other(request: Request) -> Response:
    rt = runtime_of(request)
    identity = identity_of(request)
    doc = await read_json(request, rt.settings.limits)
    renewed = rt.token_service.renew(
        identity,
        doc.get("token"),
        doc.get("accessor"),
        parse_duration(doc.get("increment"), "increment"),
    )
    return json_response(_info_body(rt, renewed))


async def revoke_self(request: Request) -> Response:
    rt = runtime_of(request)
    await run_in_threadpool(rt.token_service.revoke_self, identity_of(request))
    return Response(status_code=204)


async def revoke_other(request: Request) -> Response:
    rt = runtime_of(request)
    identity = identity_of(request)
    doc = await read_json(request, rt.settings.limits)
    await run_in_threadpool(
        rt.token_service.revoke,
        identity,
        doc.get("token"),
        doc.get("accessor"),
        doc.get("orphan_children") is True,
    )
    return Response(status_code=204)


async def list_accessors(request: Request) -> Response:
    rt = runtime_of(request)
    return json_response({"keys": rt.token_service.list_accessors(identity_of(request))})


async def list_token_roles(request: Request) -> Response:
    rt = runtime_of(request)
    return json_response({"keys": rt.token_service.list_roles(identity_of(request))})


# -- AppRole


async def list_approle_roles(request: Request) -> Response:
    rt = runtime_of(request)
    return json_response({"keys": rt.approle.list_roles(identity_of(request))})


async def approle_role_id(request: Request) -> Response:
    rt = runtime_of(request)
    role_id = rt.approle.role_id(identity_of(request), request.path_params["name"])
    return json_response({"data": {"role_id": role_id}})


async def approle_secret_id(request: Request) -> Response:
    rt = runtime_of(request)
    identity = identity_of(request)
    name = request.path_params["name"]
    if request.method == "GET":
        return json_response({"keys": rt.approle.list_secret_ids(identity, name)})
    doc = await read_json(request, rt.settings.limits)
    return json_response({"data": rt.approle.generate_secret_id(identity, name, doc)})


def _secret_id_action(action: str, by_accessor: bool) -> Any:
    async def endpoint(request: Request) -> Response:
        rt = runtime_of(request)
        identity = identity_of(request)
        doc = await read_json(request, rt.settings.limits)
        value = doc.get("secret_id_accessor" if by_accessor else "secret_id")
        if not isinstance(value, str) or not value:
            field = "secret_id_accessor" if by_accessor else "secret_id"
            raise BadRequest(f'body must be {{"{field}": "..."}}')
        named = {"accessor": value} if by_accessor else {"secret_id": value}
        name = request.path_params["name"]
        if action == "lookup":
            return json_response({"data": rt.approle.lookup_secret_id(identity, name, **named)})
        rt.approle.destroy_secret_id(identity, name, **named)
        return Response(status_code=204)

    endpoint.__name__ = f"secret_id_{action}{'_by_accessor' if by_accessor else ''}"
    return endpoint


async def approle_login(request: Request) -> Response:
    # The audit layer charged this unauthenticated request to its address's budget already.
    rt = node_of(request).require_runtime()
    doc = await read_json(request, rt.settings.limits)
    token, info = await run_in_threadpool(
        rt.approle.login,
        doc.get("role_id"),
        doc.get("secret_id", ""),
        client_address(request.scope),
    )
    return json_response(_auth_body(rt, token, info))


# -- userpass


async def list_userpass_users(request: Request) -> Response:
    rt = runtime_of(request)
    return json_response({"keys": rt.userpass.list_users(identity_of(request))})


async def userpass_login(request: Request) -> Response:
    rt = node_of(request).require_runtime()
    doc = await read_json(request, rt.settings.limits)
    token, info = await run_in_threadpool(rt.userpass.login, request.path_params["name"], doc)
    return json_response(_auth_body(rt, token, info))


token_role = named_resource(
    lambda rt, who, name: rt.token_service.read_role(who, name),
    lambda rt, who, name, doc: rt.token_service.write_role(who, name, doc),
    lambda rt, who, name: rt.token_service.delete_role(who, name),
)
approle_role = named_resource(
    lambda rt, who, name: rt.approle.read_role(who, name),
    lambda rt, who, name, doc: rt.approle.write_role(who, name, doc),
    lambda rt, who, name: rt.approle.delete_role(who, name),
)
userpass_user = named_resource(
    lambda rt, who, name: rt.userpass.read_user(who, name),
    lambda rt, who, name, doc: rt.userpass.write_user(who, name, doc),
    lambda rt, who, name: rt.userpass.delete_user(who, name),
)


def auth_routes() -> list[Route]:
    t = "/api/v1/auth/token"
    a = "/api/v1/auth/approle"
    u = "/api/v1/auth/userpass"
    return [
        Route(f"{t}/create", create_token, methods=["POST"]),
        Route(f"{t}/create/{{role}}", create_token, methods=["POST"]),
        Route(f"{t}/lookup-self", lookup_self, methods=["GET"]),
        Route(f"{t}/lookup", lookup_other, methods=["POST"]),
        Route(f"{t}/renew-self", renew_self, methods=["POST"]),
        Route(f"{t}/renew", renew_other, methods=["POST"]),
        Route(f"{t}/revoke-self", revoke_self, methods=["POST"]),
        Route(f"{t}/revoke", revoke_other, methods=["POST"]),
        Route(f"{t}/accessors", list_accessors, methods=["GET"]),
        Route(f"{t}/roles", list_token_roles, methods=["GET"]),
        Route(f"{t}/roles/{{name}}", token_role, methods=["GET", "PUT", "POST", "DELETE"]),
        Route(f"{a}/role", list_approle_roles, methods=["GET"]),
        Route(f"{a}/role/{{name}}", approle_role, methods=["GET", "PUT", "POST", "DELETE"]),
        Route(f"{a}/role/{{name}}/role-id", approle_role_id, methods=["GET"]),
        Route(f"{a}/role/{{name}}/secret-id", approle_secret_id, methods=["GET", "POST"]),
        Route(
            f"{a}/role/{{name}}/secret-id/lookup",
            _secret_id_action("lookup", False),
            methods=["POST"],
        ),
        Route(
            f"{a}/role/{{name}}/secret-id/destroy",
            _secret_id_action("destroy", False),
            methods=["POST"],
        ),
        Route(
            f"{a}/role/{{name}}/secret-id-accessor/lookup",
            _secret_id_action("lookup", True),
            methods=["POST"],
        ),
        Route(
            f"{a}/role/{{name}}/secret-id-accessor/destroy",
            _secret_id_action("destroy", True),
            methods=["POST"],
        ),
        Route(f"{a}/login", approle_login, methods=["POST"]),
        Route(f"{u}/users", list_userpass_users, methods=["GET"]),
        Route(f"{u}/users/{{name}}", userpass_user, methods=["GET", "PUT", "POST", "DELETE"]),
        Route(f"{u}/login/{{name}}", userpass_login, methods=["POST"]),
    ]
