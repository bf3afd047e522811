"""The Kubernetes auth method (Vault's ``kubernetes``): a pod logs in with its service account's
token. The token is verified one of three ways, by the config:

- ``token_reviewer_jwt`` set: the cluster's TokenReview API says whether the token is valid (and
  not revoked), as Vault does;
- ``pem_keys`` set: the service account issuer's public keys, offline;
- neither: the cluster's OIDC discovery document (``<kubernetes_host>/.well-known/
  openid-configuration``) names the JWKS to verify against: no TokenReview, no reviewer token.

The service account's name and namespace must then be among the role's bound ones (``*``
matches any); the role's audience, if set, must be among the token's. Every connection goes
through the egress policy; config and roles are sealed records."""

from __future__ import annotations

import fnmatch
import ssl
from dataclasses import dataclass, field
from typing import Any

import jwt
from jwt.exceptions import InvalidTokenError

from strongroom.auth.egress_json import egress_json
from strongroom.auth.identity import Identity
from strongroom.auth.jwt_auth import ALGORITHMS, MAX_JWT_BYTES
from strongroom.auth.jwt_keys import KeySource
from strongroom.auth.records import DEFAULT_TOKEN_TYPE
from strongroom.auth.request_fields import flag, string_list, token_type
from strongroom.auth.role_mount import RoleMount
from strongroom.auth.role_update import Parsers, changed_role, requested_fields
from strongroom.auth.tokens import TokenInfo, TokenRegistry
from strongroom.durations import parse_duration
from strongroom.egress import EgressPolicy, check_url
from strongroom.errors import BadRequest, Unauthenticated
from strongroom.store.protocol import Store

__all__ = ["DEFAULT_MOUNT", "KubernetesAuth", "KubernetesRole", "ServiceAccount"]

DEFAULT_MOUNT = "kubernetes"
_CONFIG_KIND = "auth-kubernetes-config"
_ROLE_KIND = "auth-kubernetes-role"
_CONFIG_FIELDS = {
    "kubernetes_host",
    "kubernetes_ca_cert",
    "token_reviewer_jwt",
    "pem_keys",
    "issuer",
    "disable_iss_validation",
    "disable_local_ca_jwt",
}
_ROLE_FIELDS = {
    "bound_service_account_names",
    "bound_service_account_namespaces",
    "audience",
    "alias_name_source",
    "token_policies",
    "policies",
    "token_ttl",
    "token_max_ttl",
    "token_type",
}
_FAILED = "the service account token is not valid for this role"
# Vault keeps a CA certificate it cannot read and fails the logins that need it; strongroom keeps
# it too (a PEM block, as written) and says so at once.
_UNPARSED_CA = (
    "kubernetes_ca_cert does not parse as a PEM certificate: logins that reach the cluster "
    "(TokenReview, OIDC discovery) fail until a valid one is written"
)
_EVERY_ACCOUNT = (
    "this role binds every service account of every namespace: any pod of the cluster can log "
    "in with it; name the service accounts or namespaces, or set an audience"
)
_MAX_BOUND = 256


@dataclass(frozen=True)
class KubernetesRole:
    token_policies: list[str]
    bound_service_account_names: list[str]
    bound_service_account_namespaces: list[str]
    audience: str = ""
    alias_name_source: str = "serviceaccount_uid"
    token_ttl: float | None = None
    token_max_ttl: float | None = None
    token_type: str = DEFAULT_TOKEN_TYPE


@dataclass(frozen=True)
class ServiceAccount:
    name: str
    namespace: str
    uid: str = ""
    secret_name: str = ""
    audiences: list[str] = field(default_factory=list)


def _bound_names(doc: dict[str, Any], name: str) -> list[str]:
    values = string_list(doc, name)
    if len(values) > _MAX_BOUND:
        raise BadRequest(f"a role binds at most {_MAX_BOUND} names and namespaces")
    return values


def _alias_name_source(doc: dict[str, Any]) -> str:
    source = _text(doc, "alias_name_source") or "serviceaccount_uid"
    if source not in ("serviceaccount_uid", "serviceaccount_name"):
        raise BadRequest("alias_name_source is serviceaccount_uid or serviceaccount_name")
    return source


_ROLE_PARSERS: Parsers = {
    "bound_service_account_names": lambda doc: _bound_names(doc, "bound_service_account_names"),
    "bound_service_account_namespaces": lambda doc: _bound_names(
        doc, "bound_service_account_namespaces"
    ),
    "audience": lambda doc: _text(doc, "audience"),
    "alias_name_source": _alias_name_source,
    "token_ttl": lambda doc: parse_duration(doc["token_ttl"], "token_ttl"),
    "token_max_ttl": lambda doc: parse_duration(doc["token_max_ttl"], "token_max_ttl"),
    "token_type": token_type,
}


