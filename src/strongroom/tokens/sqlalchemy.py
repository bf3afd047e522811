"""Deprecated alias of :mod:`strongroom.apptokens.sqlalchemy`, kept for one release."""

from __future__ import annotations

import warnings

from strongroom.apptokens.sqlalchemy import SealedToken

__all__ = ["SealedToken"]

warnings.warn(
    "strongroom.tokens.sqlalchemy is deprecated: use strongroom.apptokens.sqlalchemy",
    DeprecationWarning,
    stacklevel=2,
)
