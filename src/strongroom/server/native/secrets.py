"""Native routes of secrets: versions, metadata, listing and search. Parse, call the service,
answer; no business logic here."""

from __future__ import annotations

from strongroom.durations import parse_duration
from strongroom.errors import BadRequest
from strongroom.server.bodies import body_int, versions_field
from strongroom.server.native.schemas import (
    KEYS_PAGE,
    LABEL_BODY,
    LIST_QUERY,
    METADATA_BODY,
    PATCH_BODY,
    READ_QUERY,
    ROLLBACK_BODY,
    SEARCH_QUERY,
    SECRET,
    SECRET_BODY,
    VERSION_METADATA,
    VERSIONS_BODY,
)
from strongroom.server.routes import Answer, Call, Route

__all__ = [
    "SECRET_ROUTES",
    "delete_latest",
    "delete_secret",
    "delete_versions",
    "destroy_versions",
    "list_secrets",
    "patch_secret",
    "read_metadata",
    "read_secret",
    "rollback_secret",
    "search_secrets",
    "set_label",
    "undelete_versions",
    "write_metadata",
    "write_secret",
]


def _target(call: Call) -> tuple[str, str]:
    return call.params["namespace"], call.params["path"]


def read_secret(call: Call) -> Answer:
    """Fast: one indexed read and an in-memory keyring. A keyring not in memory may need the key
    provider (a network call), so that read goes to a worker thread."""
    ns, path = _target(call)
    secrets = call.services.secrets
    if not secrets.keys_in_memory(ns):
        call.must_not_block()
    if not call.query_string:  # the common read: the current version
        value = secrets.get(call.identity, ns, path)
    elif stage := call.query.get("stage"):
        value = secrets.get_stage(call.identity, ns, path, stage)
    else:
        value = secrets.get(call.identity, ns, path, version=call.query_int("version"))
    # The version metadata (number, times, state) is audited in clear beside the HMAC'd data.
    return Answer(value.to_json(), clear=("metadata",))


def write_secret(call: Call) -> Answer:
    ns, path = _target(call)
    doc = call.json()
    if "data" not in doc:
        raise BadRequest('body must be {"data": {...}, "cas": N}')
    data = doc["data"]
    if not isinstance(data, dict):
        raise BadRequest("secret data must be a JSON object of key/value pairs")
    meta = call.services.secrets.put(call.identity, ns, path, data, cas=body_int(doc, "cas"))
    return Answer(meta.to_json())


def patch_secret(call: Call) -> Answer:
    ns, path = _target(call)
    doc = call.json()
    data = doc.get("data")
    if not isinstance(data, dict):
        raise BadRequest("patch data must be a JSON object")
    meta = call.services.secrets.patch(call.identity, ns, path, data, cas=body_int(doc, "cas"))
    return Answer(meta.to_json())


def delete_latest(call: Call) -> Answer:
    ns, path = _target(call)
    call.services.secrets.delete(call.identity, ns, path)
    return Answer.empty()


def delete_versions(call: Call) -> Answer:
    ns, path = _target(call)
    call.services.secrets.delete(call.identity, ns, path, versions_field(call.json()))
    return Answer.empty()


def undelete_versions(call: Call) -> Answer:
    ns, path = _target(call)
    call.services.secrets.undelete(call.identity, ns, path, versions_field(call.json()))
    return Answer.empty()


def destroy_versions(call: Call) -> Answer:
    ns, path = _target(call)
    call.services.secrets.destroy(call.identity, ns, path, versions_field(call.json()))
    return Answer.empty()


def rollback_secret(call: Call) -> Answer:
    ns, path = _target(call)
    version = body_int(call.json(), "version")
    if not version:
        raise BadRequest('body must be {"version": N}')
    return Answer(call.services.secrets.rollback(call.identity, ns, path, version).to_json())


def read_metadata(call: Call) -> Answer:
    ns, path = _target(call)
    return Answer(call.services.secrets.metadata(call.identity, ns, path).to_json())


def write_metadata(call: Call) -> Answer:
    ns, path = _target(call)
    doc = call.json()
    cas_required = doc.get("cas_required")
    if cas_required is not None and not isinstance(cas_required, bool):
        raise BadRequest("cas_required must be true or false")
    meta = call.services.secrets.write_metadata(
        call.identity,
        ns,
        path,
        max_versions=body_int(doc, "max_versions"),
        cas_required=cas_required,
        custom_metadata=doc.get("custom_metadata"),
        delete_version_after=parse_duration(
            doc.get("delete_version_after"), "delete_version_after"
        ),
    )
    return Answer(meta.to_json()) if meta is not None else Answer.empty()


def delete_secret(call: Call) -> Answer:
    ns, path = _target(call)
    call.services.secrets.delete_all(call.identity, ns, path)
    return Answer.empty()


def list_secrets(call: Call) -> Answer:
    ns = call.params["namespace"]
    prefix = call.params.get("path", "")
    listing = call.services.listing
    if call.query.get("recursive") in ("true", "1"):
        keys, cursor = listing.list_recursive(
            call.identity,
            ns,
            prefix,
            after=call.query.get("after", ""),
            limit=call.query_int("limit", 1000) or 1000,
        )
        return Answer({"keys": keys, "next": cursor})
    return Answer({"keys": listing.list_keys(call.identity, ns, prefix), "next": ""})


