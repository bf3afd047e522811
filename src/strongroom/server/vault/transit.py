"""Vault's Transit API over strongroom's named keys: a mount of kind ``transit``. Parse, call the
Transit service, answer in Vault's shapes."""

from __future__ import annotations

import base64
from typing import Any

from strongroom.compat.vault.transit.items import Batch, ItemError, SignatureOptions
from strongroom.compat.vault.transit.models import (
    Decrypted,
    Encrypted,
    Hmac,
    ItemResult,
    Outcome,
    Signature,
    Verdict,
    key_type,
    public_keys,
)
from strongroom.errors import BadRequest
from strongroom.server.routes import Answer, Call, Route
from strongroom.server.vault.fields import vault_int
from strongroom.server.vault.system import hash_answer, random_answer
from strongroom.server.vault.transit_items import (
    data_key_item,
    decrypt_items,
    encrypt_items,
    hmac_check_items,
    input_items,
    key_config_change,
    key_settings,
    rewrap_items,
    signature_options,
    verify_items,
)
from strongroom.server.vault.wire import envelope, list_answer, writes
from strongroom.service.named_keys import NamedKey
from strongroom.types import format_time

__all__ = [
    "TRANSIT_ROUTES",
    "backup_key",
    "configure_key",
    "create_key",
    "datakey",
    "decrypt",
    "delete_key",
    "encrypt",
    "export_key",
    "hash_input",
    "hmac",
    "key_info",
    "list_keys",
    "random_bytes",
    "read_key",
    "restore_key",
    "rewrap",
    "rotate_key",
    "sign",
    "trim_key",
    "verify",
]

_CURVE_NAMES = {
    "ed25519": "ed25519",
    "ecdsa-p256": "P-256",
    "ecdsa-p384": "P-384",
    "ecdsa-p521": "P-521",
    "rsa-2048": "rsa-2048",
    "rsa-3072": "rsa-3072",
    "rsa-4096": "rsa-4096",
}


def key_info(key: NamedKey) -> dict[str, Any]:
    kind = key_type(key)
    shown = {n: v for n, v in key.versions.items() if n >= key.min_decryption_version}
    keys: dict[str, Any]
    if kind.signing:
        public = public_keys(key)
        keys = {
            str(n): {
                "certificate_chain": "",
                "creation_time": format_time(v.created),
                "name": _CURVE_NAMES[key.type],
                "public_key": public[n],
            }
            for n, v in shown.items()
        }
    else:
        keys = {str(n): int(v.created) for n, v in shown.items()}
    info: dict[str, Any] = {
        "allow_plaintext_backup": key.allow_plaintext_backup,
        "auto_rotate_period": int(key.auto_rotate_period),
        "deletion_allowed": key.deletion_allowed,
        "derived": key.derived,
        "exportable": key.exportable,
        "imported_key": False,
        "keys": keys,
        "latest_version": key.latest_version,
        "min_available_version": key.min_available_version,
        "min_decryption_version": key.min_decryption_version,
        "min_encryption_version": key.min_encryption_version,
        "name": key.name,
        "soft_deleted": False,
        "supports_decryption": kind.encryption,
        "supports_derivation": kind.derivation,
        "supports_encryption": kind.encryption,
        "supports_signing": kind.signing,
        "type": key.type,
    }
    if key.derived:
        info["kdf"] = "hkdf_sha256"
    return info


def _wire(outcome: Outcome | None) -> dict[str, Any]:
    """An item's outcome in Vault's fields (bytes in base64)."""
    match outcome:
        case Encrypted(ciphertext, key_version, plaintext):
            doc: dict[str, Any] = {"ciphertext": ciphertext, "key_version": key_version}
            if plaintext is not None:
                doc["plaintext"] = base64.b64encode(plaintext).decode()
            return doc
        case Decrypted(plaintext):
            return {"plaintext": base64.b64encode(plaintext).decode()}
        case Hmac(digest):
            return {"hmac": digest}
        case Signature(signature, key_version):
            return {"signature": signature, "key_version": key_version}
        case Verdict(valid):
            return {"valid": valid}
    return {}


def _results(call: Call, batch: Batch[Any], results: list[ItemResult]) -> Answer:
    if not batch.batch:
        return envelope(call, _wire(results[0].value))
    rendered = []
    for item, result in zip(batch.items, results, strict=True):
        reference = item.reference or ""
        if result.error:
            rendered.append({"error": result.error, "reference": reference})
        else:
            rendered.append({**_wire(result.value), "reference": reference})
    failed = any(result.error for result in results)
    return envelope(call, {"batch_results": rendered}, status=400 if failed else 200)


