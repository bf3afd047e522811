"""Vault's identity tokens under ``/v1/identity/oidc`` (auth/oidc_provider.py): the issuer, named
signing keys, roles, tokens, introspection, and the public discovery document and JWKS that a
verifier reads (OIDC's shapes: no Vault envelope, as in Vault)."""

from __future__ import annotations

import json
from typing import Any

from strongroom.server.routes import Answer, Call, Handler, Route
from strongroom.server.vault.wire import envelope, list_answer, writes

__all__ = [
    "IDENTITY_ROUTES",
    "discovery",
    "introspect",
    "jwks",
    "list_keys",
    "list_roles",
    "read_config",
    "rotate_key",
    "token",
    "write_config",
]

_O = "/v1/identity/oidc"


def _plain(doc: dict[str, Any]) -> Answer:
    """An OIDC document as it is, without Vault's envelope."""
    return Answer(raw=json.dumps(doc).encode())


def write_config(call: Call) -> Answer:
    doc = call.json()
    call.services.identity_tokens.write_config(call.identity, doc)
    if not doc.get("issuer"):
        return Answer.empty()
    # Vault warns too: verifiers check this exact address, so changing it later breaks them.
    return envelope(
        call,
        warnings=[
            "Every identity token now names this issuer, and verifiers check tokens against "
            'it: change it only with them. An issuer of "" turns identity tokens off.'
        ],
    )


def read_config(call: Call) -> Answer:
    return envelope(call, call.services.identity_tokens.read_config(call.identity))


def discovery(call: Call) -> Answer:
    return _plain(call.services.identity_tokens.discovery())


def jwks(call: Call) -> Answer:
    return _plain(call.services.identity_tokens.jwks())


def _named(action: str) -> Handler:
    """A key's or role's write, read or delete: ``<action>_key`` / ``<action>_role``."""

    def handler(call: Call) -> Answer:
        kind = "key" if "/key/" in call.path else "role"
        service = call.services.identity_tokens
        name = call.params["name"]
        if action == "read":
            return envelope(call, getattr(service, f"read_{kind}")(call.identity, name))
        if action == "write":
            getattr(service, f"write_{kind}")(call.identity, name, call.json())
        else:
            getattr(service, f"delete_{kind}")(call.identity, name)
        return Answer.empty()

    handler.__name__ = f"identity_{action}"
    return handler


def list_keys(call: Call) -> Answer:
    return list_answer(call, call.services.identity_tokens.list_keys(call.identity))


def list_roles(call: Call) -> Answer:
    return list_answer(call, call.services.identity_tokens.list_roles(call.identity))


def rotate_key(call: Call) -> Answer:
    service = call.services.identity_tokens
    service.rotate_key(call.identity, call.params["name"], call.json())
    return Answer.empty()


def token(call: Call) -> Answer:
    made = call.services.identity_tokens.token(call.identity, call.params["name"])
    return envelope(call, made)  # the token is HMAC'd in the audit entry, as any data


def introspect(call: Call) -> Answer:
    return _plain(call.services.identity_tokens.introspect(call.identity, call.json()))


IDENTITY_ROUTES = (
    *writes(f"{_O}/config", write_config, "identityWriteOidcConfig"),
    Route("GET", f"{_O}/config", read_config, "identityReadOidcConfig"),
    Route(
        "GET",
        f"{_O}/.well-known/openid-configuration",
        discovery,
        "identityOidcDiscovery",
        "The OIDC discovery document of identity tokens",
        public=True,
    ),
    Route(
        "GET",
        f"{_O}/.well-known/keys",
        jwks,
        "identityOidcKeys",
        "The public keys that verify identity tokens",
        public=True,
    ),
    Route("LIST", f"{_O}/key", list_keys, "identityListOidcKeys"),
    *writes(f"{_O}/key/{{name}}/rotate", rotate_key, "identityRotateOidcKey"),
    *writes(f"{_O}/key/{{name}}", _named("write"), "identityWriteOidcKey"),
    Route("GET", f"{_O}/key/{{name}}", _named("read"), "identityReadOidcKey"),
    Route("DELETE", f"{_O}/key/{{name}}", _named("delete"), "identityDeleteOidcKey"),
    Route("LIST", f"{_O}/role", list_roles, "identityListOidcRoles"),
    *writes(f"{_O}/role/{{name}}", _named("write"), "identityWriteOidcRole"),
    Route("GET", f"{_O}/role/{{name}}", _named("read"), "identityReadOidcRole"),
    Route("DELETE", f"{_O}/role/{{name}}", _named("delete"), "identityDeleteOidcRole"),
    Route("GET", f"{_O}/token/{{name}}", token, "identityOidcToken", "A signed identity token"),
    *writes(f"{_O}/introspect", introspect, "identityOidcIntrospect"),
)
