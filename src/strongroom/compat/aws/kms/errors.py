"""AWS KMS's own error codes."""

from __future__ import annotations

from strongroom.errors import BadRequest

__all__ = ["KmsError"]


class KmsError(BadRequest):
    """An answer with AWS KMS's own code (``NotFoundException``, ``DisabledException``, …)."""

    def __init__(self, aws_code: str, message: str = "") -> None:
        super().__init__(message or aws_code)
        self.aws_code = aws_code
        self.message = message  # AWS sends some with an empty message