def _check_role(role: KubernetesRole) -> None:
    if not role.bound_service_account_names or not role.bound_service_account_namespaces:
        raise BadRequest(
            "a role binds bound_service_account_names and bound_service_account_namespaces "
            '(each a list; "*" matches any)'
        )


_NEW_ROLE = KubernetesRole([], [], [])
# A role nobody can match: an unknown role costs the same verification as a known one.
_NO_ROLE = KubernetesRole([], ["\0"], ["\0"])


class KubernetesAuth(RoleMount[KubernetesRole]):
    kind = DEFAULT_MOUNT
    role_class = KubernetesRole
    role_fields = frozenset(_ROLE_FIELDS)
    config_kind = _CONFIG_KIND
    role_kind = _ROLE_KIND

    def __init__(
        self,
        store: Store,
        tokens: TokenRegistry,
        keys: KeySource,
        egress: EgressPolicy,
        mount: str = DEFAULT_MOUNT,
    ) -> None:
        super().__init__(store, tokens, mount)
        self._keys = keys
        self._egress = egress

    # -- config
    def write_config(self, caller: Identity, doc: dict[str, Any]) -> list[str]:
        """Keep the config; the warnings are what the caller should fix before a login works."""
        self._check_config_write(caller, doc, _CONFIG_FIELDS)
        host = check_url(doc.get("kubernetes_host"), "kubernetes_host").rstrip("/")
        config: dict[str, Any] = {
            "kubernetes_host": host,
            "kubernetes_ca_cert": _text(doc, "kubernetes_ca_cert"),
            "token_reviewer_jwt": _text(doc, "token_reviewer_jwt"),
            "pem_keys": string_list(doc, "pem_keys"),
            "issuer": _text(doc, "issuer"),
            "disable_iss_validation": flag(doc, "disable_iss_validation", True),
            "disable_local_ca_jwt": flag(doc, "disable_local_ca_jwt", False),
        }
        if config["disable_local_ca_jwt"] and not config["kubernetes_ca_cert"]:
            raise BadRequest("kubernetes_ca_cert must be given when disable_local_ca_jwt is true")
        warnings = []
        ca_pem = config["kubernetes_ca_cert"]
        if ca_pem and not _parses(ca_pem):
            if "-----BEGIN CERTIFICATE-----" not in ca_pem:
                raise BadRequest("kubernetes_ca_cert is not a PEM certificate")
            warnings.append(_UNPARSED_CA)
        if config["pem_keys"]:
            self._keys.candidates({"jwt_validation_pubkeys": config["pem_keys"]}, None, "RS256")
        self._save_config(config)
        return warnings

    def read_config(self, caller: Identity) -> dict[str, Any]:
        """The config without the reviewer token (Vault does not return it either)."""
        config = super().read_config(caller)
        config.pop("token_reviewer_jwt", None)
        return config

    # -- roles
    def write_role(self, caller: Identity, name: str, doc: dict[str, Any]) -> list[str]:
        self._check_role_write(caller, name, doc)
        fields = requested_fields(doc, _ROLE_PARSERS, caller)
        role = changed_role(self._role_records, name, fields, lambda: _NEW_ROLE, _check_role)
        every = ["*"]
        if role.bound_service_account_names == every == role.bound_service_account_namespaces:
            return [_EVERY_ACCOUNT]  # Vault takes it; its audience may narrow it
        return []

    # -- login
    def login(self, doc: dict[str, Any]) -> tuple[str, TokenInfo]:
        self._mounted()
        config = self._config()
        token = doc.get("jwt")
        if not isinstance(token, str) or not 0 < len(token) <= MAX_JWT_BYTES:
            raise BadRequest(f"jwt is a service account token of at most {MAX_JWT_BYTES} bytes")
        name = doc.get("role")
        if not isinstance(name, str) or not name:
            raise BadRequest("role is required")
        role = self._role_or_none(name)
        account = self._verified(config, role or _NO_ROLE, token)
        if role is None or not _bound(role, account):
            raise Unauthenticated(_FAILED)
        alias = account.uid if role.alias_name_source == "serviceaccount_uid" else ""
        alias = alias or f"{account.namespace}/{account.name}"
        meta = {
            "role": name,
            "service_account_name": account.name,
            "service_account_namespace": account.namespace,
            "service_account_uid": account.uid,
            "service_account_secret_name": account.secret_name,
        }
        return self._tokens.create(
            ("default", *role.token_policies),
            display_name=f"{self.mount}-{account.namespace}-{account.name}",
            ttl=role.token_ttl,
            explicit_max_ttl=role.token_max_ttl,
            meta={**meta, "alias": alias},
            alias=alias,
            role=name,
            path=self.login_path,
        )

    def _verified(self, config: dict[str, Any], role: KubernetesRole, token: str) -> ServiceAccount:
        if config.get("token_reviewer_jwt"):
            return self._reviewed(config, role, token)
        keys = (
            {"jwt_validation_pubkeys": config["pem_keys"]}
            if config.get("pem_keys")
            else {
                "oidc_discovery_url": config["kubernetes_host"],
                "ca_pem": config.get("kubernetes_ca_cert") or "",
            }
        )
        try:
            header = jwt.get_unverified_header(token)
        except InvalidTokenError:
            raise Unauthenticated(_FAILED) from None
        alg = str(header.get("alg", ""))
        if alg not in ALGORITHMS:
            raise Unauthenticated(_FAILED)
        kid = header.get("kid") if isinstance(header.get("kid"), str) else None
        check_issuer = not config.get("disable_iss_validation", True) and config.get("issuer")
        for fresh in (False, True):
            for key in self._keys.candidates(keys, kid, alg, fresh=fresh):
                try:
                    claims: dict[str, Any] = jwt.decode(
                        token,
                        key,
                        algorithms=[alg],
                        issuer=config["issuer"] if check_issuer else None,
                        options={"verify_aud": False},
                        leeway=60,
                    )
                except InvalidTokenError:
                    continue
                return _account_of(claims)
        raise Unauthenticated(_FAILED)

    def _reviewed(self, config: dict[str, Any], role: KubernetesRole, token: str) -> ServiceAccount:
        """Ask the cluster (TokenReview): it knows tokens that were revoked or whose pod is gone."""
        review: dict[str, Any] = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": {"token": token},
        }
        if role.audience:
            review["spec"]["audiences"] = [role.audience]
        answer = egress_json(
            self._egress,
            f"{config['kubernetes_host']}/apis/authentication.k8s.io/v1/tokenreviews",
            "the cluster's TokenReview API",
            body=review,
            bearer=config["token_reviewer_jwt"],
            ca_pem=config.get("kubernetes_ca_cert") or "",
        )
        status = answer.get("status")
        if not isinstance(status, dict) or status.get("authenticated") is not True:
            raise Unauthenticated(_FAILED)
        found = status.get("user")
        user: dict[str, Any] = found if isinstance(found, dict) else {}
        parts = str(user.get("username", "")).split(":")
        if len(parts) != 4 or parts[:2] != ["system", "serviceaccount"]:
            raise Unauthenticated(_FAILED)
        audiences = status.get("audiences")
        return ServiceAccount(
            name=parts[3],
            namespace=parts[2],
            uid=str(user.get("uid", "")),
            audiences=[str(a) for a in audiences] if isinstance(audiences, list) else [],
        )