def _mount_name(call: Call) -> tuple[str, str]:
    return call.params["mount"], call.params["name"]


# -- keys
def create_key(call: Call) -> Answer:
    mount, name = _mount_name(call)
    key = call.services.transit.create_key(call.identity, mount, name, key_settings(call.json()))
    return envelope(call, key_info(key))


def read_key(call: Call) -> Answer:
    mount, name = _mount_name(call)
    return envelope(call, key_info(call.services.transit.read_key(call.identity, mount, name)))


def list_keys(call: Call) -> Answer:
    return list_answer(call, call.services.transit.list_keys(call.identity, call.params["mount"]))


def delete_key(call: Call) -> Answer:
    mount, name = _mount_name(call)
    call.services.transit.delete_key(call.identity, mount, name)
    return Answer.empty()


def configure_key(call: Call) -> Answer:
    mount, name = _mount_name(call)
    asked = key_config_change(call.json())
    key = call.services.transit.configure(call.identity, mount, name, asked)
    return envelope(call, key_info(key))


def rotate_key(call: Call) -> Answer:
    mount, name = _mount_name(call)
    return envelope(call, key_info(call.services.transit.rotate(call.identity, mount, name)))


def trim_key(call: Call) -> Answer:
    mount, name = _mount_name(call)
    minimum = vault_int(call.json(), "min_available_version")
    return envelope(call, key_info(call.services.transit.trim(call.identity, mount, name, minimum)))


def export_key(call: Call) -> Answer:
    mount, name = _mount_name(call)
    kind = call.params["kind"]
    key, chosen = call.services.transit.export(
        call.identity, mount, kind, name, call.params.get("version")
    )
    return envelope(
        call,
        {
            "name": key.name,
            "type": key.type,
            "keys": {str(n): base64.b64encode(raw).decode() for n, raw in chosen.items()},
        },
    )


def backup_key(call: Call) -> Answer:
    mount, name = _mount_name(call)
    return envelope(call, {"backup": call.services.transit.backup(call.identity, mount, name)})


def restore_key(call: Call) -> Answer:
    doc = call.json()
    name = call.params.get("name") or doc.get("name") or None
    if name is not None and not isinstance(name, str):
        raise BadRequest("name must be a string")
    backup = doc.get("backup")
    if not isinstance(backup, str) or not backup:
        raise BadRequest("'backup' must be supplied")
    call.services.transit.restore(
        call.identity, call.params["mount"], name, backup, doc.get("force") is True
    )
    return Answer.empty()


# -- data
def encrypt(call: Call) -> Answer:
    mount, name = _mount_name(call)
    batch = encrypt_items(call.json())
    chosen = call.json().get("type")  # for a key made on first use (any: a key that exists)
    key_type = str(chosen) if chosen else None
    results = call.services.transit.encrypt(call.identity, mount, name, batch, key_type)
    return _results(call, batch, results)


def decrypt(call: Call) -> Answer:
    mount, name = _mount_name(call)
    batch = decrypt_items(call.json())
    return _results(call, batch, call.services.transit.decrypt(call.identity, mount, name, batch))


def rewrap(call: Call) -> Answer:
    mount, name = _mount_name(call)
    batch = rewrap_items(call.json())
    return _results(call, batch, call.services.transit.rewrap(call.identity, mount, name, batch))


def datakey(call: Call) -> Answer:
    mount, name = _mount_name(call)
    item = data_key_item(call.json())
    data = call.services.transit.datakey(call.identity, mount, name, call.params["kind"], item)
    return envelope(call, _wire(data))


def _relative(call: Call) -> str:
    """The request's path below the mount: Vault's policies name it (``sign/key/sha2-512``)."""
    return call.path.split("/", 3)[3]


def _carries_hmac(doc: dict[str, Any]) -> bool:
    """An HMAC to check, in the request or in any of its items."""
    items = doc.get("batch_input")
    inputs = items if isinstance(items, list) else []
    return doc.get("hmac") is not None or any(
        isinstance(item, dict) and item.get("hmac") is not None for item in inputs
    )


