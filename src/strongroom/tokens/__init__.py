"""Deprecated alias of :mod:`strongroom.apptokens` (``TokenVault`` is now ``TokenSealer``), kept
for one release: the old names collided with ``auth/tokens.py`` and with the Vault API."""

from __future__ import annotations

import warnings
from typing import Any

from strongroom import apptokens as _renamed

__all__ = [*_renamed.__all__, "TokenVault"]

_OLD_NAMES = {"TokenVault": "TokenSealer"}


def __getattr__(name: str) -> Any:
    new = _OLD_NAMES.get(name, name)
    if new not in _renamed.__all__:
        raise AttributeError(name)
    warnings.warn(
        f"strongroom.tokens.{name} is deprecated: use strongroom.apptokens.{new}",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(_renamed, new)
