"""Vault's ``auth/`` API: tokens, AppRole and userpass. The native routes already speak Vault's
shapes and paths, so most routes here are theirs under ``/v1``; token lookups and renewals answer
with Vault's token fields (Unix creation time, ``id``, ``type``)."""

from __future__ import annotations

from typing import Any

from strongroom.auth.entities import entity_id
from strongroom.auth.token_service import TokenRequest
from strongroom.auth.tokens import TokenInfo
from strongroom.durations import parse_duration
from strongroom.errors import BadRequest, NotFound, Unauthenticated
from strongroom.server.native.access import ACCESS_ROUTES
from strongroom.server.native.workload_auth import JWT_ROUTES, KUBERNETES_ROUTES
from strongroom.server.routes import Answer, Call, Handler, Route
from strongroom.server.vault.wire import (
    VaultForbidden,
    absent_is_empty,
    envelope,
    from_native,
    list_answer,
    writes,
)
from strongroom.types import format_time

__all__ = [
    "AUTH_ROUTES",
    "create",
    "create_orphan",
    "custom_secret_id",
    "list_accessors",
    "lookup",
    "lookup_accessor",
    "lookup_self",
    "renew",
    "renew_accessor",
    "renew_self",
    "revoke_accessor",
    "revoke_orphan",
    "tidy_secret_ids",
    "tidy_tokens",
    "token_data",
    "userpass_part",
    "write_role_id",
]

_NATIVE_PREFIX = "/api/v1/auth/"
# Native handlers that the Vault surface answers its own way.
_OWN = {"lookup_self", "lookup_other", "renew_self", "renew_other"}


def token_data(info: TokenInfo, now: float, uses_left: int, token: str = "") -> dict[str, Any]:
    remaining = max(0, int(info.expires - now)) if info.expires is not None else 0
    return {
        "accessor": info.accessor,
        "creation_time": int(info.created),
        "creation_ttl": int(info.ttl),
        "display_name": info.display_name,
        "entity_id": entity_id(info),
        "expire_time": format_time(info.expires) if info.expires is not None else None,
        "explicit_max_ttl": int(info.max_expires - info.created)
        if info.max_expires is not None
        else 0,
        "id": token,
        "issue_time": format_time(info.created),
        "meta": info.meta or None,
        "num_uses": uses_left,
        "orphan": info.orphan,
        "path": info.path,
        "period": int(info.period) if info.period else None,
        "policies": list(info.policies),
        "renewable": info.renewable,
        "role": info.role or None,
        "ttl": remaining,
        "type": "service",
    }


def _lookup_answer(call: Call, info: TokenInfo, token: str = "") -> Answer:
    registry = call.services.token_registry
    data = token_data(info, registry.now(), registry.uses_left(info), token)
    data["identity_policies"] = registry.identity_policies(info) or None
    return envelope(call, {k: v for k, v in data.items() if v is not None or k == "expire_time"})


def _auth_block(call: Call, info: TokenInfo, token: str) -> dict[str, Any]:
    added = call.services.token_registry.identity_policies(info)
    return {
        "client_token": token,
        "accessor": info.accessor,
        "policies": list(dict.fromkeys((*info.policies, *added))),
        "token_policies": list(info.policies),
        "identity_policies": added or None,
        "metadata": info.meta or None,
        "lease_duration": int(info.expires - info.created) if info.expires else 0,
        "renewable": info.renewable,
        "entity_id": entity_id(info),
        "token_type": "service",
        "orphan": info.orphan,
        "mfa_requirement": None,
        "num_uses": info.num_uses,
    }


def _token_arg(call: Call) -> tuple[Any, Any]:
    doc = call.json()
    return doc.get("token"), doc.get("accessor")


def lookup_self(call: Call) -> Answer:
    info = call.services.tokens.self_info(call.identity)
    return _lookup_answer(call, info, call.credential or "")


