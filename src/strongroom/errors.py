"""The one error hierarchy. Each class carries its HTTP status, stable code and CLI exit code,
so every edge (native API, CLI, SDK) translates errors in one place."""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "Absent",
    "AccessDenied",
    "AuditIncomplete",
    "AuditUnavailable",
    "BadRequest",
    "CheckAndSetMismatch",
    "CiphertextRejected",
    "Conflict",
    "DecryptionError",
    "KeyProviderUnavailable",
    "LimitExceeded",
    "NoSuchNamespace",
    "NoSuchSecret",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "RecordDamaged",
    "RotationFailed",
    "Sealed",
    "SecretDeleted",
    "ServerUnreachable",
    "StorageFull",
    "StoreUnavailable",
    "StrongroomError",
    "TamperedRecord",
    "Unauthenticated",
    "UnsupportedFormat",
    "error_for_code",
]


class StrongroomError(Exception):
    """Base of every error strongroom raises on purpose. Messages never contain secret material."""

    http_status: ClassVar[int] = 500
    code: ClassVar[str] = "internal"
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.default_message())
        self.message = message or self.default_message()
        self.details: dict[str, Any] = {}

    @classmethod
    def default_message(cls) -> str:
        return "internal error"


class BadRequest(StrongroomError):
    http_status = 400
    code = "bad_request"
    exit_code = 2

    @classmethod
    def default_message(cls) -> str:
        return "bad request"


class LimitExceeded(BadRequest):
    code = "limit_exceeded"


class PayloadTooLarge(BadRequest):
    http_status = 413
    code = "payload_too_large"


class CheckAndSetMismatch(BadRequest):
    """A 400 as in Vault; to a script it is a conflict (exit 5), as the CLI's help says."""

    code = "cas_mismatch"
    exit_code = 5


class Unauthenticated(StrongroomError):
    http_status = 401
    code = "unauthenticated"
    exit_code = 3

    @classmethod
    def default_message(cls) -> str:
        return "missing or invalid token; set STRONGROOM_TOKEN or pass --token"


class AccessDenied(StrongroomError):
    http_status = 403
    code = "permission_denied"
    exit_code = 3

    @classmethod
    def default_message(cls) -> str:
        return "permission denied"


class NotFound(StrongroomError):
    http_status = 404
    code = "not_found"
    exit_code = 4

    @classmethod
    def default_message(cls) -> str:
        return "not found"


class NoSuchNamespace(NotFound):
    """The namespace (a Vault mount) does not exist: Vault answers with its route words."""


class Absent(NotFound):
    """The named item does not exist, where it could (its mount or kind does): Vault's API
    answers a delete of it 204, as if it had just been deleted."""


class NoSuchSecret(Absent):
    """The secret does not exist (the mount does): Vault's delete, undelete and destroy of
    versions treat that as nothing to do."""


class SecretDeleted(NotFound):
    """The version exists but was deleted or destroyed; metadata can still be shown."""

    code = "deleted"


class Conflict(StrongroomError):
    http_status = 409
    code = "conflict"
    exit_code = 5

    @classmethod
    def default_message(cls) -> str:
        return "conflict"


class DecryptionError(StrongroomError):
    """The one opaque error for every failure to open an envelope or unwrap a key."""

    http_status = 500
    code = "decryption_failed"
    exit_code = 6

    def __init__(self, message: str = "") -> None:
        # The message is fixed on purpose: detail would help an attacker.
        super().__init__("decryption failed")
        self.details = {}

    @classmethod
    def default_message(cls) -> str:
        return "decryption failed"


class CiphertextRejected(DecryptionError):
    """A ciphertext the caller sent did not open. The same opaque error, but the caller's input
    is at fault, so it is a 400 and not a 500."""

    http_status = 400


class UnsupportedFormat(DecryptionError):
    """An envelope with a format or suite byte this version does not know."""

    code = "unsupported_format"

    def __init__(self, message: str = "") -> None:
        StrongroomError.__init__(self, "unsupported envelope format")


class TamperedRecord(StrongroomError):
    """A stored record that decides access or which version is served did not open: it was
    edited, forged or moved by someone who can write the database. It is refused, never
    trusted."""

    code = "tampered_record"

    @classmethod
    def of(cls, kind: str) -> TamperedRecord:
        # Which record goes to the server log only, written by the store that found it.
        return cls(f"a stored {kind} record failed its integrity check; see docs/security.md")


class KeyProviderUnavailable(StrongroomError):
    http_status = 503
    code = "key_provider_unavailable"
    exit_code = 7

    @classmethod
    def default_message(cls) -> str:
        return "key provider unavailable"


class StoreUnavailable(StrongroomError):
    http_status = 503
    code = "store_unavailable"
    exit_code = 7

    @classmethod
    def default_message(cls) -> str:
        return "storage unavailable"


class RateLimited(StrongroomError):
    """Too many requests from one client address, or too many failed logins for one identity."""

    http_status = 429
    code = "rate_limited"
    exit_code = 8

    @classmethod
    def default_message(cls) -> str:
        return "too many requests; retry later"


class Sealed(StrongroomError):
    http_status = 503
    code = "sealed"
    exit_code = 7

    @classmethod
    def default_message(cls) -> str:
        return "the server is sealed; unseal it with: strongroom operator unseal"


class StorageFull(StrongroomError):
    """The database's disk is full: the write was not made (its transaction rolled back)."""

    http_status = 507
    code = "storage_full"
    exit_code = 7

    @classmethod
    def default_message(cls) -> str:
        return (
            "the database's disk is full: nothing was written; free space on the server's data "
            "disk, then retry (reads still work)"
        )


class RecordDamaged(StrongroomError):
    """A sealed record that decides access does not open (changed outside strongroom): what
    needs it is refused, and the message says how to write it again."""

    http_status = 503
    code = "record_damaged"
    exit_code = 7


class AuditIncomplete(StrongroomError):
    """A request that may change something ran (its request entry is on record), but its
    response entry could not be written: the change may have been made. Never a 503, which
    says "nothing was done, retry" (a load balancer would retry it)."""

    http_status = 500
    code = "audit_incomplete"
    exit_code = 7

    @classmethod
    def default_message(cls) -> str:
        return (
            "the request ran, but its response could not be audited (no audit sink can write): "
            "the change may have been made; read it back before retrying, once audit works"
        )


class AuditUnavailable(StrongroomError):
    """No audit sink accepted the entry: the request is refused (fail closed)."""

    http_status = 503
    code = "audit_unavailable"
    exit_code = 7

    @classmethod
    def default_message(cls) -> str:
        return "no audit sink can write; the request was refused"


class ServerUnreachable(StrongroomError):
    """The SDK could not reach the server at all."""

    http_status = 503
    code = "server_unreachable"
    exit_code = 7


class RotationFailed(StrongroomError):
    """A rotation step failed. Its message is kept in the rotation's history, so it must not
    contain a secret value: say what failed, not with what."""

    http_status = 502
    code = "rotation_failed"
    exit_code = 10


def _all_subclasses(cls: type[StrongroomError]) -> list[type[StrongroomError]]:
    found: list[type[StrongroomError]] = [cls]
    for sub in cls.__subclasses__():
        found.extend(_all_subclasses(sub))
    return found


def error_for_code(code: str) -> type[StrongroomError]:
    """The error class for a stable code, used by the SDK to rebuild server errors."""
    for cls in _all_subclasses(StrongroomError):
        if cls.code == code:
            return cls
    return StrongroomError
