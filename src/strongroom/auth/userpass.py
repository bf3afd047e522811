"""Userpass: people log in with a name and a password (Argon2id). Names are canonical, so
"Alice", " alice " and its full-width form are one user with one lockout counter."""

from __future__ import annotations

import hashlib
from typing import Any

from strongroom.auth.canonical import canonical_name
from strongroom.auth.hash_queue import HashQueue
from strongroom.auth.identity import Identity
from strongroom.auth.lockout import LoginGuard
from strongroom.auth.mounts import mounted_kind
from strongroom.auth.records import UserRecord
from strongroom.auth.role_update import Parsers, changed_role, requested_fields
from strongroom.auth.tokens import TokenInfo, TokenRegistry
from strongroom.crypto.password_hashing import dummy_verify, hash_password, verify_password
from strongroom.durations import parse_duration
from strongroom.errors import Absent, BadRequest, NotFound, Unauthenticated
from strongroom.store.protocol import Store
from strongroom.store.records import Records

__all__ = ["DEFAULT_MOUNT", "LOGIN_PATH", "MAX_PASSWORD_BYTES", "UserpassAuth"]

DEFAULT_MOUNT = "userpass"
LOGIN_PATH = "auth/userpass/login"  # at the default mount
_KIND = "userpass-user"
_FIELDS = {"password", "token_policies", "policies", "token_ttl", "token_max_ttl"}
# Vault's older names, still taken; the newer one wins when a request sends both
_OLDER = {"ttl": "token_ttl", "max_ttl": "token_max_ttl"}
MAX_PASSWORD_BYTES = 1024
_LOGIN_FAILED = "invalid username or password"
_PARSERS: Parsers = {
    "token_ttl": lambda doc: parse_duration(doc["token_ttl"], "token_ttl"),
    "token_max_ttl": lambda doc: parse_duration(doc["token_max_ttl"], "token_max_ttl"),
}


def _user_key(name: str) -> str:
    canonical = canonical_name(name)
    if not canonical or len(canonical) > 256:
        raise BadRequest("a user name has 1-256 characters")
    return hashlib.sha256(canonical.encode()).hexdigest()


def _password(doc: dict[str, Any]) -> str:
    password = doc.get("password")
    if not isinstance(password, str) or not password:
        raise BadRequest("password: a password is required")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise BadRequest(f"a password is at most {MAX_PASSWORD_BYTES} bytes")
    return password


class UserpassAuth:
    def __init__(
        self,
        store: Store,
        tokens: TokenRegistry,
        guard: LoginGuard,
        hashing: HashQueue,
        mount: str = DEFAULT_MOUNT,
    ) -> None:
        self.mount = mount
        self.login_path = f"auth/{mount}/login"
        users = mounted_kind(_KIND, mount, DEFAULT_MOUNT)
        self._user_records = Records(store, users, UserRecord.from_bytes, UserRecord.to_bytes)
        self._tokens = tokens
        self._guard = guard
        self._hashing = hashing

    def write_user(self, caller: Identity, name: str, doc: dict[str, Any]) -> None:
        """Create the user (a password is required), or change the fields ``doc`` names."""
        key = _user_key(name)
        path = f"auth/{self.mount}/users/{canonical_name(name)}"
        caller.require_write(path, lambda: self._user_records.get(key) is not None)
        older = {new: doc[old] for old, new in _OLDER.items() if old in doc}
        doc = {**older, **{k: v for k, v in doc.items() if k not in _OLDER}}
        unknown = sorted(set(doc) - _FIELDS)
        if unknown:
            raise BadRequest(f"unknown userpass field {unknown[0]!r}")
        self._change(key, canonical_name(name), self._fields(caller, doc), create=True)

    def update_user(self, caller: Identity, name: str, part: str, doc: dict[str, Any]) -> None:
        """Vault's ``users/<name>/password`` and ``users/<name>/policies``: one part of an
        existing user, with ``update`` on that path."""
        named = {"password": {"password"}, "policies": {"policies", "token_policies"}}[part]
        caller.require("update", f"auth/{self.mount}/users/{canonical_name(name)}/{part}")
        key = _user_key(name)
        if self._user_records.get(key) is None:
            raise NotFound("no such user")
        if not named & set(doc):
            raise BadRequest(f"{part}: missing {' or '.join(sorted(named))}")
        fields = self._fields(caller, {k: doc[k] for k in named & set(doc)})
        self._change(key, canonical_name(name), fields, create=False)

    def _fields(self, caller: Identity, doc: dict[str, Any]) -> dict[str, Any]:
        """The fields ``doc`` names, parsed; a password becomes its hash."""
        fields = requested_fields(doc, _PARSERS, caller, "a user")
        if "password" in doc:
            password = _password(doc)
            fields["hash"] = self._hashing.run(lambda: hash_password(password))
        return fields

    def _change(self, key: str, name: str, fields: dict[str, Any], *, create: bool) -> None:
        def new() -> UserRecord:
            if not create:
                raise NotFound("no such user")  # deleted since the caller's check
            if "hash" not in fields:
                raise BadRequest("password: a password is required")
            return UserRecord(name)

        changed_role(self._user_records, key, fields, new)

    def read_user(self, caller: Identity, name: str) -> dict[str, Any]:
        caller.require("read", f"auth/{self.mount}/users/{canonical_name(name)}")
        user = self._user_records.get(_user_key(name))
        if user is None:
            raise NotFound("no such user")
        return user.settings()

    def list_users(self, caller: Identity) -> list[str]:
        caller.require("list", f"auth/{self.mount}/users/")
        return sorted(user.name for _, user in self._user_records.items())

    def delete_user(self, caller: Identity, name: str) -> None:
        caller.require("delete", f"auth/{self.mount}/users/{canonical_name(name)}")
        if not self._user_records.delete(_user_key(name)):
            raise Absent("no such user")
        gone = canonical_name(name)
        self._tokens.revoke_issued(
            lambda t: (
                t.path == self.login_path and canonical_name(t.meta.get("username", "")) == gone
            )
        )

    def login(self, name: str, doc: dict[str, Any], address: str) -> tuple[str, TokenInfo]:
        password = _password(doc)
        key = _user_key(name)
        self._guard.reserve(self.mount, name, address)
        user = self._user_records.get(key)
        if user is None:
            # The same time as a real check: do not reveal who exists.
            self._hashing.run(lambda: dummy_verify(password))
            raise Unauthenticated(_LOGIN_FAILED)
        if not self._hashing.run(lambda: verify_password(password, user.hash)):
            raise Unauthenticated(_LOGIN_FAILED)
        self._guard.succeeded(self.mount, name, address)
        return self._tokens.create(
            ("default", *user.token_policies),
            display_name=f"userpass-{user.name}",
            alias=user.name,
            ttl=user.token_ttl,
            explicit_max_ttl=user.token_max_ttl,
            meta={"username": user.name},
            path=self.login_path,
        )
