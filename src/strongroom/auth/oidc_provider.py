"""Identity tokens (Vault's ``identity/oidc``): signed JWTs a logged-in workload asks for, to
prove who it is to a third party (a cloud's workload identity federation, another service, this
server's own JWT auth method), verified against the public keys published at
``identity/oidc/.well-known/keys``.

A role names a signing key, a lifetime and the audience (its ``client_id``); a key lists the
client ids it may sign for. A token's subject is the caller's entity id (auth/entities.py): a
token made by ``auth/token/create`` has none and gets no identity token, as in Vault. Keys rotate
on their ``rotation_period`` when next used, and replaced keys stay published for their
``verification_ttl``. Every operation checks the caller's policy on Vault's path first."""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import asdict, dataclass, replace
from typing import Any

import jwt
from jwt.exceptions import InvalidTokenError

from strongroom.auth.entities import entity_id
from strongroom.auth.identity import Identity
from strongroom.auth.oidc_keys import ALGORITHMS, DAY, IdentityKey, private_key
from strongroom.auth.request_fields import string_list
from strongroom.auth.tokens import TokenRegistry
from strongroom.clock import Clock
from strongroom.durations import parse_duration
from strongroom.errors import Absent, BadRequest, NotFound
from strongroom.policy.parse import validate_policy_name
from strongroom.store.protocol import Store
from strongroom.store.records import Records

__all__ = ["MAX_IDENTITY_KEYS", "MAX_TEMPLATE_BYTES", "OidcProvider", "TokenRole"]

MAX_IDENTITY_KEYS = 64  # each is published unauthenticated: the JWKS stays bounded
MAX_TEMPLATE_BYTES = 4096
_BASE = "identity/oidc"
_RESERVED = frozenset({"iss", "sub", "aud", "exp", "iat", "nbf", "namespace", "auth_time"})
_CLIENT_ID_CHARS = string.ascii_letters + string.digits


@dataclass(frozen=True)
class TokenRole:
    key: str
    client_id: str
    ttl: float = DAY
    template: str = ""  # a JSON object of static claims

    def settings(self) -> dict[str, Any]:
        return {**asdict(self), "ttl": int(self.ttl)}


