"""Parameter Store's own error codes."""

from __future__ import annotations

from strongroom.errors import BadRequest

__all__ = ["SsmError"]


class SsmError(BadRequest):
    """An answer with Parameter Store's own code."""

    def __init__(self, aws_code: str, message: str) -> None:
        super().__init__(message or aws_code)
        self.aws_code, self.message = aws_code, message  # AWS sends some with no message