def lookup(call: Call) -> Answer:
    token, _ = _token_arg(call)
    if not isinstance(token, str) or not token:
        raise BadRequest("missing token to look up")
    try:
        info = call.services.tokens.target(call.identity, "lookup", token, None)
    except NotFound:
        raise VaultForbidden("bad token") from None
    return _lookup_answer(call, info, token)


def lookup_accessor(call: Call) -> Answer:
    _, accessor = _token_arg(call)
    if not isinstance(accessor, str) or not accessor:
        raise BadRequest("missing accessor")
    try:
        info = call.services.tokens.target(call.identity, "lookup-accessor", None, accessor)
    except NotFound:  # the caller may look up accessors: Vault's 400 for one that is not live
        raise BadRequest("invalid accessor") from None
    return _lookup_answer(call, info)


def renew_self(call: Call) -> Answer:
    increment = parse_duration(call.json().get("increment"), "increment")
    info = call.services.tokens.renew_self(call.identity, increment)
    return envelope(call, None, auth=_auth_block(call, info, call.credential or ""))


def renew(call: Call) -> Answer:
    doc = call.json()
    token = doc.get("token")
    if not isinstance(token, str) or not token:
        raise BadRequest("missing token")
    increment = parse_duration(doc.get("increment"), "increment")
    info = call.services.tokens.renew(call.identity, token, None, increment)
    return envelope(call, None, auth=_auth_block(call, info, token))


def renew_accessor(call: Call) -> Answer:
    doc = call.json()
    increment = parse_duration(doc.get("increment"), "increment")
    target = call.services.tokens.target(call.identity, "renew-accessor", None, doc.get("accessor"))
    info = call.services.token_registry.renew(target.accessor, increment)
    return envelope(call, None, auth=_auth_block(call, info, ""))


def revoke_accessor(call: Call) -> Answer:
    _, accessor = _token_arg(call)
    info = call.services.tokens.target(call.identity, "revoke-accessor", None, accessor)
    call.services.token_registry.revoke(info.accessor)
    return Answer.empty()


def revoke_orphan(call: Call) -> Answer:
    token, _ = _token_arg(call)
    call.services.tokens.revoke(call.identity, token, None, True)
    return Answer.empty()


def create_orphan(call: Call) -> Answer:
    doc = {**call.json(), "no_parent": True}
    request = TokenRequest.from_json(doc)
    token, info = call.services.tokens.create(call.identity, request, None, orphan_path=True)
    return envelope(call, None, auth=_auth_block(call, info, token))


def create(call: Call) -> Answer:
    request = TokenRequest.from_json(call.json())
    token, info = call.services.tokens.create(call.identity, request, call.params.get("role"))
    return envelope(call, None, auth=_auth_block(call, info, token))


def tidy_tokens(call: Call) -> Answer:
    removed = call.services.tokens.tidy(call.identity)
    answer = envelope(call, None, warnings=[f"Tidy operation removed {removed} dead tokens."])
    answer.status = 202
    return answer


def list_accessors(call: Call) -> Answer:
    return list_answer(call, call.services.tokens.list_accessors(call.identity))


# -- AppRole and userpass additions
def custom_secret_id(call: Call) -> Answer:
    data = call.services.approle.generate_secret_id(
        call.identity, call.params["name"], call.json(), custom=True
    )
    return envelope(call, data)


def write_role_id(call: Call) -> Answer:
    call.services.approle.set_role_id(
        call.identity, call.params["name"], call.json().get("role_id")
    )
    return Answer.empty()


def tidy_secret_ids(call: Call) -> Answer:
    removed = call.services.approle.tidy(call.identity)
    return envelope(call, None, warnings=[f"Tidy operation removed {removed} secret IDs."])


def userpass_part(part: str) -> Any:
    def handler(call: Call) -> Answer:
        call.services.userpass.update_user(call.identity, call.params["name"], part, call.json())
        return Answer.empty()

    handler.__name__ = f"userpass_{part}"
    return handler