class OidcProvider:
    def __init__(self, store: Store, tokens: TokenRegistry, clock: Clock) -> None:
        self._tokens = tokens
        self._clock = clock
        self._config = Records.of_json(store, "identity-oidc-config")
        self._keys = Records(store, "identity-oidc-key", IdentityKey.decode, IdentityKey.encode)
        self._roles = Records(
            store,
            "identity-oidc-role",
            lambda raw: TokenRole(**json.loads(raw)),
            lambda role: json.dumps(asdict(role)).encode(),
        )

    # -- the issuer
    def write_config(self, caller: Identity, doc: dict[str, Any]) -> None:
        caller.require("update", f"{_BASE}/config")
        _only(doc, {"issuer"}, "config")
        issuer = doc.get("issuer", "")
        if not isinstance(issuer, str):
            raise BadRequest("issuer must be text")
        if issuer and not _is_origin(issuer):
            raise BadRequest(
                "issuer is a scheme, host and optional port, without a path: https://vault.example"
            )
        self._config.change("config", lambda _: {"issuer": issuer.rstrip("/")})

    def read_config(self, caller: Identity) -> dict[str, Any]:
        caller.require("read", f"{_BASE}/config")
        return {"issuer": self._issuer()}

    def _issuer(self) -> str:
        found = self._config.get("config") or {}
        return str(found.get("issuer", ""))

    def discovery(self) -> dict[str, Any]:
        """The OIDC discovery document (public, as in Vault)."""
        issuer = f"{self._issuer()}/v1/{_BASE}"
        algorithms = sorted({key.algorithm for _, key in self._keys.items()})
        return {
            "issuer": issuer,
            "jwks_uri": f"{issuer}/.well-known/keys",
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": algorithms or ["RS256"],
        }

    def jwks(self) -> dict[str, Any]:
        """Every published public key (public, as in Vault)."""
        now = self._clock.now()
        return {"keys": [jwk for _, key in self._keys.items() for jwk in key.jwks(now)]}

    # -- keys
    def write_key(self, caller: Identity, name: str, doc: dict[str, Any]) -> None:
        doc = _given(doc)
        validate_policy_name(name)
        path = f"{_BASE}/key/{name}"
        caller.require_write(path, lambda: self._keys.get(name) is not None)
        _only(
            doc,
            {"rotation_period", "verification_ttl", "allowed_client_ids", "algorithm"},
            "key",
        )
        now = self._clock.now()

        def edit(current: IdentityKey | None) -> IdentityKey:
            if current is None and len(self._keys.names()) >= MAX_IDENTITY_KEYS:
                raise BadRequest(f"at most {MAX_IDENTITY_KEYS} identity token keys")
            base = current or IdentityKey()
            settings = _key_settings(doc, base)
            if current is None:
                return IdentityKey.create(now, **settings)
            changed = replace(current, **settings)
            if changed.algorithm != current.algorithm:  # a key of the new kind signs from now
                changed = replace(changed, versions=current.versions).rotated(now)
            return changed

        self._keys.change(name, edit)

    def read_key(self, caller: Identity, name: str) -> dict[str, Any]:
        validate_policy_name(name)
        caller.require("read", f"{_BASE}/key/{name}")
        return self._key(name).settings()

    def list_keys(self, caller: Identity) -> list[str]:
        caller.require("list", f"{_BASE}/key")
        return sorted(self._keys.names())

    def delete_key(self, caller: Identity, name: str) -> None:
        validate_policy_name(name)
        caller.require("delete", f"{_BASE}/key/{name}")
        users = sorted(role for role, found in self._roles.items() if found.key == name)
        if users:
            # Vault's words name the roles; a caller who may not list roles learns how many only
            named = ", ".join(users) if caller.allows("list", f"{_BASE}/role") else len(users)
            raise BadRequest(
                f"unable to delete key {name!r} because it is currently referenced by these "
                f"roles: {named}"
            )
        if not self._keys.delete(name):
            raise Absent(f"no identity token key {name!r}")

    def rotate_key(self, caller: Identity, name: str, doc: dict[str, Any]) -> None:
        validate_policy_name(name)
        caller.require("update", f"{_BASE}/key/{name}/rotate")
        _only(doc, {"verification_ttl"}, "rotation")
        ttl = parse_duration(doc.get("verification_ttl"), "verification_ttl")
        self._key(name)
        self._keys.change(name, lambda key: _existing(key, name).rotated(self._clock.now(), ttl))

    def _key(self, name: str) -> IdentityKey:
        return _existing(self._keys.get(name), name)

    # -- roles
    def write_role(self, caller: Identity, name: str, doc: dict[str, Any]) -> None:
        doc = _given(doc)
        validate_policy_name(name)
        caller.require_write(f"{_BASE}/role/{name}", lambda: self._roles.get(name) is not None)
        _only(doc, {"key", "ttl", "template", "client_id"}, "role")

        def edit(current: TokenRole | None) -> TokenRole:
            key_name = doc.get("key", current.key if current else "")
            if not isinstance(key_name, str) or not key_name:
                raise BadRequest("the key parameter is required")
            key = self._keys.get(key_name)
            if key is None:
                raise BadRequest(f'key "{key_name}" does not exist')
            ttl = parse_duration(doc.get("ttl"), "ttl")
            ttl = ttl if ttl is not None else (current.ttl if current else DAY)
            if ttl > key.verification_ttl:
                raise BadRequest(
                    "a role's token ttl cannot be longer than the verification_ttl of the key it "
                    "references"
                )
            client_id = current.client_id if current else _new_client_id()
            if "client_id" in doc and doc["client_id"] != client_id:
                raise BadRequest("client_id is made by the server and cannot be changed")
            template = doc.get("template", current.template if current else "")
            return TokenRole(key_name, client_id, ttl, _template(template))

        self._roles.change(name, edit)

    def read_role(self, caller: Identity, name: str) -> dict[str, Any]:
        validate_policy_name(name)
        caller.require("read", f"{_BASE}/role/{name}")
        role = self._roles.get(name)
        if role is None:
            raise NotFound(f"no identity token role {name!r}")
        return role.settings()

    def list_roles(self, caller: Identity) -> list[str]:
        caller.require("list", f"{_BASE}/role")
        return sorted(self._roles.names())

    def delete_role(self, caller: Identity, name: str) -> None:
        validate_policy_name(name)
        caller.require("delete", f"{_BASE}/role/{name}")
        if not self._roles.delete(name):
            raise Absent(f"no identity token role {name!r}")

    # -- tokens
    def token(self, caller: Identity, name: str) -> dict[str, Any]:
        """A signed identity token for the caller's entity, as the role ``name`` makes it."""
        validate_policy_name(name)
        caller.require("read", f"{_BASE}/token/{name}")
        role = self._roles.get(name)
        if role is None:
            raise BadRequest(f'role "{name}" not found')
        info = self._tokens.lookup_accessor(caller.accessor) if caller.accessor else None
        subject = entity_id(info) if info is not None else ""
        if not subject:
            raise BadRequest("no entity associated with the request's token")
        issuer = self._issuer()
        if not issuer:
            raise BadRequest(
                "no issuer is set: write identity/oidc/config issuer=https://<this server>"
            )
        now = self._clock.now()
        key = self._key(role.key)
        if not key.allows(role.client_id):
            raise BadRequest(
                f'the key "{role.key}" does not list the client ID of the role "{name}" as an '
                "allowed client ID"
            )
        if key.due(now):  # rotated by the first use after its period (another may come first)
            key = self._keys.change(
                role.key, lambda k: _rotated_if_due(_existing(k, role.key), now)
            )
        claims = {
            **(json.loads(role.template) if role.template else {}),
            "iss": f"{issuer}/v1/{_BASE}",
            "sub": subject,
            "aud": role.client_id,
            "iat": int(now),
            "exp": int(now + role.ttl),
            "namespace": "root",
        }
        signing = key.signing
        token = jwt.encode(
            claims,
            private_key(signing),
            algorithm=key.algorithm,
            headers={"kid": signing.kid},
        )
        return {"client_id": role.client_id, "token": token, "ttl": int(role.ttl)}

    def introspect(self, caller: Identity, doc: dict[str, Any]) -> dict[str, Any]:
        """Whether ``token`` is one of this server's, unexpired (and for ``client_id``)."""
        caller.require("update", f"{_BASE}/introspect")
        _only(doc, {"token", "client_id"}, "introspection")
        token, client_id = doc.get("token"), doc.get("client_id", "")
        if not isinstance(token, str) or not token or not isinstance(client_id, str):
            raise BadRequest("token is required")
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except InvalidTokenError:
            return {"active": False}
        now = self._clock.now()
        for _, key in self._keys.items():
            for version in key.published(now):
                if version.kid != kid:
                    continue
                try:
                    jwt.decode(
                        token,
                        jwt.PyJWK.from_dict(version.public_jwk),
                        algorithms=[key.algorithm],
                        audience=client_id or None,
                        issuer=f"{self._issuer()}/v1/{_BASE}",
                        options={"verify_aud": bool(client_id), "require": ["exp"]},
                    )
                except InvalidTokenError:
                    return {"active": False}
                return {"active": True}
        return {"active": False}