def _account_of(claims: dict[str, Any]) -> ServiceAccount:
    """The service account a token names: projected tokens (``kubernetes.io``) or the older
    secret-based ones (``kubernetes.io/serviceaccount/…``)."""
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else [str(a) for a in aud or [] if a]
    projected = claims.get("kubernetes.io")
    if isinstance(projected, dict) and isinstance(projected.get("serviceaccount"), dict):
        account = projected["serviceaccount"]
        return ServiceAccount(
            name=str(account.get("name", "")),
            namespace=str(projected.get("namespace", "")),
            uid=str(account.get("uid", "")),
            audiences=audiences,
        )
    prefix = "kubernetes.io/serviceaccount/"
    if isinstance(claims.get(prefix + "namespace"), str):
        return ServiceAccount(
            name=str(claims.get(prefix + "service-account.name", "")),
            namespace=str(claims[prefix + "namespace"]),
            uid=str(claims.get(prefix + "service-account.uid", "")),
            secret_name=str(claims.get(prefix + "secret.name", "")),
            audiences=audiences,
        )
    raise Unauthenticated(_FAILED)


def _bound(role: KubernetesRole, account: ServiceAccount) -> bool:
    if not account.name or not account.namespace:
        return False
    if role.audience and role.audience not in account.audiences:
        return False
    return _matches(role.bound_service_account_names, account.name) and _matches(
        role.bound_service_account_namespaces, account.namespace
    )


def _matches(patterns: list[str], value: str) -> bool:
    """``*`` matches anything; a pattern ending in ``*`` matches a prefix (Vault's globs)."""
    return any(
        p == "*" or p == value or (p.endswith("*") and fnmatch.fnmatchcase(value, p))
        for p in patterns
    )


def _parses(ca_pem: str) -> bool:
    try:
        ssl.create_default_context(cadata=ca_pem)
    except (ssl.SSLError, ValueError):
        return False
    return True


def _text(doc: dict[str, Any], name: str) -> str:
    value = doc.get(name, "")
    if not isinstance(value, str) or len(value) > 64 * 1024:
        raise BadRequest(f"{name} must be text")
    return value
