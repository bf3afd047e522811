"""Native routes of authentication: tokens, token roles, AppRole and userpass (Vault's paths)."""

from __future__ import annotations

from collections.abc import Callable

from strongroom.auth.entities import entity_id
from strongroom.auth.records import shown
from strongroom.auth.token_service import TokenRequest
from strongroom.auth.tokens import TokenInfo
from strongroom.durations import parse_duration
from strongroom.errors import BadRequest
from strongroom.server.native.resources import named_resource
from strongroom.server.native.schemas import DURATION, INT, STR, STRS, object_schema
from strongroom.server.routes import Answer, Call, Route

__all__ = [
    "ACCESS_ROUTES",
    "approle_login",
    "approle_role_id",
    "auth_answer",
    "create_token",
    "generate_secret_id",
    "list_accessors",
    "list_approle_roles",
    "list_secret_ids",
    "list_token_roles",
    "list_users",
    "lookup_other",
    "lookup_self",
    "renew_other",
    "renew_self",
    "revoke_other",
    "revoke_self",
    "userpass_login",
]

_TARGET = {"type": "object", "properties": {"token": STR, "accessor": STR}}


def auth_answer(call: Call, token: str, info: TokenInfo) -> Answer:
    """Vault's ``auth`` block: the new token and what it carries (its entity's policies too)."""
    added = call.services.token_registry.identity_policies(info)
    return Answer(
        {
            "auth": {
                "client_token": token,
                "accessor": info.accessor,
                "policies": list(dict.fromkeys((*info.policies, *added))),
                "token_policies": list(info.policies),
                "identity_policies": added,
                "metadata": info.meta,
                "lease_duration": int(info.expires - info.created) if info.expires else 0,
                "renewable": info.renewable,
                "entity_id": entity_id(info),
                "orphan": info.orphan,
                "num_uses": info.num_uses,
            }
        }
    )


def _info(call: Call, info: TokenInfo) -> Answer:
    registry = call.services.token_registry
    return Answer({"data": info.to_json(registry.now(), registry.uses_left(info))})


# -- tokens
def create_token(call: Call) -> Answer:
    request = TokenRequest.from_json(call.json())
    token, info = call.services.tokens.create(call.identity, request, call.params.get("role"))
    return auth_answer(call, token, info)


def lookup_self(call: Call) -> Answer:
    return _info(call, call.services.tokens.self_info(call.identity))


def lookup_other(call: Call) -> Answer:
    doc = call.json()
    info = call.services.tokens.target(
        call.identity, "lookup", doc.get("token"), doc.get("accessor")
    )
    return _info(call, info)


def renew_self(call: Call) -> Answer:
    increment = parse_duration(call.json().get("increment"), "increment")
    return _info(call, call.services.tokens.renew_self(call.identity, increment))


def renew_other(call: Call) -> Answer:
    doc = call.json()
    increment = parse_duration(doc.get("increment"), "increment")
    renewed = call.services.tokens.renew(
        call.identity, doc.get("token"), doc.get("accessor"), increment
    )
    return _info(call, renewed)


def revoke_self(call: Call) -> Answer:
    call.services.tokens.revoke_self(call.identity)
    return Answer.empty()


def revoke_other(call: Call) -> Answer:
    doc = call.json()
    call.services.tokens.revoke(
        call.identity, doc.get("token"), doc.get("accessor"), doc.get("orphan_children") is True
    )
    return Answer.empty()


def list_accessors(call: Call) -> Answer:
    return Answer({"keys": call.services.tokens.list_accessors(call.identity)})


def list_token_roles(call: Call) -> Answer:
    return Answer({"keys": call.services.tokens.list_roles(call.identity)})


# -- AppRole
def list_approle_roles(call: Call) -> Answer:
    return Answer({"keys": call.services.approle.list_roles(call.identity)})


def approle_role_id(call: Call) -> Answer:
    role_id = call.services.approle.role_id(call.identity, call.params["name"])
    return Answer({"data": {"role_id": role_id}})


def list_secret_ids(call: Call) -> Answer:
    return Answer(
        {"keys": call.services.approle.list_secret_ids(call.identity, call.params["name"])}
    )


def generate_secret_id(call: Call) -> Answer:
    approle = call.services.approle
    return Answer(
        {"data": approle.generate_secret_id(call.identity, call.params["name"], call.json())}
    )


def _secret_id_action(action: str, by_accessor: bool) -> Callable[[Call], Answer]:
    field = "secret_id_accessor" if by_accessor else "secret_id"

    def handler(call: Call) -> Answer:
        value = call.json().get(field)
        if not isinstance(value, str) or not value:
            raise BadRequest(f'body must be {{"{field}": "..."}}')
        named = {"accessor": value} if by_accessor else {"secret_id": value}
        approle, name = call.services.approle, call.params["name"]
        if action == "lookup":
            return Answer({"data": approle.lookup_secret_id(call.identity, name, **named)})
        approle.destroy_secret_id(call.identity, name, **named)
        return Answer.empty()

    return handler


def approle_login(call: Call) -> Answer:
    # Public: the front door charged this request to its address's budget already.
    doc = call.json()
    token, info = call.services.approle.login(
        doc.get("role_id"), doc.get("secret_id", ""), call.address
    )
    return auth_answer(call, token, info)


# -- userpass
def list_users(call: Call) -> Answer:
    return Answer({"keys": call.services.userpass.list_users(call.identity)})


def userpass_login(call: Call) -> Answer:
    token, info = call.services.userpass.login(call.params["name"], call.json(), call.address)
    return auth_answer(call, token, info)


