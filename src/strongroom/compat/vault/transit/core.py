"""The shared core of Transit: the mount, the caller's capability and the key's name, checked
in that order so a 404 never answers a caller without rights."""

from __future__ import annotations

from collections.abc import Callable

from strongroom.auth import Identity
from strongroom.clock import Clock
from strongroom.compat.vault.transit.models import (
    KEY_NAME_CHARS,
    MAX_KEY_NAME,
)
from strongroom.errors import (
    BadRequest,
    NoSuchNamespace,
    NotFound,
)
from strongroom.paths import check_namespace
from strongroom.service.named_keys import NamedKey, NamedKeyStore

__all__ = ["TransitCore"]


class TransitCore:
    def __init__(
        self,
        keys: NamedKeyStore,
        clock: Clock,
        kind_of: Callable[[str], str | None],
    ) -> None:
        self._keys = keys
        self._clock = clock
        self._kind_of = kind_of

    # -- checks
    def _mount(self, mount: str) -> None:
        check_namespace(mount)
        kind = self._kind_of(mount)
        if kind != "transit":
            raise (NotFound if kind else NoSuchNamespace)(f"no transit mount at {mount}/")

    def _check(self, identity: Identity, capability: str, mount: str, path: str) -> None:
        """Deny by default, then the mount (so a 404 never answers a caller without rights)."""
        identity.require(capability, f"{mount}/{path}")
        self._mount(mount)

    @staticmethod
    def _name(name: str) -> str:
        if not name or len(name) > MAX_KEY_NAME or not set(name) <= KEY_NAME_CHARS:
            raise BadRequest(f"key names are 1-{MAX_KEY_NAME} letters, digits and '-', '_' or '.'")
        return name

    def _existing(self, mount: str, name: str) -> NamedKey:
        key = self._keys.get(mount, self._name(name))
        if key is None:
            raise BadRequest("encryption key not found")
        return key

    def _exists(self, mount: str, name: str) -> Callable[[], bool]:
        """Whether key ``name`` exists, for Identity.require_write: asked only after the caller
        showed create or update, so a 404 for the mount never answers a caller without rights."""

        def exists() -> bool:
            self._mount(mount)
            return self._keys.get(mount, name) is not None

        return exists

    def check_tool(self, identity: Identity, mount: str, path: str) -> None:
        """random and hash under a Transit mount: ``update`` on the request's own path."""
        self._check(identity, "update", mount, path)
