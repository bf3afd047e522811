"""Where an auth method's records live when it is mounted somewhere besides its default path:
the same kinds, suffixed with ``@<mount>``, so a second AppRole at ``approle-ci/`` shares no role,
role ID or secret ID with ``approle/`` (and the default mount's records keep their old names).
And how a mount is named to the identity store: Vault's accessor."""

from __future__ import annotations

import hashlib
from typing import Protocol

__all__ = ["AuthMount", "mount_accessor", "mounted_kind"]


def mounted_kind(kind: str, mount: str, default: str) -> str:
    return kind if mount == default else f"{kind}@{mount}"


def mount_accessor(kind: str, path: str) -> str:
    """Vault's ``auth_<type>_<8 hex>``, from the path (a type at its own path keeps
    ``auth_<type>``); disabling a method removes the identity aliases that name it."""
    if path == kind:
        return f"auth_{kind}"
    return f"auth_{kind}_{hashlib.sha256(path.encode()).hexdigest()[:8]}"


class AuthMount(Protocol):
    """A mounted auth method, as identity aliases name it (service/auth_methods.py's)."""

    @property
    def path(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def accessor(self) -> str: ...