_T = "/api/v1/auth/token"
_A = "/api/v1/auth/approle"
_U = "/api/v1/auth/userpass"
_TOKEN_CREATE = object_schema(
    policies=STRS,
    ttl=DURATION,
    explicit_max_ttl=DURATION,
    period=DURATION,
    num_uses=INT,
    display_name=STR,
    meta={"type": "object", "additionalProperties": STR},
    no_parent={"type": "boolean"},
    no_default_policy={"type": "boolean"},
    renewable={"type": "boolean"},
)

ACCESS_ROUTES = (
    Route(
        "POST",
        f"{_T}/create",
        create_token,
        "createToken",
        "Create a child token",
        body=_TOKEN_CREATE,
    ),
    Route(
        "POST",
        f"{_T}/create/{{role}}",
        create_token,
        "createTokenWithRole",
        "Create by role",
        body=_TOKEN_CREATE,
    ),
    Route("GET", f"{_T}/lookup-self", lookup_self, "lookupSelf", "The calling token's properties"),
    Route(
        "POST",
        f"{_T}/lookup",
        lookup_other,
        "lookupToken",
        "Look up a token or accessor",
        body=_TARGET,
    ),
    Route(
        "POST",
        f"{_T}/renew-self",
        renew_self,
        "renewSelf",
        "Renew the calling token",
        body=object_schema(increment=DURATION),
    ),
    Route(
        "POST", f"{_T}/renew", renew_other, "renewToken", "Renew a token or accessor", body=_TARGET
    ),
    Route(
        "POST",
        f"{_T}/revoke-self",
        revoke_self,
        "revokeSelf",
        "Revoke the calling token and its children",
        status=204,
    ),
    Route(
        "POST",
        f"{_T}/revoke",
        revoke_other,
        "revokeToken",
        "Revoke a token or accessor and its tree",
        body=_TARGET,
        status=204,
    ),
    Route("GET", f"{_T}/accessors", list_accessors, "listAccessors", "Every token accessor (sudo)"),
    Route("GET", f"{_T}/roles", list_token_roles, "listTokenRoles", "Token roles"),
    *named_resource(
        f"{_T}/roles/{{name}}",
        "TokenRole",
        "a token role",
        read=lambda s, who, name: shown(s.tokens.read_role(who, name).to_json()),
        write=lambda s, who, name, doc: s.tokens.write_role(who, name, doc),
        delete=lambda s, who, name: s.tokens.delete_role(who, name),
        body=object_schema(allowed_policies=STRS),
    ),
    Route("GET", f"{_A}/role", list_approle_roles, "listAppRoles", "AppRole roles"),
    *named_resource(
        f"{_A}/role/{{name}}",
        "AppRole",
        "an AppRole role and its secret ids",
        read=lambda s, who, name: s.approle.read_role(who, name),
        write=lambda s, who, name, doc: s.approle.write_role(who, name, doc),
        delete=lambda s, who, name: s.approle.delete_role(who, name),
        body=object_schema(token_policies=STRS, token_ttl=DURATION, token_max_ttl=DURATION),
    ),
    Route(
        "GET", f"{_A}/role/{{name}}/role-id", approle_role_id, "readRoleId", "The role's role_id"
    ),
    Route(
        "GET",
        f"{_A}/role/{{name}}/secret-id",
        list_secret_ids,
        "listSecretIds",
        "Secret id accessors",
    ),
    Route(
        "POST",
        f"{_A}/role/{{name}}/secret-id",
        generate_secret_id,
        "generateSecretId",
        "A new secret_id",
        body=object_schema(metadata=STR, cidr_list=STRS, ttl=DURATION, num_uses=INT),
    ),
    Route(
        "POST",
        f"{_A}/role/{{name}}/secret-id/lookup",
        _secret_id_action("lookup", False),
        "lookupSecretId",
        "Look up a secret_id",
        body=object_schema(secret_id=STR),
    ),
    Route(
        "POST",
        f"{_A}/role/{{name}}/secret-id/destroy",
        _secret_id_action("destroy", False),
        "destroySecretId",
        "Destroy a secret_id",
        body=object_schema(secret_id=STR),
        status=204,
    ),
    Route(
        "POST",
        f"{_A}/role/{{name}}/secret-id-accessor/lookup",
        _secret_id_action("lookup", True),
        "lookupSecretIdAccessor",
        "Look up by accessor",
        body=object_schema(secret_id_accessor=STR),
    ),
    Route(
        "POST",
        f"{_A}/role/{{name}}/secret-id-accessor/destroy",
        _secret_id_action("destroy", True),
        "destroySecretIdAccessor",
        "Destroy by accessor",
        body=object_schema(secret_id_accessor=STR),
        status=204,
    ),
    Route(
        "POST",
        f"{_A}/login",
        approle_login,
        "approleLogin",
        "Log in with role_id and secret_id",
        body=object_schema(role_id=STR, secret_id=STR),
        public=True,
    ),
    Route("GET", f"{_U}/users", list_users, "listUsers", "Userpass users"),
    *named_resource(
        f"{_U}/users/{{name}}",
        "User",
        "a user (a read never shows the password)",
        read=lambda s, who, name: s.userpass.read_user(who, name),
        write=lambda s, who, name, doc: s.userpass.write_user(who, name, doc),
        delete=lambda s, who, name: s.userpass.delete_user(who, name),
        body=object_schema(password=STR, token_policies=STRS),
    ),
    Route(
        "POST",
        f"{_U}/login/{{name}}",
        userpass_login,
        "userpassLogin",
        "Log in with a password",
        body=object_schema(password=STR),
        public=True,
    ),
)
