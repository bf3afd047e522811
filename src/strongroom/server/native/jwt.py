"""The JWT auth method's routes (auth/jwt_auth.py) under /api/v1/auth/jwt: its config, its roles
and the login; the Vault surface serves the same under /v1/auth/jwt (server/vault/auth.py)."""

from __future__ import annotations

from strongroom.server.native.access import auth_answer
from strongroom.server.native.resources import named_resource
from strongroom.server.native.schemas import DURATION, STR, STRS, object_schema
from strongroom.server.routes import Answer, Call, Route

__all__ = ["JWT_ROUTES", "jwt_login", "list_jwt_roles", "read_jwt_config", "write_jwt_config"]

_J = "/api/v1/auth/jwt"


def read_jwt_config(call: Call) -> Answer:
    return Answer({"data": call.services.jwt.read_config(call.identity)})


def write_jwt_config(call: Call) -> Answer:
    call.services.jwt.write_config(call.identity, call.json())
    return Answer.empty()


def list_jwt_roles(call: Call) -> Answer:
    return Answer({"keys": call.services.jwt.list_roles(call.identity)})


def jwt_login(call: Call) -> Answer:
    # Public: the front door charged this request to its address's budget already.
    token, info = call.services.jwt.login(call.json())
    return auth_answer(token, info)


JWT_ROUTES = (
    Route("GET", f"{_J}/config", read_jwt_config, "readJwtConfig", "The JWT method's config"),
    Route(
        "POST",
        f"{_J}/config",
        write_jwt_config,
        "writeJwtConfig",
        "Where the JWT method finds the issuer's keys, and which issuer and algorithms it takes",
        body=object_schema(
            jwks_url=STR,
            jwt_validation_pubkeys=STRS,
            oidc_discovery_url=STR,
            bound_issuer=STR,
            jwt_supported_algs=STRS,
            default_role=STR,
        ),
        status=204,
    ),
    Route("GET", f"{_J}/role", list_jwt_roles, "listJwtRoles", "JWT roles"),
    *named_resource(
        f"{_J}/role/{{name}}",
        "JwtRole",
        "a JWT role: what a token must say to log in, and the policies it then gets",
        read=lambda s, who, name: s.jwt.read_role(who, name),
        write=lambda s, who, name, doc: s.jwt.write_role(who, name, doc),
        delete=lambda s, who, name: s.jwt.delete_role(who, name),
        body=object_schema(
            role_type=STR,
            bound_audiences=STRS,
            user_claim=STR,
            bound_subject=STR,
            token_policies=STRS,
            token_ttl=DURATION,
            token_max_ttl=DURATION,
        ),
    ),
    Route("POST", f"{_J}/login", jwt_login, "jwtLogin", "Log in with a JWT", public=True),
)