def _existing(key: IdentityKey | None, name: str) -> IdentityKey:
    if key is None:
        raise NotFound(f"no identity token key {name!r}")
    return key


def _rotated_if_due(key: IdentityKey, now: float) -> IdentityKey:
    return key.rotated(now) if key.due(now) else key


def _given(doc: dict[str, Any]) -> dict[str, Any]:
    """The fields given a value: a JSON null is no value, as Vault reads it (hvac sends some)."""
    return {k: v for k, v in doc.items() if v is not None}


def _only(doc: dict[str, Any], fields: set[str], what: str) -> None:
    unknown = sorted(set(doc) - fields - {"name"})
    if unknown:
        raise BadRequest(f"unknown identity token {what} field {unknown[0]!r}")


def _key_settings(doc: dict[str, Any], base: IdentityKey) -> dict[str, Any]:
    algorithm = doc.get("algorithm", base.algorithm)
    if algorithm not in ALGORITHMS:
        raise BadRequest(f"unknown signing algorithm {algorithm!r}: one of {', '.join(ALGORITHMS)}")
    rotation = parse_duration(doc.get("rotation_period"), "rotation_period")
    verification = parse_duration(doc.get("verification_ttl"), "verification_ttl")
    rotation = base.rotation_period if rotation is None else rotation
    verification = base.verification_ttl if verification is None else verification
    if rotation < 60:
        raise BadRequest("rotation_period must be at least one minute")
    if verification > 10 * rotation:
        raise BadRequest("verification_ttl cannot be longer than 10x rotation_period")
    allowed = (
        tuple(string_list(doc, "allowed_client_ids"))
        if "allowed_client_ids" in doc
        else base.allowed_client_ids
    )
    return {
        "algorithm": algorithm,
        "rotation_period": rotation,
        "verification_ttl": verification,
        "allowed_client_ids": allowed,
    }


def _template(value: object) -> str:
    """A role's template: static claims only (no identity store to fill ``{{…}}`` from)."""
    if value in ("", None):
        return ""
    if not isinstance(value, str) or len(value) > MAX_TEMPLATE_BYTES:
        raise BadRequest(f"template is a JSON object of at most {MAX_TEMPLATE_BYTES} bytes")
    if "{{" in value:
        raise BadRequest("template parameters ({{identity.…}}) are not served: static claims only")
    try:
        claims = json.loads(value)
    except ValueError:
        raise BadRequest("template is not a JSON object") from None
    if not isinstance(claims, dict):
        raise BadRequest("template is not a JSON object")
    reserved = sorted(_RESERVED & set(claims))
    if reserved:
        raise BadRequest(f'top level key "{reserved[0]}" in template is reserved')
    return value


def _new_client_id() -> str:
    return "".join(secrets.choice(_CLIENT_ID_CHARS) for _ in range(26))


def _is_origin(url: str) -> bool:
    scheme, sep, rest = url.partition("://")
    host = rest.rstrip("/")
    return (
        scheme in ("http", "https")
        and bool(sep)
        and bool(host)
        and not any(c in host for c in "/?#@ ")
        and len(url) <= 512
    )
