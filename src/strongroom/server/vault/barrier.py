"""Vault's encryption key endpoints (service/encryption_key.py): ``sys/rotate``,
``sys/key-status``, and ``sys/rekey/backup``, which strongroom never has (it keeps no copy of
unseal key shares)."""

from __future__ import annotations

from strongroom.server.routes import Answer, Call, Route
from strongroom.server.vault.mounts import top_and_data
from strongroom.server.vault.wire import writes
from strongroom.types import format_time

__all__ = ["BARRIER_ROUTES", "backed_up_keys", "delete_backed_up_keys", "key_status", "rotate"]


def rotate(call: Call) -> Answer:
    call.services.encryption_key.rotate(call.identity)
    return Answer.empty()


def key_status(call: Call) -> Answer:
    status = call.services.encryption_key.status(call.identity)
    return top_and_data(
        call,
        {
            "term": status.term,
            "install_time": format_time(status.installed),
            "encryptions": status.encryptions,
        },
    )


def backed_up_keys(call: Call) -> Answer:
    call.services.encryption_key.backed_up_keys(call.identity)
    return Answer.empty()  # never reached: there are none


def delete_backed_up_keys(call: Call) -> Answer:
    call.services.encryption_key.backed_up_keys(call.identity, delete=True)
    return Answer.empty()


BARRIER_ROUTES = (
    *writes("/v1/sys/rotate", rotate, "vaultRotateEncryptionKey"),
    Route("GET", "/v1/sys/key-status", key_status, "vaultEncryptionKeyStatus"),
    Route("GET", "/v1/sys/rekey/backup", backed_up_keys, "vaultReadBackupKeys"),
    Route("DELETE", "/v1/sys/rekey/backup", delete_backed_up_keys, "vaultDeleteBackupKeys"),
)
