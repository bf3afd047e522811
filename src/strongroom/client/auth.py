"""SDK calls for tokens, AppRole and userpass."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from strongroom.client.base import BaseClient
from strongroom.results import TokenLookup
from strongroom.types import IssuedToken

__all__ = ["AuthCalls"]


def _token_target(token: str | None, accessor: str | None) -> dict[str, Any]:
    return {"token": token} if token else {"accessor": accessor}


class AuthCalls(BaseClient):
    # -- tokens
    def create_token(
        self,
        policies: Sequence[str] | None = None,
        *,
        ttl: str | float | None = None,
        explicit_max_ttl: str | float | None = None,
        period: str | float | None = None,
        num_uses: int = 0,
        display_name: str | None = None,
        meta: Mapping[str, str] | None = None,
        no_parent: bool = False,
        no_default_policy: bool = False,
        renewable: bool = True,
        role: str | None = None,
    ) -> IssuedToken:
        body: dict[str, Any] = {
            "num_uses": num_uses,
            "no_parent": no_parent,
            "no_default_policy": no_default_policy,
            "renewable": renewable,
        }
        if policies is not None:
            body["policies"] = list(policies)
        for name, value in (
            ("ttl", ttl),
            ("explicit_max_ttl", explicit_max_ttl),
            ("period", period),
            ("display_name", display_name),
            ("meta", dict(meta) if meta else None),
        ):
            if value is not None:
                body[name] = value
        url = "/api/v1/auth/token/create" + (f"/{quote(role, safe='')}" if role else "")
        return IssuedToken.from_json(self._call("POST", url, json=body)["auth"])

    def lookup_self(self) -> TokenLookup:
        return TokenLookup.from_json(self._call("GET", "/api/v1/auth/token/lookup-self")["data"])

    def lookup_token(self, token: str | None = None, *, accessor: str | None = None) -> TokenLookup:
        doc = self._call("POST", "/api/v1/auth/token/lookup", json=_token_target(token, accessor))
        return TokenLookup.from_json(doc["data"])

    def renew_self(self, increment: str | float | None = None) -> TokenLookup:
        doc = self._call("POST", "/api/v1/auth/token/renew-self", json={"increment": increment})
        return TokenLookup.from_json(doc["data"])

    def renew_token(
        self,
        token: str | None = None,
        *,
        accessor: str | None = None,
        increment: str | float | None = None,
    ) -> TokenLookup:
        body = {**_token_target(token, accessor), "increment": increment}
        return TokenLookup.from_json(
            self._call("POST", "/api/v1/auth/token/renew", json=body)["data"]
        )

    def revoke_self(self) -> None:
        self._call("POST", "/api/v1/auth/token/revoke-self")

    def revoke_token(
        self,
        token: str | None = None,
        *,
        accessor: str | None = None,
        orphan_children: bool = False,
    ) -> None:
        body = {**_token_target(token, accessor), "orphan_children": orphan_children}
        self._call("POST", "/api/v1/auth/token/revoke", json=body)

    def write_token_role(self, name: str, **settings: Any) -> None:
        self._call("POST", f"/api/v1/auth/token/roles/{quote(name, safe='')}", json=settings)

    # -- AppRole
    def write_approle(self, name: str, **settings: Any) -> None:
        self._call("POST", f"/api/v1/auth/approle/role/{quote(name, safe='')}", json=settings)

    def read_approle(self, name: str) -> dict[str, Any]:
        doc = self._call("GET", f"/api/v1/auth/approle/role/{quote(name, safe='')}")
        result: dict[str, Any] = doc["data"]
        return result

    def list_approles(self) -> list[str]:
        return list(self._call("GET", "/api/v1/auth/approle/role")["keys"])

    def delete_approle(self, name: str) -> None:
        self._call("DELETE", f"/api/v1/auth/approle/role/{quote(name, safe='')}")

    def approle_role_id(self, name: str) -> str:
        doc = self._call("GET", f"/api/v1/auth/approle/role/{quote(name, safe='')}/role-id")
        return str(doc["data"]["role_id"])

    def approle_secret_id(self, name: str, **options: Any) -> dict[str, Any]:
        url = f"/api/v1/auth/approle/role/{quote(name, safe='')}/secret-id"
        result: dict[str, Any] = self._call("POST", url, json=options)["data"]
        return result

    def destroy_approle_secret_id(
        self, name: str, *, secret_id: str | None = None, accessor: str | None = None
    ) -> None:
        base = f"/api/v1/auth/approle/role/{quote(name, safe='')}"
        if secret_id:
            self._call("POST", f"{base}/secret-id/destroy", json={"secret_id": secret_id})
        else:
            body = {"secret_id_accessor": accessor}
            self._call("POST", f"{base}/secret-id-accessor/destroy", json=body)

    def login_approle(self, role_id: str, secret_id: str) -> IssuedToken:
        body = {"role_id": role_id, "secret_id": secret_id}
        doc = self._call("POST", "/api/v1/auth/approle/login", json=body)
        return IssuedToken.from_json(doc["auth"])

    # -- userpass
    def write_user(
        self, name: str, password: str | None = None, *, policies: Sequence[str] = ()
    ) -> None:
        body: dict[str, Any] = {"token_policies": list(policies)}
        if password is not None:
            body["password"] = password
        self._call("POST", f"/api/v1/auth/userpass/users/{quote(name, safe='')}", json=body)

    def delete_user(self, name: str) -> None:
        self._call("DELETE", f"/api/v1/auth/userpass/users/{quote(name, safe='')}")

    def list_users(self) -> list[str]:
        return list(self._call("GET", "/api/v1/auth/userpass/users")["keys"])

    def login_userpass(self, name: str, password: str) -> IssuedToken:
        url = f"/api/v1/auth/userpass/login/{quote(name, safe='')}"
        return IssuedToken.from_json(self._call("POST", url, json={"password": password})["auth"])