def search_secrets(call: Call) -> Answer:
    metadata: dict[str, str] = {}
    for pair in call.query.getlist("metadata"):
        key, sep, value = pair.partition("=")
        if not sep:
            raise BadRequest("metadata filters are key=value")
        metadata[key] = value
    paths, cursor = call.services.listing.search(
        call.identity,
        call.params["namespace"],
        prefix=call.query.get("prefix", ""),
        name=call.query.get("name", ""),
        metadata=metadata,
        limit=call.query_int("limit", 1000) or 1000,
        after=call.query.get("after", ""),
    )
    return Answer({"keys": paths, "next": cursor})


def set_label(call: Call) -> Answer:
    ns, path = _target(call)
    doc = call.json()
    label = doc.get("label")
    if not isinstance(label, str):
        raise BadRequest('body must be {"label": "name", "version": N} (version null removes it)')
    version = body_int(doc, "version")
    staged = call.services.secrets.set_label(call.identity, ns, path, label, version)
    return Answer({"data": {"labels": dict(staged.labels)}})


_P = "/api/v1"
_S = "/{namespace}/{path:path}"

SECRET_ROUTES = (
    Route(
        "GET",
        f"{_P}/secrets{_S}",
        read_secret,
        "readSecret",
        "Read the current version, or ?version=N, or ?stage=pending|previous|label",
        query=READ_QUERY,
        response=SECRET,
        fast=True,
    ),
    Route(
        "PUT",
        f"{_P}/secrets{_S}",
        write_secret,
        "writeSecret",
        "Write a new version (cas: check-and-set)",
        body=SECRET_BODY,
        response=VERSION_METADATA,
        batched=True,
    ),
    Route(
        "POST",
        f"{_P}/secrets{_S}",
        write_secret,
        "writeSecretPost",
        "Same as PUT",
        body=SECRET_BODY,
        response=VERSION_METADATA,
        batched=True,
    ),
    Route(
        "PATCH",
        f"{_P}/secrets{_S}",
        patch_secret,
        "patchSecret",
        "Merge (RFC 7386) into the latest version",
        body=PATCH_BODY,
        response=VERSION_METADATA,
        batched=True,
    ),
    Route(
        "DELETE",
        f"{_P}/secrets{_S}",
        delete_latest,
        "deleteLatest",
        "Soft-delete the latest version",
        status=204,
        batched=True,
    ),
    Route(
        "POST",
        f"{_P}/delete{_S}",
        delete_versions,
        "deleteVersions",
        "Soft-delete versions",
        body=VERSIONS_BODY,
        status=204,
        batched=True,
    ),
    Route(
        "POST",
        f"{_P}/undelete{_S}",
        undelete_versions,
        "undeleteVersions",
        "Restore soft-deleted versions",
        body=VERSIONS_BODY,
        status=204,
        batched=True,
    ),
    Route(
        "POST",
        f"{_P}/destroy{_S}",
        destroy_versions,
        "destroyVersions",
        "Permanently destroy versions",
        body=VERSIONS_BODY,
        status=204,
        batched=True,
    ),
    Route(
        "POST",
        f"{_P}/rollback{_S}",
        rollback_secret,
        "rollbackSecret",
        "Write the data of an older version as the newest",
        body=ROLLBACK_BODY,
        response=VERSION_METADATA,
        batched=True,
    ),
    Route(
        "GET", f"{_P}/metadata{_S}", read_metadata, "readMetadata", "Metadata and version history"
    ),
    Route(
        "PUT",
        f"{_P}/metadata{_S}",
        write_metadata,
        "writeMetadata",
        "Set max_versions, cas_required, custom_metadata",
        body=METADATA_BODY,
        batched=True,
    ),
    Route(
        "POST",
        f"{_P}/metadata{_S}",
        write_metadata,
        "writeMetadataPost",
        "Same as PUT",
        body=METADATA_BODY,
        batched=True,
    ),
    Route(
        "DELETE",
        f"{_P}/metadata{_S}",
        delete_secret,
        "deleteSecret",
        "Delete every version and the metadata",
        status=204,
        batched=True,
    ),
    Route(
        "GET",
        f"{_P}/list/{{namespace}}",
        list_secrets,
        "listRoot",
        "List one level (or ?recursive=true)",
        query=LIST_QUERY,
        response=KEYS_PAGE,
    ),
    Route(
        "GET",
        f"{_P}/list{_S}",
        list_secrets,
        "listPrefix",
        "List one level under a prefix (or ?recursive=true)",
        query=LIST_QUERY,
        response=KEYS_PAGE,
    ),
    Route(
        "GET",
        f"{_P}/search/{{namespace}}",
        search_secrets,
        "searchSecrets",
        "Search by name and custom metadata",
        query=SEARCH_QUERY,
        response=KEYS_PAGE,
    ),
    Route(
        "POST",
        f"{_P}/labels{_S}",
        set_label,
        "setLabel",
        "Move a custom staging label (version null removes it)",
        body=LABEL_BODY,
        batched=True,
    ),
)
