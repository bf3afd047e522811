"""The JWT auth method (Vault's ``jwt``): workloads log in with a JSON Web Token their platform
issued (GitHub Actions, GitLab CI, a Kubernetes service account, any OIDC issuer), verified
against the issuer's keys (auth/jwt_keys.py), then matched against a role's bindings; the token
strongroom issues carries the role's policies.

Verification refuses what weakens it: only asymmetric algorithms the config allows (never
``none``, never an HMAC with a public key as secret), ``exp`` required (60 s of leeway), the
configured issuer, the role's audiences (a token with an audience the role does not bind is
refused, as Vault refuses it), subject and claims. Config and roles are sealed records."""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass, field
from typing import Any

import jwt
from jwt.exceptions import InvalidTokenError

from strongroom.auth.identity import Identity
from strongroom.auth.jwt_keys import KeySource
from strongroom.auth.records import DEFAULT_TOKEN_TYPE
from strongroom.auth.request_fields import flag, string_list, token_type
from strongroom.auth.role_mount import RoleMount
from strongroom.auth.role_update import Parsers, changed_role, requested_fields
from strongroom.auth.tokens import TokenInfo, TokenRegistry
from strongroom.durations import parse_duration
from strongroom.egress import check_url
from strongroom.errors import BadRequest, Unauthenticated
from strongroom.store.protocol import Store

__all__ = [
    "ALGORITHMS",
    "DEFAULT_MOUNT",
    "LOGIN_PATH",
    "MAX_GROUPS",
    "MAX_JWT_BYTES",
    "JwtAuth",
    "JwtRole",
]

DEFAULT_MOUNT = "jwt"
LOGIN_PATH = "auth/jwt/login"  # at the default mount
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
MAX_JWT_BYTES = 16 * 1024
MAX_GROUPS = 1000  # of one login's groups claim: the rest is not looked at
_CONFIG_KIND = "auth-jwt-config"
_ROLE_KIND = "auth-jwt-role"
_CONFIG_FIELDS = {
    "jwks_url",
    "jwt_validation_pubkeys",
    "oidc_discovery_url",
    "bound_issuer",
    "jwt_supported_algs",
    "default_role",
    "oidc_discovery_ca_pem",
    "jwks_ca_pem",
}
# Each CA field belongs to one source of keys, as in Vault.
_CA_OF = {"oidc_discovery_url": "oidc_discovery_ca_pem", "jwks_url": "jwks_ca_pem"}
_ROLE_FIELDS = {
    "role_type",
    "bound_audiences",
    "user_claim",
    "bound_subject",
    "bound_claims",
    "claim_mappings",
    "token_policies",
    "policies",
    "token_ttl",
    "token_max_ttl",
    "token_type",
    "allowed_redirect_uris",
    "bound_claims_type",
    "verbose_oidc_logging",
    "groups_claim",
}
_FAILED = "the JWT is not valid for this role"


@dataclass(frozen=True)
class JwtRole:
    token_policies: list[str]
    bound_audiences: list[str] = field(default_factory=list)
    user_claim: str = "sub"
    bound_subject: str = ""
    bound_claims: dict[str, Any] = field(default_factory=dict)
    claim_mappings: dict[str, str] = field(default_factory=dict)
    token_ttl: float | None = None
    token_max_ttl: float | None = None
    role_type: str = "jwt"
    token_type: str = DEFAULT_TOKEN_TYPE
    # Vault's OIDC browser flow's; kept and shown as written, used by no login strongroom serves
    allowed_redirect_uris: list[str] = field(default_factory=list)
    verbose_oidc_logging: bool = False
    bound_claims_type: str = "string"  # string: a value is one of those bound; glob: matches one
    # the claim that names the caller's groups: each is an identity group alias on this mount
    groups_claim: str = ""


# No token's subject is a NUL: a role that verifies like any other and matches nothing.
_NO_ROLE = JwtRole(token_policies=[], bound_subject="\0")


