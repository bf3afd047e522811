"""Where an auth method's records live when it is mounted somewhere besides its default path:
the same kinds, suffixed with ``@<mount>``, so a second AppRole at ``approle-ci/`` shares no role,
role ID or secret ID with ``approle/`` (and the default mount's records keep their old names)."""

from __future__ import annotations

__all__ = ["mounted_kind"]


def mounted_kind(kind: str, mount: str, default: str) -> str:
    return kind if mount == default else f"{kind}@{mount}"
