"""What the workload auth methods (jwt, kubernetes) share: a mount with one config and named
roles, kept as sealed records under the mount's own kinds (auth/mounts.py), guarded by the
mount's policy paths. Each method adds how its config and roles are checked, and its login."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from strongroom.auth.identity import Identity
from strongroom.auth.mounts import mounted_kind
from strongroom.auth.records import shown
from strongroom.auth.tokens import TokenRegistry
from strongroom.errors import Absent, BadRequest, NotFound
from strongroom.policy.parse import validate_policy_name
from strongroom.store.protocol import Store
from strongroom.store.records import Records

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["MOUNT_KIND", "R", "RoleMount"]

MOUNT_KIND = "auth-mount"  # the mount table's records (service/auth_methods.py)
R = TypeVar("R", bound="DataclassInstance")  # a method's role type (a frozen dataclass)


class RoleMount(Generic[R]):
    kind = ""  # the method's type: its default mount's path too
    role_class: type[R]
    role_fields: frozenset[str] = frozenset()
    config_kind = ""
    role_kind = ""

    def __init__(self, store: Store, tokens: TokenRegistry, mount: str) -> None:
        self.mount = mount
        self.login_path = f"auth/{mount}/login"
        self._store = store
        self._tokens = tokens
        roles = mounted_kind(self.role_kind, mount, self.kind)
        self._role_records = Records(store, roles, self._decode_role, _encode_role)
        # one record, "config": the method's config as one JSON object
        self._configs = Records.of_json(store, mounted_kind(self.config_kind, mount, self.kind))

    # -- the mount
    def enabled(self) -> bool:
        return Records.of_json(self._store, MOUNT_KIND).get(self.mount) is not None

    def _mounted(self) -> None:
        if not self.enabled():
            raise NotFound(
                f"no auth method at {self.mount}/; enable it: bao auth enable "
                f"-path={self.mount} {self.kind}"
            )

    def wipe(self) -> None:
        """Forget the config and roles (the mount table removes the mount and its tokens)."""
        for name in self._role_records.names():
            self._role_records.delete(name)
        self._configs.delete("config")

    # -- the config
    def _save_config(self, config: dict[str, Any]) -> None:
        self._configs.change("config", lambda _: config)  # a write replaces it whole

    def _check_config_write(self, caller: Identity, doc: dict[str, Any], fields: set[str]) -> None:
        caller.require("update", f"auth/{self.mount}/config")
        self._mounted()
        unknown = sorted(set(doc) - fields)
        if unknown:
            raise BadRequest(f"unknown {self.kind} config field {unknown[0]!r}")

    def read_config(self, caller: Identity) -> dict[str, Any]:
        caller.require("read", f"auth/{self.mount}/config")
        self._mounted()
        if self._configs.get("config") is None:
            raise NotFound(  # Vault's 404 for a config never written
                f"the {self.kind} auth method is not configured: write auth/{self.mount}/config"
            )
        return self._config()

    def _config(self) -> dict[str, Any]:
        config: dict[str, Any] | None = self._configs.get("config")
        if config is None:
            raise BadRequest(
                f"the {self.kind} auth method is not configured: write auth/{self.mount}/config"
            )
        return config

    # -- roles
    def _check_role_write(self, caller: Identity, name: str, doc: dict[str, Any]) -> None:
        validate_policy_name(name)
        caller.require_write(
            f"auth/{self.mount}/role/{name}", lambda: self._role_or_none(name) is not None
        )
        self._mounted()
        if "name" in doc and doc["name"] != name:  # hvac repeats the path's name in the body
            raise BadRequest(f"the body's name {doc['name']!r} is not the path's {name!r}")
        unknown = sorted(set(doc) - self.role_fields - {"name"})
        if unknown:
            raise BadRequest(f"unknown {self.kind} role field {unknown[0]!r}")

    def read_role(self, caller: Identity, name: str) -> dict[str, Any]:
        validate_policy_name(name)
        caller.require("read", f"auth/{self.mount}/role/{name}")
        role = self._role_or_none(name)
        if role is None:
            raise NotFound("no such role")
        return shown(asdict(role))

    def list_roles(self, caller: Identity) -> list[str]:
        caller.require("list", f"auth/{self.mount}/role")
        self._mounted()
        return sorted(self._role_records.names())

    def delete_role(self, caller: Identity, name: str) -> None:
        """The role, and every token it issued."""
        validate_policy_name(name)
        caller.require("delete", f"auth/{self.mount}/role/{name}")
        if not self._role_records.delete(name):
            raise Absent("no such role")
        login = self.login_path
        self._tokens.revoke_issued(lambda t: t.path == login and t.role == name)

    def _role_or_none(self, name: str) -> R | None:
        return self._role_records.get(name)

    def _decode_role(self, raw: bytes) -> R:
        return self.role_class(**json.loads(raw))


def _encode_role(role: DataclassInstance) -> bytes:
    return json.dumps(asdict(role)).encode()
