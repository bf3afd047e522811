"""AppRole: machine identities. A role has a role_id (like a user name) and issues secret_ids
(like passwords, each with a TTL, a use limit and CIDR binding); role_id + secret_id log in to a
token carrying the role's policies. Secret ids are stored only as HMAC digests."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import uuid
from dataclasses import replace
from typing import Any

from strongroom.auth.identity import Identity
from strongroom.auth.lockout import LoginGuard
from strongroom.auth.mounts import mounted_kind
from strongroom.auth.records import AppRoleRecord, SecretIdRecord
from strongroom.auth.request_fields import (
    count,
    flag,
    string_list,
    string_map,
    token_type,
    within,
)
from strongroom.auth.role_update import Parsers, changed_role, requested_fields
from strongroom.auth.tokens import TokenInfo, TokenRegistry
from strongroom.clock import Clock
from strongroom.durations import parse_duration
from strongroom.errors import Absent, BadRequest, NotFound, Unauthenticated
from strongroom.policy.parse import validate_policy_name
from strongroom.store.protocol import Store
from strongroom.store.records import Records
from strongroom.types import format_time

__all__ = ["DEFAULT_MOUNT", "LOGIN_PATH", "AppRoleAuth"]

DEFAULT_MOUNT = "approle"
LOGIN_PATH = "auth/approle/login"  # at the default mount
_ROLE_KIND = "approle-role"
_ROLE_ID_KIND = "approle-role-id"
_USES_KIND = "approle-secret-uses"
_ROLE_FIELDS = {
    "token_policies",
    "policies",
    "token_ttl",
    "token_max_ttl",
    "token_num_uses",
    "token_period",
    "token_type",
    "bind_secret_id",
    "secret_id_ttl",
    "secret_id_num_uses",
    "secret_id_bound_cidrs",
}
_LOGIN_FAILED = "invalid role_id or secret_id"
_MAX_CUSTOM_SECRET_ID = 4096
# A secret ID the caller chose: NIST SP 800-63B's floor for a chosen secret. Vault sets none; the
# login guard throttles and locks out guessing at any length.
_MIN_CUSTOM_SECRET_ID = 8
_NEVER = "0001-01-01T00:00:00Z"


def _secret_kind(role: str) -> str:
    return f"approle-secret:{role}"


def _accessor_kind(role: str) -> str:
    return f"approle-secret-accessor:{role}"


def _cidrs(values: list[str], name: str) -> list[str]:
    try:
        return [str(ipaddress.ip_network(v.strip(), strict=False)) for v in values]
    except ValueError:
        raise BadRequest(f"{name!r} must be a list of CIDR blocks such as 10.0.0.0/8") from None


def _check_role(role: AppRoleRecord) -> None:
    if not role.bind_secret_id and not role.secret_id_bound_cidrs:
        raise BadRequest("a role without bind_secret_id needs secret_id_bound_cidrs")


def _address_in(address: str, cidrs: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(c) for c in cidrs)


_ROLE_PARSERS: Parsers = {
    "token_ttl": lambda doc: parse_duration(doc["token_ttl"], "token_ttl"),
    "token_max_ttl": lambda doc: parse_duration(doc["token_max_ttl"], "token_max_ttl"),
    "token_period": lambda doc: parse_duration(doc["token_period"], "token_period") or 0.0,
    "token_num_uses": lambda doc: count(doc, "token_num_uses"),
    "token_type": token_type,
    "bind_secret_id": lambda doc: flag(doc, "bind_secret_id"),
    "secret_id_ttl": lambda doc: parse_duration(doc["secret_id_ttl"], "secret_id_ttl"),
    "secret_id_num_uses": lambda doc: count(doc, "secret_id_num_uses"),
    "secret_id_bound_cidrs": lambda doc: _cidrs(
        string_list(doc, "secret_id_bound_cidrs"), "secret_id_bound_cidrs"
    ),
}


class AppRoleAuth:
    def __init__(
        self,
        store: Store,
        tokens: TokenRegistry,
        guard: LoginGuard,
        clock: Clock,
        mount: str = DEFAULT_MOUNT,
    ) -> None:
        self.mount = mount
        self.login_path = f"auth/{mount}/login"
        roles = mounted_kind(_ROLE_KIND, mount, DEFAULT_MOUNT)
        self._role_records = Records(store, roles, AppRoleRecord.from_bytes, AppRoleRecord.to_bytes)
        # role_id -> the role's name: an index; the role's own role_id decides a login
        self._role_ids = Records(
            store, mounted_kind(_ROLE_ID_KIND, mount, DEFAULT_MOUNT), bytes.decode, str.encode
        )
        self._uses = mounted_kind(_USES_KIND, mount, DEFAULT_MOUNT)
        self._store = store
        self._tokens = tokens
        self._guard = guard
        self._clock = clock

    def _secrets(self, role: str) -> Records[SecretIdRecord]:
        """The role's secret IDs, by the HMAC digest of each (never the value)."""
        kind = mounted_kind(_secret_kind(role), self.mount, DEFAULT_MOUNT)
        return Records(self._store, kind, SecretIdRecord.from_bytes, SecretIdRecord.to_bytes)

    def _accessors(self, role: str) -> Records[str]:
        """The role's secret ID accessors, each naming its secret ID's digest."""
        kind = mounted_kind(_accessor_kind(role), self.mount, DEFAULT_MOUNT)
        return Records(self._store, kind, bytes.decode, str.encode)

    def _digest(self, role: str, secret_id: str) -> str:
        # A per-role key derived from the HMAC key (and the mount's path, beyond the default's).
        scope = role if self.mount == DEFAULT_MOUNT else f"{self.mount}\0{role}"
        key = self._tokens.digest(f"approle\0{scope}")
        return hmac.new(key.encode(), secret_id.encode(), hashlib.sha256).hexdigest()

    # -- roles
    def _role(self, name: str) -> AppRoleRecord:
        role = self._role_records.get(name)
        if role is None:
            raise Absent(f"no AppRole role {name!r}")
        return role

    def write_role(self, caller: Identity, name: str, doc: dict[str, Any]) -> None:
        """Create the role, or change the fields ``doc`` names (as Vault)."""
        validate_policy_name(name)
        caller.require_write(
            f"auth/{self.mount}/role/{name}", lambda: self._role_records.get(name) is not None
        )
        unknown = sorted(set(doc) - _ROLE_FIELDS)
        if unknown:
            raise BadRequest(f"unknown AppRole role field {unknown[0]!r}")
        fields = requested_fields(doc, _ROLE_PARSERS, caller)
        new_role_id = str(uuid.uuid4())
        role = changed_role(
            self._role_records, name, fields, lambda: AppRoleRecord(new_role_id), _check_role
        )
        if role.role_id == new_role_id:  # created: its role_id now names it
            self._role_ids.create(new_role_id, name)

    def read_role(self, caller: Identity, name: str) -> dict[str, Any]:
        validate_policy_name(name)
        caller.require("read", f"auth/{self.mount}/role/{name}")
        return self._role(name).settings()

    def list_roles(self, caller: Identity) -> list[str]:
        caller.require("list", f"auth/{self.mount}/role/")
        return sorted(self._role_records.names())

    def delete_role(self, caller: Identity, name: str) -> None:
        validate_policy_name(name)
        caller.require("delete", f"auth/{self.mount}/role/{name}")
        role = self._role(name)
        for accessor in self._accessors(name).names():
            self._destroy(name, accessor)
        self._role_ids.delete(role.role_id)
        self._role_records.delete(name)
        self._tokens.revoke_issued(lambda t: t.path == self.login_path and t.role == name)

    def role_id(self, caller: Identity, name: str) -> str:
        validate_policy_name(name)
        caller.require("read", f"auth/{self.mount}/role/{name}/role-id")
        return self._role(name).role_id

    # -- secret ids
    def generate_secret_id(
        self, caller: Identity, name: str, doc: dict[str, Any], *, custom: bool = False
    ) -> dict[str, Any]:
        """A new secret_id; ``custom``: the caller chose its value (``secret_id`` in ``doc``),
        which needs ``update`` on Vault's ``…/custom-secret-id``."""
        validate_policy_name(name)
        operation = "custom-secret-id" if custom else "secret-id"
        caller.require("update", f"auth/{self.mount}/role/{name}/{operation}")
        role = self._role(name)
        chosen = doc.get("secret_id") if custom else None
        lengths = range(_MIN_CUSTOM_SECRET_ID, _MAX_CUSTOM_SECRET_ID + 1)
        if custom and (not isinstance(chosen, str) or len(chosen) not in lengths):
            raise BadRequest(
                "secret_id: a custom secret ID is "
                f"{_MIN_CUSTOM_SECRET_ID} to {_MAX_CUSTOM_SECRET_ID} characters"
            )
        metadata = doc.get("metadata") or {}
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except ValueError:
                raise BadRequest("'metadata' must be a JSON object of strings") from None
        metadata = string_map({"metadata": metadata}, "metadata")
        cidrs = _cidrs(string_list(doc, "cidr_list"), "cidr_list")
        # A request may narrow the role's TTL and use count, never widen them.
        ttl = within(role.secret_id_ttl, parse_duration(doc.get("ttl"), "ttl"))
        uses = int(within(role.secret_id_num_uses, count(doc, "num_uses")) or 0)
        secret_id = chosen if isinstance(chosen, str) else secrets.token_urlsafe(32)
        accessor = secrets.token_hex(16)
        now = self._clock.now()
        record = SecretIdRecord(accessor, now, now + ttl if ttl else None, uses, cidrs, metadata)
        digest = self._digest(name, secret_id)
        if not self._secrets(name).create(digest, record):
            raise BadRequest("SecretID is already registered")
        self._accessors(name).create(accessor, digest)
        return {
            "secret_id": secret_id,
            "secret_id_accessor": accessor,
            "secret_id_ttl": int(ttl or 0),
            "secret_id_num_uses": uses,
        }

    def _secret_by_accessor(self, name: str, accessor: str) -> tuple[str, SecretIdRecord]:
        # The accessor is looked up under this role only: an accessor of another role is
        # "not found" here (CVE-2023-24999).
        digest = self._accessors(name).get(accessor)
        record = self._secrets(name).get(digest) if digest is not None else None
        if digest is None or record is None:
            raise NotFound("no secret_id with this accessor for this role")
        return digest, record

    def lookup_secret_id(
        self, caller: Identity, name: str, *, secret_id: str = "", accessor: str = ""
    ) -> dict[str, Any]:
        validate_policy_name(name)
        caller.require("update", f"auth/{self.mount}/role/{name}/secret-id")
        if secret_id:
            found = self._secrets(name).get(self._digest(name, secret_id))
            if found is None:  # Vault's answer is empty (204)
                raise Absent("no such secret_id for this role")
            record = found
        else:
            _, record = self._secret_by_accessor(name, accessor)
        return {
            "secret_id_accessor": record.accessor,
            "creation_time": format_time(record.created),
            "last_updated_time": format_time(record.created),
            # Vault prints Go's zero time for a secret ID that never expires.
            "expiration_time": format_time(record.expires) if record.expires else _NEVER,
            "secret_id_ttl": int(record.expires - record.created) if record.expires else 0,
            "secret_id_num_uses": record.num_uses,
            "cidr_list": record.cidr_list,
            "token_bound_cidrs": [],
            "metadata": record.metadata,
        }

    def destroy_secret_id(
        self, caller: Identity, name: str, *, secret_id: str = "", accessor: str = ""
    ) -> None:
        validate_policy_name(name)
        caller.require("update", f"auth/{self.mount}/role/{name}/secret-id")
        if secret_id:
            found = self._secrets(name).get(self._digest(name, secret_id))
            if found is None:  # Vault's answer is empty (204)
                raise Absent("no such secret_id for this role")
            accessor = found.accessor
        else:
            self._secret_by_accessor(name, accessor)
        self._destroy(name, accessor)

    def set_role_id(self, caller: Identity, name: str, role_id: object) -> None:
        """Give the role a role_id of the caller's choosing (Vault's POST …/role-id)."""
        validate_policy_name(name)
        caller.require("update", f"auth/{self.mount}/role/{name}/role-id")
        if not isinstance(role_id, str) or not 1 <= len(role_id) <= _MAX_CUSTOM_SECRET_ID:
            raise BadRequest(f"role_id: 1 to {_MAX_CUSTOM_SECRET_ID} characters")
        self._role(name)
        ids = self._role_ids
        owner = ids.get(role_id)
        if owner is None:
            owner = name if ids.create(role_id, name) else ids.get(role_id)
        if owner is not None and owner != name:
            raise BadRequest("role_id already in use")
        before: list[str] = []

        def edit(role: AppRoleRecord | None) -> AppRoleRecord:
            if role is None:
                raise NotFound(f"no AppRole role {name!r}")
            before[:] = [role.role_id]
            return replace(role, role_id=role_id)

        try:
            self._role_records.change(name, edit)
        except NotFound:
            ids.delete(role_id)  # the role went meanwhile
            raise
        if before[0] != role_id:
            ids.delete(before[0])

    def tidy(self, caller: Identity) -> int:
        """Remove expired secret IDs of every role; how many were removed."""
        caller.require("update", f"auth/{self.mount}/tidy/secret-id")
        now = self._clock.now()
        removed = 0
        for name in self._role_records.names():
            accessors, secret_ids = self._accessors(name), self._secrets(name)
            for accessor in accessors.names():
                digest = accessors.get(accessor)
                record = secret_ids.get(digest) if digest is not None else None
                if record is None or (record.expires is not None and record.expires <= now):
                    self._destroy(name, accessor)
                    removed += 1
        return removed

    def list_secret_ids(self, caller: Identity, name: str) -> list[str]:
        validate_policy_name(name)
        caller.require("list", f"auth/{self.mount}/role/{name}/secret-id")
        self._role(name)
        return sorted(self._accessors(name).names())

    def _destroy(self, name: str, accessor: str) -> None:
        accessors = self._accessors(name)
        digest = accessors.get(accessor)
        if digest is not None:
            self._secrets(name).delete(digest)
        accessors.delete(accessor)

    # -- login
    def login(self, role_id: Any, secret_id: Any, address: str) -> tuple[str, TokenInfo]:
        if not isinstance(role_id, str) or not role_id or not isinstance(secret_id, str):
            raise BadRequest("role_id and secret_id are required")
        self._guard.reserve(self.mount, role_id, address)
        name = self._role_ids.get(role_id.strip())
        if name is None:
            raise Unauthenticated(_LOGIN_FAILED)
        role = self._role_records.get(name)
        # The role's own role_id decides: an index entry a role_id change or a deletion left
        # behind (a crash between its writes) logs nobody in.
        if role is None or not hmac.compare_digest(role.role_id, role_id.strip()):
            raise Unauthenticated(_LOGIN_FAILED)
        if role.secret_id_bound_cidrs and not _address_in(address, role.secret_id_bound_cidrs):
            raise Unauthenticated(_LOGIN_FAILED)
        metadata: dict[str, str] = {}
        if role.bind_secret_id:
            metadata = self._check_secret_id(name, secret_id, address)
        self._guard.succeeded(self.mount, role_id, address)
        return self._tokens.create(
            ("default", *role.token_policies),
            display_name=f"approle-{name}",
            alias=role_id.strip(),  # Vault names an AppRole login by its role ID
            ttl=role.token_ttl,
            explicit_max_ttl=role.token_max_ttl,
            period=role.token_period,
            num_uses=role.token_num_uses,
            # The secret ID's metadata rides on the token, as on Vault.
            meta={**metadata, "role_name": name},
            role=name,
            path=self.login_path,
        )

    def _check_secret_id(self, name: str, secret_id: str, address: str) -> dict[str, str]:
        """The secret ID's metadata, once it proved valid (and its use was counted)."""
        digest = self._digest(name, secret_id)
        record = self._secrets(name).get(digest)
        if record is None:
            raise Unauthenticated(_LOGIN_FAILED)
        if record.expires is not None and self._clock.now() >= record.expires:
            self._destroy(name, record.accessor)
            raise Unauthenticated(_LOGIN_FAILED)
        if record.cidr_list and not _address_in(address, record.cidr_list):
            raise Unauthenticated(_LOGIN_FAILED)
        if record.num_uses:
            used = self._store.add_counter(self._uses, record.accessor, 1)
            if used >= record.num_uses:
                self._destroy(name, record.accessor)
            if used > record.num_uses:
                raise Unauthenticated(_LOGIN_FAILED)
        return dict(record.metadata)
