"""The routes of the auth methods workloads log in with, under /api/v1/auth/<type>: the JWT
method (auth/jwt_auth.py) and the Kubernetes method (auth/kubernetes_auth.py). Each has a
config, roles and a login, so one table serves both; the Vault surface serves the same under
/v1/auth/<type> (server/vault/auth.py), and a mount at another path (``jwt-github/``) is routed
here by its type (server/auth_paths.py)."""

from __future__ import annotations

from typing import Any

from strongroom.server.native.access import auth_answer
from strongroom.server.native.resources import named_resource
from strongroom.server.native.schemas import DURATION, STR, STRS, object_schema
from strongroom.server.routes import Answer, Call, Route

__all__ = ["JWT_ROUTES", "KUBERNETES_ROUTES"]


def _method(call: Call, kind: str) -> Any:
    return getattr(call.services, kind)


def _routes(
    kind: str, title: str, config: dict[str, Any], role: dict[str, Any]
) -> tuple[Route, ...]:
    base = f"/api/v1/auth/{kind}"
    op = title.replace(" ", "")

    def read_config(call: Call) -> Answer:
        return Answer({"data": _method(call, kind).read_config(call.identity)})

    def write_config(call: Call) -> Answer:
        warnings = _method(call, kind).write_config(call.identity, call.json())
        return Answer({"warnings": warnings}) if warnings else Answer.empty()

    def list_roles(call: Call) -> Answer:
        return Answer({"keys": _method(call, kind).list_roles(call.identity)})

    def login(call: Call) -> Answer:
        # Public: the front door charged this request to its address's budget already.
        token, info = _method(call, kind).login(call.json())
        return auth_answer(call, token, info)

    # Names the Vault surface reads: list_* is its LIST, *_login a login.
    read_config.__name__ = f"read_{kind}_config"
    write_config.__name__ = f"write_{kind}_config"
    list_roles.__name__ = f"list_{kind}_roles"
    login.__name__ = f"{kind}_login"
    return (
        Route("GET", f"{base}/config", read_config, f"read{op}Config", f"The {title} config"),
        Route(
            "POST",
            f"{base}/config",
            write_config,
            f"write{op}Config",
            f"Where the {title} method finds the keys that verify a login's token",
            body=config,
            status=204,
        ),
        Route("GET", f"{base}/role", list_roles, f"list{op}Roles", f"{title} roles"),
        *named_resource(
            f"{base}/role/{{name}}",
            f"{op}Role",
            f"a {title} role: what a token must say to log in, and the policies it then gets",
            read=lambda s, who, name: getattr(s, kind).read_role(who, name),
            write=lambda s, who, name, doc: getattr(s, kind).write_role(who, name, doc),
            delete=lambda s, who, name: getattr(s, kind).delete_role(who, name),
            body=role,
        ),
        Route(
            "POST",
            f"{base}/login",
            login,
            f"{kind}Login",
            f"Log in with a {title} token",
            public=True,
        ),
    )


_TOKEN_SETTINGS = {"token_policies": STRS, "token_ttl": DURATION, "token_max_ttl": DURATION}

JWT_ROUTES = _routes(
    "jwt",
    "Jwt",
    object_schema(
        jwks_url=STR,
        jwt_validation_pubkeys=STRS,
        oidc_discovery_url=STR,
        bound_issuer=STR,
        jwt_supported_algs=STRS,
        default_role=STR,
    ),
    object_schema(
        role_type=STR, bound_audiences=STRS, user_claim=STR, bound_subject=STR, **_TOKEN_SETTINGS
    ),
)
KUBERNETES_ROUTES = _routes(
    "kubernetes",
    "Kubernetes",
    object_schema(
        kubernetes_host=STR,
        kubernetes_ca_cert=STR,
        token_reviewer_jwt=STR,
        pem_keys=STRS,
        issuer=STR,
        disable_iss_validation={"type": "boolean"},
    ),
    object_schema(
        bound_service_account_names=STRS,
        bound_service_account_namespaces=STRS,
        audience=STR,
        alias_name_source=STR,
        **_TOKEN_SETTINGS,
    ),
)
