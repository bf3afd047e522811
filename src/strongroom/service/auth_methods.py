"""The auth methods a server offers, as a mountable list (Vault's ``sys/auth``): token, AppRole
at ``approle/`` and userpass at ``userpass/``, always there. Disabling one wipes what it holds
and revokes every token it issued, as Vault does; enabling one anywhere else is refused."""

from __future__ import annotations

from dataclasses import dataclass

from strongroom.auth import Identity
from strongroom.auth.approle import AppRoleAuth
from strongroom.auth.jwt_auth import JwtAuth
from strongroom.auth.tokens import TokenRegistry
from strongroom.auth.userpass import UserpassAuth
from strongroom.errors import BadRequest, NotFound

__all__ = ["AUTH_METHODS", "JWT_METHOD", "AuthMethod", "AuthMethodService"]


@dataclass(frozen=True)
class AuthMethod:
    path: str  # without the trailing '/'
    kind: str
    description: str


AUTH_METHODS = (
    AuthMethod("token", "token", "token based credentials"),
    AuthMethod("approle", "approle", "AppRole: machine logins with a role_id and a secret_id"),
    AuthMethod("userpass", "userpass", "users and passwords"),
)
_BY_PATH = {method.path: method for method in AUTH_METHODS}
JWT_METHOD = AuthMethod("jwt", "jwt", "JWT: workload logins with tokens an OIDC issuer signed")


class AuthMethodService:
    def __init__(
        self, approle: AppRoleAuth, userpass: UserpassAuth, tokens: TokenRegistry, jwt: JwtAuth
    ) -> None:
        self._approle = approle
        self._userpass = userpass
        self._tokens = tokens
        self._jwt = jwt

    def _methods(self) -> tuple[AuthMethod, ...]:
        return (*AUTH_METHODS, JWT_METHOD) if self._jwt.enabled() else AUTH_METHODS

    def _known(self, path: str) -> AuthMethod:
        for method in self._methods():
            if method.path == path.strip("/"):
                return method
        raise NotFound("no auth method at this path")

    def list_methods(self, identity: Identity) -> tuple[AuthMethod, ...]:
        identity.require("read", "sys/auth")
        return self._methods()

    def enable(self, identity: Identity, path: str, kind: object) -> None:
        """Accepted (nothing to do) for a built-in method at its own path; jwt at jwt/ is
        enabled; refused otherwise."""
        path = path.strip("/")
        identity.require("sudo", f"sys/auth/{path}")
        if path == JWT_METHOD.path and kind == JWT_METHOD.kind:
            if self._jwt.enabled():
                raise BadRequest("path is already in use at jwt/")
            self._jwt.enable()
            return
        method = _BY_PATH.get(path)
        if method is None or method.kind != kind:
            raise BadRequest(
                "strongroom serves the auth methods approle and userpass at their default paths, "
                "and jwt at jwt/ (approle/, userpass/, jwt/)"
            )

    def disable(self, identity: Identity, path: str) -> None:
        """Wipes what the method holds: every AppRole role (and its secret IDs), or every user."""
        path = path.strip("/")
        identity.require("sudo", f"sys/auth/{path}")
        if path == "token":
            raise BadRequest("the token auth method cannot be disabled")
        if path == JWT_METHOD.path:
            if self._jwt.enabled():
                self._jwt.disable()
            return
        if path == "approle":
            for role in self._approle.list_roles(identity):
                self._approle.delete_role(identity, role)
        elif path == "userpass":
            for user in self._userpass.list_users(identity):
                self._userpass.delete_user(identity, user)
        # and any token its logins issued that outlived its role or user, as Vault revokes a
        # disabled mount's tokens
        self._tokens.revoke_issued(lambda t: t.path == f"auth/{path}/login")

    def read_tune(self, identity: Identity, path: str) -> AuthMethod:
        identity.require("read", f"sys/auth/{path.strip('/')}/tune")
        return self._known(path)

    def write_tune(self, identity: Identity, path: str) -> AuthMethod:
        identity.require("sudo", f"sys/auth/{path.strip('/')}/tune")
        return self._known(path)