def _hmac(call: Call, algorithm: str) -> Answer:
    """Compute an HMAC of each item, or check each item's HMAC when the request carries one."""
    mount, name = _mount_name(call)
    doc, transit, path = call.json(), call.services.transit, _relative(call)
    if _carries_hmac(doc):
        checks = hmac_check_items(doc)
        return _results(
            call, checks, transit.verify_hmac(call.identity, mount, name, checks, algorithm, path)
        )
    inputs = input_items(doc)
    return _results(call, inputs, transit.hmac(call.identity, mount, name, inputs, algorithm, path))


def hmac(call: Call) -> Answer:
    algorithm = call.params.get("algorithm") or call.json().get("algorithm") or "sha2-256"
    return _hmac(call, str(algorithm))


def _signature_options(call: Call) -> SignatureOptions | ItemError:
    return signature_options(call.json(), call.params.get("algorithm") or "")


def sign(call: Call) -> Answer:
    mount, name = _mount_name(call)
    batch = input_items(call.json())
    results = call.services.transit.sign(
        call.identity, mount, name, batch, _signature_options(call), _relative(call)
    )
    return _results(call, batch, results)


def verify(call: Call) -> Answer:
    doc = call.json()
    if _carries_hmac(doc):
        algorithm = (
            call.params.get("algorithm")
            or doc.get("hash_algorithm")
            or doc.get("algorithm")
            or "sha2-256"
        )
        return _hmac(call, str(algorithm))
    mount, name = _mount_name(call)
    batch = verify_items(doc)
    results = call.services.transit.verify(
        call.identity, mount, name, batch, _signature_options(call), _relative(call)
    )
    return _results(call, batch, results)


def random_bytes(call: Call) -> Answer:
    call.services.transit.check_tool(call.identity, call.params["mount"], _relative(call))
    return random_answer(call)


def hash_input(call: Call) -> Answer:
    call.services.transit.check_tool(call.identity, call.params["mount"], _relative(call))
    return hash_answer(call)


_T = "/v1/{mount}"


TRANSIT_ROUTES = (
    Route("LIST", f"{_T}/keys", list_keys, "transitListKeys"),
    Route("GET", f"{_T}/keys/{{name}}", read_key, "transitReadKey"),
    *writes(f"{_T}/keys/{{name}}", create_key, "transitCreateKey"),
    Route("DELETE", f"{_T}/keys/{{name}}", delete_key, "transitDeleteKey"),
    *writes(f"{_T}/keys/{{name}}/config", configure_key, "transitConfigureKey"),
    *writes(f"{_T}/keys/{{name}}/rotate", rotate_key, "transitRotateKey"),
    *writes(f"{_T}/keys/{{name}}/trim", trim_key, "transitTrimKey"),
    Route("GET", f"{_T}/export/{{kind}}/{{name}}", export_key, "transitExport"),
    Route("GET", f"{_T}/export/{{kind}}/{{name}}/{{version}}", export_key, "transitExportVersion"),
    Route("GET", f"{_T}/backup/{{name}}", backup_key, "transitBackup"),
    *writes(f"{_T}/restore", restore_key, "transitRestore"),
    *writes(f"{_T}/restore/{{name}}", restore_key, "transitRestoreName"),
    *writes(f"{_T}/encrypt/{{name}}", encrypt, "transitEncrypt"),
    *writes(f"{_T}/decrypt/{{name}}", decrypt, "transitDecrypt"),
    *writes(f"{_T}/rewrap/{{name}}", rewrap, "transitRewrap"),
    *writes(f"{_T}/datakey/{{kind}}/{{name}}", datakey, "transitDataKey"),
    *writes(f"{_T}/hmac/{{name}}", hmac, "transitHmac"),
    *writes(f"{_T}/hmac/{{name}}/{{algorithm}}", hmac, "transitHmacAlgorithm"),
    *writes(f"{_T}/sign/{{name}}", sign, "transitSign"),
    *writes(f"{_T}/sign/{{name}}/{{algorithm}}", sign, "transitSignAlgorithm"),
    *writes(f"{_T}/verify/{{name}}", verify, "transitVerify"),
    *writes(f"{_T}/verify/{{name}}/{{algorithm}}", verify, "transitVerifyAlgorithm"),
    *writes(f"{_T}/random", random_bytes, "transitRandom"),
    *writes(f"{_T}/random/{{bytes}}", random_bytes, "transitRandomBytes"),
    *writes(f"{_T}/hash", hash_input, "transitHash"),
    *writes(f"{_T}/hash/{{algorithm}}", hash_input, "transitHashAlgorithm"),
)
