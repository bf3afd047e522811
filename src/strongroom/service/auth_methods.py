"""The auth methods a server offers, as a mountable list (Vault's ``sys/auth``).

``token/``, ``approle/`` and ``userpass/`` are always there. Any other mount is a record naming
its type (approle, userpass, jwt, kubernetes), so a method may be mounted at any path and more
than once (``approle-ci/``, ``jwt-github/``): each mount keeps its own roles, users and config
(auth/mounts.py) and guards them with its own policy paths (``auth/<mount>/…``). A type's name is
reserved for that type (``jwt/`` can only be a jwt mount). Disabling a mount wipes what it holds
and revokes every token it issued, as Vault does."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from strongroom.auth import Identity
from strongroom.auth.mount_tuning import MountTuning, TuneRequest, auth_mount_key
from strongroom.auth.mounts import mount_accessor
from strongroom.auth.role_mount import MOUNT_KIND
from strongroom.auth.tokens import TokenRegistry
from strongroom.errors import BadRequest, NotFound
from strongroom.store.protocol import Store
from strongroom.store.records import Records

__all__ = [
    "AUTH_METHODS",
    "AUTH_TYPES",
    "MAX_DESCRIPTION",
    "AuthMethod",
    "AuthMethodService",
    "BackendFactory",
]


@dataclass(frozen=True)
class AuthMethod:
    path: str  # without the trailing '/'
    kind: str
    description: str
    tuning: MountTuning = field(default_factory=MountTuning)

    @property
    def accessor(self) -> str:
        return mount_accessor(self.kind, self.path)


AUTH_METHODS = (
    AuthMethod("token", "token", "token based credentials"),
    AuthMethod("approle", "approle", "AppRole: machine logins with a role_id and a secret_id"),
    AuthMethod("userpass", "userpass", "users and passwords"),
)
_BUILT_IN = {method.path: method for method in AUTH_METHODS}
AUTH_TYPES = ("approle", "userpass", "jwt", "kubernetes")  # what a mount may be
_S = TypeVar("_S")  # the services a request sees
_MOUNT_PATH = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
MAX_DESCRIPTION = 256

BackendFactory = Callable[[str, str], Any]  # (type, mount) -> that type's backend at that mount


class AuthMethodService:
    def __init__(
        self,
        store: Store,
        tokens: TokenRegistry,
        make: BackendFactory,
        defaults: dict[str, Any],
    ) -> None:
        self._mounts = Records.of_json(store, MOUNT_KIND)  # path -> type and description
        self._tokens = tokens
        self._make = make
        self._backends: dict[tuple[str, str], Any] = {
            (kind, kind): backend for kind, backend in defaults.items()
        }
        self._lock = threading.Lock()
        self.on_disable: list[Callable[[AuthMethod], None]] = []  # the identity store's aliases

    # -- the table
    def _records(self) -> dict[str, AuthMethod]:
        found = {}
        for path in self._mounts.names():
            method = self._record(path)
            if method is not None:
                found[path] = method
        return found

    def _record(self, path: str) -> AuthMethod | None:
        doc = self._mounts.get(path)
        if doc is None:
            return None
        kind = str(doc.get("type", ""))
        description = str(doc.get("description") or "")  # Vault's: none unless given
        return AuthMethod(path, kind, description)

    def kind_at(self, path: str) -> str | None:
        """The type mounted at ``path``, or None: what the front door routes a request by."""
        built_in = _BUILT_IN.get(path)
        if built_in is not None:
            return built_in.kind
        method = self._record(path)
        return method.kind if method is not None else None

    def _backend(self, kind: str, path: str) -> Any:
        key = (kind, path)
        with self._lock:
            found = self._backends.get(key)
            if found is None:
                found = self._backends[key] = self._make(kind, path)
            return found

    def bind(self, services: _S, path: str) -> _S:
        """``services`` with the backend of the method at ``path`` in its type's place, so a
        handler written for ``approle/`` serves ``approle-ci/`` unchanged."""
        kind = self.kind_at(path)
        if kind is None or kind == "token":
            return services
        return replace(services, **{kind: self._backend(kind, path)})  # type: ignore[type-var]

    def _methods(self) -> tuple[AuthMethod, ...]:
        mounted = (*AUTH_METHODS, *sorted(self._records().values(), key=lambda m: m.path))
        tunings = self._tokens.tunings
        return tuple(_tuned(m, tunings.of(auth_mount_key(m.path))) for m in mounted)

    def _known(self, path: str) -> AuthMethod:
        path = path.strip("/")
        for method in self._methods():
            if method.path == path:
                return method
        raise NotFound(f"no auth method at {path}/")

    def mounted(self) -> tuple[AuthMethod, ...]:
        """Every method, for the identity store's aliases (the server's own look-up)."""
        return self._methods()

    def list_methods(self, identity: Identity) -> tuple[AuthMethod, ...]:
        identity.require("read", "sys/auth")
        return self._methods()

    # -- enable and disable
    def enable(self, identity: Identity, path: str, kind: str, description: str = "") -> None:
        """Mount a method of type ``kind`` at ``path``. The built-in ones are accepted (nothing
        to do) at their own paths."""
        path = path.strip("/")
        identity.require("sudo", f"sys/auth/{path}")
        if not kind:
            raise BadRequest(f"type: an auth method's type is required ({', '.join(AUTH_TYPES)})")
        built_in = _BUILT_IN.get(path)
        if built_in is not None:
            if built_in.kind != kind:
                raise BadRequest(f"path is already in use at {path}/")
            return
        if kind not in AUTH_TYPES:
            raise BadRequest(
                f"unknown auth method type {kind!r}; strongroom serves: {', '.join(AUTH_TYPES)}"
            )
        if not _MOUNT_PATH.fullmatch(path):
            raise BadRequest(
                "an auth method's path is 1-64 of a-z 0-9 . _ - (one segment), starting with a "
                "letter or digit"
            )
        if (path in AUTH_TYPES and path != kind) or path == "token":
            raise BadRequest(f"{path}/ is reserved for the {path} auth method")
        if len(description) > MAX_DESCRIPTION:
            raise BadRequest(f"description is text of at most {MAX_DESCRIPTION} characters")
        with self._lock:
            record = {"type": kind, "description": description}
            # created only if absent: another node may enable the same path at the same moment
            if not self._mounts.create(path, record):
                raise BadRequest(f"path is already in use at {path}/")

    def disable(self, identity: Identity, path: str) -> None:
        """Wipes what the method holds (roles, secret IDs, users, config) and revokes the tokens
        its logins issued. A built-in method is emptied but stays mounted."""
        path = path.strip("/")
        identity.require("sudo", f"sys/auth/{path}")
        if path == "token":
            raise BadRequest("the token auth method cannot be disabled")
        kind = self.kind_at(path)
        if kind is None:
            return  # Vault: disabling what is not mounted succeeds
        backend = self._backend(kind, path)
        # sudo on sys/auth/<path> is the whole right, as in Vault: what the method holds goes
        # with it whatever the caller may do with its roles or users
        wiping = Identity.system("auth-disable")
        if kind == "approle":
            for role in backend.list_roles(wiping):
                backend.delete_role(wiping, role)
        elif kind == "userpass":
            for user in backend.list_users(wiping):
                backend.delete_user(wiping, user)
        else:
            backend.wipe()
        for forget in self.on_disable:
            forget(AuthMethod(path, kind, ""))
        self._mounts.delete(path)
        self._tokens.tunings.forget(auth_mount_key(path))
        if path != kind:  # a default backend is kept: it serves the next mount there
            with self._lock:
                self._backends.pop((kind, path), None)
        self._tokens.revoke_issued(lambda t: t.path == f"auth/{path}/login")

    def read_tune(self, identity: Identity, path: str) -> AuthMethod:
        identity.require("read", f"sys/auth/{path.strip('/')}/tune")
        return self._known(path)

    def write_tune(self, identity: Identity, path: str, request: TuneRequest) -> AuthMethod:
        """Sets the method's lease TTLs (which bound its logins' tokens) and description."""
        identity.require("sudo", f"sys/auth/{path.strip('/')}/tune")
        method = self._known(path)
        if request.description is not None and len(request.description) > MAX_DESCRIPTION:
            raise BadRequest(f"description is text of at most {MAX_DESCRIPTION} characters")
        return _tuned(method, self._tokens.tunings.tune(auth_mount_key(method.path), request))


def _tuned(method: AuthMethod, tuning: MountTuning) -> AuthMethod:
    """``method`` as tuned: its TTLs, and its description when a tune set one."""
    description = method.description if tuning.description is None else tuning.description
    return replace(method, description=description, tuning=tuning)