class JwtAuth(RoleMount[JwtRole]):
    kind = DEFAULT_MOUNT
    role_class = JwtRole
    role_fields = frozenset(_ROLE_FIELDS)
    config_kind = _CONFIG_KIND
    role_kind = _ROLE_KIND

    def __init__(
        self, store: Store, tokens: TokenRegistry, keys: KeySource, mount: str = DEFAULT_MOUNT
    ) -> None:
        super().__init__(store, tokens, mount)
        self._keys = keys

    # -- config
    def write_config(self, caller: Identity, doc: dict[str, Any]) -> None:
        self._check_config_write(caller, doc, _CONFIG_FIELDS)
        sources = [
            k for k in ("jwks_url", "jwt_validation_pubkeys", "oidc_discovery_url") if doc.get(k)
        ]
        if len(sources) != 1:
            raise BadRequest(
                "exactly one of jwks_url, jwt_validation_pubkeys and oidc_discovery_url"
            )
        config: dict[str, Any] = {"bound_issuer": _text(doc, "bound_issuer")}
        if doc.get("jwks_url"):
            config["jwks_url"] = check_url(doc["jwks_url"], "jwks_url")
        if doc.get("oidc_discovery_url"):
            config["oidc_discovery_url"] = check_url(
                doc["oidc_discovery_url"], "oidc_discovery_url"
            )
        if doc.get("jwt_validation_pubkeys"):
            config["jwt_validation_pubkeys"] = string_list(doc, "jwt_validation_pubkeys")
            self._keys.candidates(config, None, "RS256")  # refuses what is not PEM
        for source, ca_field in _CA_OF.items():
            if doc.get(ca_field):
                if source not in config:
                    raise BadRequest(f"{ca_field} goes with {source}")
                config["ca_pem"] = _ca_pem(doc, ca_field)
        algs = string_list(doc, "jwt_supported_algs") or ["RS256", "ES256"]
        refused = [a for a in algs if a not in ALGORITHMS]
        if refused:
            raise BadRequest(
                f"jwt_supported_algs: {refused[0]!r} is not one of {', '.join(ALGORITHMS)}"
            )
        config["jwt_supported_algs"] = algs
        config["default_role"] = _text(doc, "default_role")
        self._save_config(config)

    def read_config(self, caller: Identity) -> dict[str, Any]:
        """The config in Vault's names: the CA under its source's field."""
        config = super().read_config(caller)
        ca_pem = config.pop("ca_pem", "")
        for source, ca_field in _CA_OF.items():
            config[ca_field] = ca_pem if config.get(source) else ""
        return config

    # -- roles
    def write_role(self, caller: Identity, name: str, doc: dict[str, Any]) -> None:
        self._check_role_write(caller, name, doc)
        fields = requested_fields(doc, _ROLE_PARSERS, caller)
        changed_role(self._role_records, name, fields, lambda: JwtRole([]), _check_role)

    # -- login
    def login(self, doc: dict[str, Any]) -> tuple[str, TokenInfo]:
        self._mounted()
        config = self._config()
        token = doc.get("jwt")
        if not isinstance(token, str) or not 0 < len(token) <= MAX_JWT_BYTES:
            raise BadRequest(f"jwt is a JSON Web Token of at most {MAX_JWT_BYTES} bytes")
        name = doc.get("role") or config.get("default_role") or ""
        if not isinstance(name, str) or not name:
            raise BadRequest("role is required (or set default_role in the config)")
        role = self._role_or_none(name)
        # An unknown role costs the same verification and gets the same refusal as a bad
        # token: neither the answer nor its time tells which roles exist.
        claims = self._verified(config, role or _NO_ROLE, token)
        if role is None:
            raise Unauthenticated(_FAILED)
        user = claims.get(role.user_claim)
        if not isinstance(user, str | int) or isinstance(user, bool):
            raise Unauthenticated(_FAILED)
        groups = _groups(claims, role.groups_claim) if role.groups_claim else ()
        meta = {"role": name}
        for claim, key in role.claim_mappings.items():
            if isinstance(claims.get(claim), str | int | float | bool):
                meta[key] = str(claims[claim])[:512]
        return self._tokens.create(
            ("default", *role.token_policies),
            display_name=f"{self.mount}-{user}",
            alias=str(user),
            group_aliases=groups,
            ttl=role.token_ttl,
            explicit_max_ttl=role.token_max_ttl,
            meta=meta,
            role=name,
            path=self.login_path,
        )

    def _verified(self, config: dict[str, Any], role: JwtRole, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except InvalidTokenError:
            raise Unauthenticated(_FAILED) from None
        alg = str(header.get("alg", ""))
        if alg not in config["jwt_supported_algs"]:
            raise Unauthenticated(_FAILED)
        kid = header.get("kid") if isinstance(header.get("kid"), str) else None
        options = {"require": ["exp"], "verify_aud": bool(role.bound_audiences)}
        for fresh in (False, True):
            for key in self._keys.candidates(config, kid, alg, fresh=fresh):
                try:
                    claims: dict[str, Any] = jwt.decode(
                        token,
                        key,
                        algorithms=[alg],
                        audience=role.bound_audiences or None,
                        issuer=config.get("bound_issuer") or None,
                        options=options,  # type: ignore[arg-type]
                        leeway=60,
                    )
                except InvalidTokenError:
                    continue
                if _bound(role, claims):
                    return claims
                raise Unauthenticated(_FAILED)
        raise Unauthenticated(_FAILED)


def _bound(role: JwtRole, claims: dict[str, Any]) -> bool:
    if "aud" in claims and not role.bound_audiences:
        return False  # an audience the role does not bind: Vault refuses it too
    if role.bound_subject and claims.get("sub") != role.bound_subject:
        return False
    for name, wanted in role.bound_claims.items():
        allowed = wanted if isinstance(wanted, list) else [wanted]
        value = claims.get(name)
        values = value if isinstance(value, list) else [value]
        if role.bound_claims_type == "glob":
            patterns = [_glob(str(a)) for a in allowed]
            if not any(p.fullmatch(v) for p in patterns for v in values if isinstance(v, str)):
                return False
        elif not any(v in allowed for v in values if isinstance(v, str | int)):
            return False
    return True


def _glob(pattern: str) -> re.Pattern[str]:
    """Vault's glob: ``*`` matches any run of characters, every other character itself."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


def _claims_type(doc: dict[str, Any]) -> str:
    value = doc.get("bound_claims_type", "string")
    if value not in ("string", "glob"):
        raise BadRequest("bound_claims_type is string or glob")
    return str(value)


def _ca_pem(doc: dict[str, Any], name: str) -> str:
    """The CA certificate that signs a private issuer's TLS certificate: one that parses."""
    value = _text(doc, name)
    try:
        ssl.create_default_context(cadata=value)
    except (ssl.SSLError, ValueError):
        raise BadRequest(f"{name} is not a PEM certificate") from None
    return value


def _text(doc: dict[str, Any], name: str) -> str:
    value = doc.get(name, "")
    if not isinstance(value, str) or len(value) > 2048:
        raise BadRequest(f"{name} is a string of at most 2048 characters")
    return value


def _mapping(doc: dict[str, Any], name: str, kind: Any) -> dict[str, Any]:
    value = doc.get(name) or {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, kind) for k, v in value.items()
    ):
        raise BadRequest(f"{name} is an object of claim names to values")
    if len(value) > 64:
        raise BadRequest(f"{name} holds at most 64 claims")
    return dict(value)