_LOGIN_FAILED = {
    "userpass_login": "invalid username or password",
    "approle_login": "invalid role or secret ID",
    "jwt_login": "error validating token: the JWT is not valid for this role",
}


def _login(handler: Handler, message: str) -> Handler:
    """A failed login is Vault's 400 with its wording, not a 403: the request itself was let in
    (login paths are public) and its credentials were wrong."""

    def vault_login(call: Call) -> Answer:
        try:
            return handler(call)
        except Unauthenticated:
            raise BadRequest(message) from None

    vault_login.__name__ = handler.__name__
    return vault_login


def _from_native_routes() -> tuple[Route, ...]:
    """The native auth routes under /v1: their GET lists are Vault's LIST, and a POST is also
    a PUT (the Vault CLI writes with PUT)."""
    routes = []
    native = (*ACCESS_ROUTES, *JWT_ROUTES, *KUBERNETES_ROUTES)
    taken = {(r.method, r.path) for r in native}
    for route in native:
        name = route.handler.__name__
        if name in _OWN or name in ("create_token", "list_accessors"):
            continue
        methods = ["LIST" if name.startswith("list_") else route.method]
        if route.method == "POST" and ("PUT", route.path) not in taken:
            methods.append("PUT")
        operation = f"vault{route.operation[0].upper()}{route.operation[1:]}"
        handler = from_native(route.handler)
        if route.operation == "lookupSecretId":
            handler = absent_is_empty(handler)
        if name in _LOGIN_FAILED:
            handler = _login(handler, _LOGIN_FAILED[name])
        for method in methods:
            routes.append(
                Route(
                    method,
                    "/v1/auth/" + route.path.removeprefix(_NATIVE_PREFIX),
                    handler,
                    operation if method == methods[0] else f"{operation}Put",
                    route.summary,
                    public=route.public,
                )
            )
    return tuple(routes)


_T = "/v1/auth/token"
_A = "/v1/auth/approle/role/{name}"


AUTH_ROUTES = (
    Route("GET", f"{_T}/lookup-self", lookup_self, "vaultLookupSelf"),
    *writes(f"{_T}/lookup-self", lookup_self, "vaultLookupSelfPost"),
    *writes(f"{_T}/lookup", lookup, "vaultLookupToken"),
    *writes(f"{_T}/lookup-accessor", lookup_accessor, "vaultLookupAccessor"),
    *writes(f"{_T}/renew-self", renew_self, "vaultRenewSelf"),
    *writes(f"{_T}/renew", renew, "vaultRenewToken"),
    *writes(f"{_T}/renew-accessor", renew_accessor, "vaultRenewAccessor"),
    *writes(f"{_T}/revoke-accessor", revoke_accessor, "vaultRevokeAccessor"),
    *writes(f"{_T}/revoke-orphan", revoke_orphan, "vaultRevokeOrphan"),
    *writes(f"{_T}/create-orphan", create_orphan, "vaultCreateOrphan"),
    *writes(f"{_T}/create", create, "vaultCreateToken"),
    *writes(f"{_T}/create/{{role}}", create, "vaultCreateTokenRole"),
    Route("LIST", f"{_T}/accessors", list_accessors, "vaultListAccessors"),
    *writes(f"{_T}/tidy", tidy_tokens, "vaultTidyTokens"),
    *writes(f"{_A}/custom-secret-id", custom_secret_id, "vaultCustomSecretId"),
    *writes(f"{_A}/role-id", write_role_id, "vaultWriteRoleId"),
    *writes("/v1/auth/approle/tidy/secret-id", tidy_secret_ids, "vaultTidySecretIds"),
    *writes("/v1/auth/userpass/users/{name}/password", userpass_part("password"), "vaultPw"),
    *writes("/v1/auth/userpass/users/{name}/policies", userpass_part("policies"), "vaultPol"),
    *_from_native_routes(),
)
