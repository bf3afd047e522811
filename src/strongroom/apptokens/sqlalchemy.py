"""A SQLAlchemy column type for sealed tokens (``pip install 'strongroom[sqlalchemy]'``).

The column stores envelope bytes and refuses anything else, so plaintext cannot be assigned
to it by mistake. Seal with ``TokenSealer.seal`` and open inside a worker context."""

from __future__ import annotations

from typing import Any

from strongroom.crypto.envelope import parse_envelope
from strongroom.errors import UnsupportedFormat

try:
    from sqlalchemy.engine import Dialect
    from sqlalchemy.types import LargeBinary, TypeDecorator
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError("the column type needs: pip install 'strongroom[sqlalchemy]'") from exc

__all__ = ["SealedToken"]


class SealedToken(TypeDecorator[bytes]):
    """``github_token: Mapped[bytes | None] = mapped_column(SealedToken())``"""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        if not isinstance(value, bytes):
            raise TypeError(
                "a SealedToken column takes the bytes of TokenSealer.seal(), never plaintext"
            )
        try:
            parse_envelope(value)
        except UnsupportedFormat:
            raise
        except Exception:
            raise TypeError(
                "a SealedToken column takes the bytes of TokenSealer.seal(), never plaintext"
            ) from None
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> bytes | None:
        return bytes(value) if value is not None else None