def _groups(claims: dict[str, Any], claim: str) -> tuple[str, ...]:
    """The groups the role's ``groups_claim`` names, as Vault reads it: a list of strings or one
    string; a claim that is missing or holds anything else fails the login."""
    value = claims.get(claim)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(g, str) for g in value):
        raise Unauthenticated(_FAILED)
    return tuple(dict.fromkeys(g for g in value if g))[:MAX_GROUPS]


def _role_type(doc: dict[str, Any]) -> str:
    if doc["role_type"] != "jwt":
        raise BadRequest("role_type is jwt (the oidc browser flow is not served)")
    return "jwt"


_ROLE_PARSERS: Parsers = {
    "role_type": _role_type,
    "bound_audiences": lambda doc: string_list(doc, "bound_audiences"),
    "user_claim": lambda doc: _text(doc, "user_claim") or "sub",
    "bound_subject": lambda doc: _text(doc, "bound_subject"),
    "bound_claims": lambda doc: _mapping(doc, "bound_claims", str | list),
    "claim_mappings": lambda doc: _mapping(doc, "claim_mappings", str),
    "token_ttl": lambda doc: parse_duration(doc["token_ttl"], "token_ttl"),
    "token_max_ttl": lambda doc: parse_duration(doc["token_max_ttl"], "token_max_ttl"),
    "token_type": token_type,
    "allowed_redirect_uris": lambda doc: string_list(doc, "allowed_redirect_uris"),
    "verbose_oidc_logging": lambda doc: flag(doc, "verbose_oidc_logging"),
    "bound_claims_type": _claims_type,
    "groups_claim": lambda doc: _text(doc, "groups_claim"),
}


def _check_role(role: JwtRole) -> None:
    if not (role.bound_audiences or role.bound_subject or role.bound_claims):
        raise BadRequest(
            "a role binds at least one of bound_audiences, bound_subject and bound_claims: "
            "otherwise any token of the issuer would log in"
        )
