"""Secrets Manager's own error codes, and the words it answers with."""

from __future__ import annotations

from strongroom.errors import BadRequest

__all__ = ["MARKED", "SecretsManagerError", "not_found"]

MARKED = "You can't perform this operation on the secret because it was marked for deletion."


class SecretsManagerError(BadRequest):
    """An answer with Secrets Manager's own code."""

    def __init__(self, aws_code: str, message: str) -> None:
        super().__init__(message)
        self.aws_code = aws_code


def not_found(message: str = "Secrets Manager can't find the specified secret.") -> Exception:
    return SecretsManagerError("ResourceNotFoundException", message)
