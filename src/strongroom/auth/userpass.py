"""Userpass: people log in with a name and a password (Argon2id). Names are canonical, so
"Alice", " alice " and its full-width form are one user with one lockout counter."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from strongroom.auth.canonical import canonical_name
from strongroom.auth.hash_queue import HashQueue
from strongroom.auth.identity import Identity
from strongroom.auth.lockout import LoginGuard
from strongroom.auth.mounts import mounted_kind
from strongroom.auth.records import UserRecord
from strongroom.auth.token_service import string_list
from strongroom.auth.tokens import TokenInfo, TokenRegistry
from strongroom.crypto.password_hashing import dummy_verify, hash_password, verify_password
from strongroom.durations import parse_duration
from strongroom.errors import Absent, AccessDenied, BadRequest, NotFound, Unauthenticated
from strongroom.policy.parse import assignable_policies
from strongroom.store.protocol import Store

__all__ = ["DEFAULT_MOUNT", "LOGIN_PATH", "MAX_PASSWORD_BYTES", "UserpassAuth"]

DEFAULT_MOUNT = "userpass"
LOGIN_PATH = "auth/userpass/login"  # at the default mount
_KIND = "userpass-user"
_FIELDS = {"password", "token_policies", "policies", "token_ttl", "token_max_ttl"}
# Vault's older names, still taken; the newer one wins when a request sends both
_OLDER = {"ttl": "token_ttl", "max_ttl": "token_max_ttl"}
MAX_PASSWORD_BYTES = 1024
_LOGIN_FAILED = "invalid username or password"


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
        self._users = mounted_kind(_KIND, mount, DEFAULT_MOUNT)
        self._store = store
        self._tokens = tokens
        self._guard = guard
        self._hashing = hashing

    def write_user(self, caller: Identity, name: str, doc: dict[str, Any]) -> None:
        key = _user_key(name)
        path = f"auth/{self.mount}/users/{canonical_name(name)}"
        caller.require_write(path, lambda: self._store.get_record(self._users, key) is not None)
        raw = self._store.get_record(self._users, key)
        older = {new: doc[old] for old, new in _OLDER.items() if old in doc}
        doc = {**older, **{k: v for k, v in doc.items() if k not in _OLDER}}
        unknown = sorted(set(doc) - _FIELDS)
        if unknown:
            raise BadRequest(f"unknown userpass field {unknown[0]!r}")
        user = UserRecord.from_bytes(raw) if raw else UserRecord(canonical_name(name))
        if "password" in doc or not raw:
            password = _password(doc)
            user = replace(user, hash=self._hashing.run(lambda: hash_password(password)))
        if "token_policies" in doc or "policies" in doc or not raw:
            policies = string_list(doc, "token_policies") or string_list(doc, "policies")
            assignable_policies(policies)
            if "root" in policies and not caller.root:
                raise AccessDenied("only a root token can give a user the root policy")
            user = replace(user, token_policies=policies)
        if "token_ttl" in doc or not raw:
            user = replace(user, token_ttl=parse_duration(doc.get("token_ttl"), "token_ttl"))
        if "token_max_ttl" in doc or not raw:
            max_ttl = parse_duration(doc.get("token_max_ttl"), "token_max_ttl")
            user = replace(user, token_max_ttl=max_ttl)
        self._store.put_record(self._users, key, user.to_bytes())

    def update_user(self, caller: Identity, name: str, part: str, doc: dict[str, Any]) -> None:
        """Vault's ``users/<name>/password`` and ``users/<name>/policies``: one part of an
        existing user, with ``update`` on that path."""
        fields = {"password": {"password"}, "policies": {"policies", "token_policies"}}[part]
        caller.require("update", f"auth/{self.mount}/users/{canonical_name(name)}/{part}")
        if self._store.get_record(self._users, _user_key(name)) is None:
            raise NotFound("no such user")
        if not fields & set(doc):
            raise BadRequest(f"{part}: missing {' or '.join(sorted(fields))}")
        given = string_list(doc, "token_policies") or string_list(doc, "policies")
        assignable_policies(given)
        if "root" in given and not caller.root:
            raise AccessDenied("only a root token can give a user the root policy")
        # The caller's right was checked on the part's own path; the write itself is the same.
        self.write_user(Identity.system("userpass"), name, {k: doc[k] for k in fields & set(doc)})

    def read_user(self, caller: Identity, name: str) -> dict[str, Any]:
        caller.require("read", f"auth/{self.mount}/users/{canonical_name(name)}")
        raw = self._store.get_record(self._users, _user_key(name))
        if raw is None:
            raise NotFound("no such user")
        return UserRecord.from_bytes(raw).settings()

    def list_users(self, caller: Identity) -> list[str]:
        caller.require("list", f"auth/{self.mount}/users/")
        names = []
        for key in self._store.list_records(self._users):
            raw = self._store.get_record(self._users, key)
            if raw is not None:
                names.append(UserRecord.from_bytes(raw).name)
        return sorted(names)

    def delete_user(self, caller: Identity, name: str) -> None:
        caller.require("delete", f"auth/{self.mount}/users/{canonical_name(name)}")
        if not self._store.delete_record(self._users, _user_key(name)):
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
        raw = self._store.get_record(self._users, key)
        if raw is None:
            # The same time as a real check: do not reveal who exists.
            self._hashing.run(lambda: dummy_verify(password))
            raise Unauthenticated(_LOGIN_FAILED)
        user = UserRecord.from_bytes(raw)
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
