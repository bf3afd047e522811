"""Vault's KV v2 API over strongroom's secrets: a mount is a namespace. Parse, call the secret
service, answer in Vault's shapes; the service decides who may do what (policy/kv.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from strongroom.errors import BadRequest, CheckAndSetMismatch, NoSuchSecret, NotFound, SecretDeleted
from strongroom.server.routes import Answer, Call, Route
from strongroom.server.vault.fields import (
    go_duration,
    vault_bool,
    vault_duration,
    vault_int,
    vault_versions,
)
from strongroom.server.vault.wire import envelope, list_answer, writes
from strongroom.service.secrets import SecretService
from strongroom.types import SecretMetadata, VersionMetadata, format_time

__all__ = [
    "KV_ROUTES",
    "UnsupportedMediaType",
    "delete_latest",
    "delete_metadata",
    "delete_versions",
    "destroy_versions",
    "list_metadata",
    "patch_data",
    "patch_metadata",
    "read_config",
    "read_data",
    "read_metadata",
    "read_subkeys",
    "undelete_versions",
    "write_config",
    "write_data",
    "write_metadata",
]

_MERGE_PATCH = "application/merge-patch+json"


class UnsupportedMediaType(BadRequest):
    http_status = 415
    code = "unsupported_media_type"


def _version(meta: VersionMetadata, custom: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "created_time": format_time(meta.created_time),
        "custom_metadata": custom or None,
        "deletion_time": format_time(meta.deletion_time),
        "destroyed": meta.destroyed,
        "version": meta.version,
    }


def _deleted(call: Call, error: SecretDeleted, body: dict[str, Any]) -> Answer:
    """Vault answers a deleted or destroyed version with 404 and the full body, data null."""
    meta = VersionMetadata.from_json(error.details["metadata"])
    return envelope(call, {**body, "metadata": _version(meta)}, status=404)


def _require_merge_patch(call: Call) -> None:
    content_type = (call.header("content-type") or "").split(";")[0].strip().lower()
    if content_type != _MERGE_PATCH:
        raise UnsupportedMediaType(
            f"PATCH requires Content-Type of {_MERGE_PATCH}, provided {content_type or 'none'}"
        )


def _target(call: Call) -> tuple[str, str]:
    return call.params["mount"], call.params["path"]


def read_data(call: Call) -> Answer:
    mount, path = _target(call)
    secrets = call.services.secrets
    if not secrets.keys_in_memory(mount):
        call.must_not_block()
    version = call.query_int("version") if call.query_string else None
    try:
        value = secrets.get(call.identity, mount, path, version=version or None)
    except SecretDeleted as error:
        return _deleted(call, error, {"data": None})
    # The version metadata is audited in clear beside the HMAC'd data, as on the native API.
    return envelope(
        call,
        {"data": value.data, "metadata": _version(value.metadata, value.custom_metadata)},
        clear=("data.metadata",),
    )


def _cas(doc: dict[str, Any]) -> int | None:
    options = doc.get("options")
    if options is None:
        return None
    if not isinstance(options, dict):
        raise BadRequest("options must be an object")
    cas = options.get("cas")
    if isinstance(cas, int) and not isinstance(cas, bool) and cas < 0:
        # no version has a negative number: Vault's words for a version that does not match
        raise CheckAndSetMismatch("check-and-set parameter did not match the current version")
    return vault_int(options, "cas")


def write_data(call: Call) -> Answer:
    mount, path = _target(call)
    doc = call.json()
    data = doc.get("data")
    if data is None:
        raise BadRequest("no data provided")
    if not isinstance(data, dict):
        raise BadRequest("data must be a JSON object")
    meta = call.services.secrets.put(call.identity, mount, path, data, cas=_cas(doc))
    return envelope(call, _version(meta), clear=("data",))


def patch_data(call: Call) -> Answer:
    mount, path = _target(call)
    _require_merge_patch(call)
    doc = call.json()
    data = doc.get("data")
    if not isinstance(data, dict):
        raise BadRequest("no data provided")
    try:
        meta = call.services.secrets.patch(call.identity, mount, path, data, cas=_cas(doc))
    except SecretDeleted:
        raise NotFound("the current version is deleted") from None
    return envelope(call, _version(meta))


def delete_latest(call: Call) -> Answer:
    mount, path = _target(call)
    call.services.secrets.delete(call.identity, mount, path)
    return Answer.empty()


def _on_versions(action: Callable[..., None]) -> Callable[[Call], Answer]:
    """delete, undelete or destroy named versions. Versions of a secret that does not exist
    are nothing to do, as on Vault (the service checked the policy first)."""

    def handler(call: Call) -> Answer:
        mount, path = _target(call)
        versions = vault_versions(call.json())
        with contextlib.suppress(NoSuchSecret):
            action(call.services.secrets, call.identity, mount, path, versions)
        return Answer.empty()

    return handler


delete_versions = _on_versions(SecretService.delete)
undelete_versions = _on_versions(SecretService.undelete)
destroy_versions = _on_versions(SecretService.destroy)


def _metadata(meta: SecretMetadata) -> dict[str, Any]:
    return {
        "cas_required": meta.cas_required,
        "created_time": format_time(meta.created_time),
        "current_version": meta.current_version,
        "custom_metadata": meta.custom_metadata or None,
        "delete_version_after": go_duration(meta.delete_version_after),
        "max_versions": meta.max_versions_setting,
        # Vault counts from 0 until versions are pruned.
        "oldest_version": meta.oldest_version if meta.oldest_version > 1 else 0,
        "updated_time": format_time(meta.updated_time),
        "versions": {
            str(v.version): {
                "created_time": format_time(v.created_time),
                "deletion_time": format_time(v.deletion_time),
                "destroyed": v.destroyed,
            }
            for v in meta.versions
        },
    }


def read_metadata(call: Call) -> Answer:
    mount, path = _target(call)
    return envelope(call, _metadata(call.services.secrets.metadata(call.identity, mount, path)))


def _custom(doc: dict[str, Any]) -> Any:
    custom = doc.get("custom_metadata")
    if custom is not None and not isinstance(custom, dict):
        raise BadRequest("custom_metadata must be an object of string values")
    return custom


def write_metadata(call: Call) -> Answer:
    mount, path = _target(call)
    doc = call.json()
    call.services.secrets.write_metadata(
        call.identity,
        mount,
        path,
        max_versions=vault_int(doc, "max_versions"),
        cas_required=vault_bool(doc, "cas_required"),
        custom_metadata=_custom(doc),
        delete_version_after=vault_duration(doc, "delete_version_after"),
    )
    return Answer.empty()


def patch_metadata(call: Call) -> Answer:
    mount, path = _target(call)
    _require_merge_patch(call)
    doc = call.json()
    call.services.secrets.patch_metadata(
        call.identity,
        mount,
        path,
        max_versions=vault_int(doc, "max_versions"),
        cas_required=vault_bool(doc, "cas_required"),
        delete_version_after=vault_duration(doc, "delete_version_after"),
        custom_metadata=_custom(doc),
    )
    return Answer.empty()


def delete_metadata(call: Call) -> Answer:
    mount, path = _target(call)
    call.services.secrets.delete_all(call.identity, mount, path)
    return Answer.empty()


def list_metadata(call: Call) -> Answer:
    mount = call.params["mount"]
    keys = call.services.listing.list_keys(call.identity, mount, call.params.get("path", ""))
    return list_answer(call, keys)


def read_subkeys(call: Call) -> Answer:
    mount, path = _target(call)
    version = call.query_int("version") or None
    depth = call.query_int("depth", 0) or 0
    try:
        subkeys, meta = call.services.secrets.subkeys(
            call.identity, mount, path, version=version, depth=depth
        )
    except SecretDeleted as error:
        return _deleted(call, error, {"subkeys": None})
    return envelope(call, {"metadata": _version(meta), "subkeys": subkeys})


def read_config(call: Call) -> Answer:
    config = call.services.secrets.config(call.identity, call.params["mount"])
    return envelope(
        call,
        {
            "cas_required": config.cas_required,
            "delete_version_after": go_duration(config.delete_version_after),
            "max_versions": config.max_versions,
        },
    )


def write_config(call: Call) -> Answer:
    doc = call.json()
    call.services.secrets.write_config(
        call.identity,
        call.params["mount"],
        max_versions=vault_int(doc, "max_versions"),
        cas_required=vault_bool(doc, "cas_required"),
        delete_version_after=vault_duration(doc, "delete_version_after"),
    )
    return Answer.empty()


def _query(name: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": {"type": "integer", "minimum": 0}}


_VERSION = (_query("version"),)
_M = "/v1/{mount}"
_D = "{path:path}"


KV_ROUTES = (
    Route(
        "GET", f"{_M}/data/{_D}", read_data, "kvReadData", "A version", query=_VERSION, fast=True
    ),
    *writes(
        f"{_M}/data/{_D}", write_data, "kvWriteData", "Write a version (options.cas)", batched=True
    ),
    Route(
        "PATCH",
        f"{_M}/data/{_D}",
        patch_data,
        "kvPatchData",
        "Merge-patch the current version",
        batched=True,
    ),
    Route(
        "DELETE",
        f"{_M}/data/{_D}",
        delete_latest,
        "kvDeleteLatest",
        "Delete the latest",
        batched=True,
    ),
    *writes(
        f"{_M}/delete/{_D}", delete_versions, "kvDeleteVersions", "Delete versions", batched=True
    ),
    *writes(
        f"{_M}/undelete/{_D}",
        undelete_versions,
        "kvUndeleteVersions",
        "Undelete versions",
        batched=True,
    ),
    *writes(
        f"{_M}/destroy/{_D}",
        destroy_versions,
        "kvDestroyVersions",
        "Destroy versions",
        batched=True,
    ),
    Route("LIST", f"{_M}/metadata", list_metadata, "kvListRoot", "List the mount's top level"),
    Route("LIST", f"{_M}/metadata/{_D}", list_metadata, "kvList", "List a folder"),
    Route("GET", f"{_M}/metadata/{_D}", read_metadata, "kvReadMetadata", "Read metadata"),
    *writes(
        f"{_M}/metadata/{_D}", write_metadata, "kvWriteMetadata", "Write metadata", batched=True
    ),
    Route(
        "PATCH",
        f"{_M}/metadata/{_D}",
        patch_metadata,
        "kvPatchMetadata",
        "Patch metadata",
        batched=True,
    ),
    Route(
        "DELETE",
        f"{_M}/metadata/{_D}",
        delete_metadata,
        "kvDeleteMetadata",
        "Delete all",
        batched=True,
    ),
    Route(
        "GET",
        f"{_M}/subkeys/{_D}",
        read_subkeys,
        "kvReadSubkeys",
        "Keys without values",
        query=(*_VERSION, _query("depth")),
    ),
    Route("GET", f"{_M}/config", read_config, "kvReadConfig", "The mount's settings"),
    *writes(f"{_M}/config", write_config, "kvWriteConfig", "Change the mount's settings"),
)
