"""The OpenAPI 3.1 document of the native API. A test checks it against the real routes."""

from __future__ import annotations

from typing import Any

from strongroom import __version__
from strongroom.server.openapi_access import ACCESS_OPERATIONS, UNAUTHENTICATED
from strongroom.server.openapi_rotation import ROTATION_OPERATIONS
from strongroom.server.openapi_shapes import QUERY_PARAMETERS, RESPONSE_SCHEMAS

__all__ = ["OPERATIONS", "openapi_document"]

_S = "/{namespace}/{path}"
_OBJ: dict[str, Any] = {"type": "object"}
_SECRET_BODY = {
    "type": "object",
    "required": ["data"],
    "properties": {"data": _OBJ, "cas": {"type": "integer", "minimum": 0}},
}
_PATCH_BODY = {
    "type": "object",
    "properties": {"data": _OBJ, "cas": {"type": "integer", "minimum": 0}},
}
_VERSIONS_BODY = {
    "type": "object",
    "required": ["versions"],
    "properties": {"versions": {"type": "array", "items": {"type": "integer", "minimum": 1}}},
}
_CONTEXT = {"type": "object", "additionalProperties": {"type": "string"}}

# (method, path, operationId, summary, request body schema or None, success status)
OPERATIONS: list[tuple[str, str, str, str, dict[str, Any] | None, int]] = [
    (
        "get",
        f"/api/v1/secrets{_S}",
        "readSecret",
        "Read the current version, or ?version=N, or ?stage=pending|previous|label",
        None,
        200,
    ),
    (
        "put",
        f"/api/v1/secrets{_S}",
        "writeSecret",
        "Write a new version (cas: check-and-set)",
        _SECRET_BODY,
        200,
    ),
    ("post", f"/api/v1/secrets{_S}", "writeSecretPost", "Same as PUT", _SECRET_BODY, 200),
    (
        "patch",
        f"/api/v1/secrets{_S}",
        "patchSecret",
        "Merge (RFC 7386) into the latest version",
        _PATCH_BODY,
        200,
    ),
    ("delete", f"/api/v1/secrets{_S}", "deleteLatest", "Soft-delete the latest version", None, 204),
    ("post", f"/api/v1/delete{_S}", "deleteVersions", "Soft-delete versions", _VERSIONS_BODY, 204),
    (
        "post",
        f"/api/v1/undelete{_S}",
        "undeleteVersions",
        "Restore soft-deleted versions",
        _VERSIONS_BODY,
        204,
    ),
    (
        "post",
        f"/api/v1/destroy{_S}",
        "destroyVersions",
        "Permanently destroy versions",
        _VERSIONS_BODY,
        204,
    ),
    (
        "post",
        f"/api/v1/rollback{_S}",
        "rollbackSecret",
        "Write the data of an older version as the newest",
        {
            "type": "object",
            "required": ["version"],
            "properties": {"version": {"type": "integer", "minimum": 1}},
        },
        200,
    ),
    ("get", f"/api/v1/metadata{_S}", "readMetadata", "Metadata and version history", None, 200),
    (
        "put",
        f"/api/v1/metadata{_S}",
        "writeMetadata",
        "Set max_versions, cas_required, custom_metadata",
        {
            "type": "object",
            "properties": {
                "max_versions": {"type": "integer", "minimum": 0},
                "cas_required": {"type": "boolean"},
                "custom_metadata": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        200,
    ),
    ("post", f"/api/v1/metadata{_S}", "writeMetadataPost", "Same as PUT", None, 200),
    (
        "delete",
        f"/api/v1/metadata{_S}",
        "deleteSecret",
        "Delete every version and the metadata",
        None,
        204,
    ),
    (
        "get",
        "/api/v1/list/{namespace}",
        "listRoot",
        "List one level (or ?recursive=true)",
        None,
        200,
    ),
    (
        "get",
        f"/api/v1/list{_S}",
        "listPrefix",
        "List one level under a prefix (or ?recursive=true)",
        None,
        200,
    ),
    (
        "get",
        "/api/v1/search/{namespace}",
        "searchSecrets",
        "Search by name and custom metadata",
        None,
        200,
    ),
    ("get", "/api/v1/namespaces", "listNamespaces", "List namespaces", None, 200),
    (
        "post",
        "/api/v1/namespaces",
        "createNamespace",
        "Create a namespace with its own keyring",
        {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
        201,
    ),
    ("get", "/api/v1/namespaces/{namespace}", "readNamespace", "Read a namespace", None, 200),
    (
        "delete",
        "/api/v1/namespaces/{namespace}",
        "deleteNamespace",
        "Delete a namespace and shred its keyring",
        None,
        204,
    ),
    (
        "get",
        "/api/v1/namespaces/{namespace}/keys",
        "keyStatus",
        "Keyring terms and their use",
        None,
        200,
    ),
    (
        "post",
        "/api/v1/namespaces/{namespace}/keys/rotate",
        "rotateKeys",
        "Add a new keyring term",
        None,
        200,
    ),
    (
        "post",
        "/api/v1/namespaces/{namespace}/keys/rewrap",
        "rewrapKeys",
        "Re-seal one batch of old versions under the active term",
        {
            "type": "object",
            "properties": {"batch_size": {"type": "integer", "minimum": 1, "maximum": 5000}},
        },
        200,
    ),
    (
        "post",
        "/api/v1/namespaces/{namespace}/datakey",
        "generateDataKey",
        "A new data key bound to a context (needs encrypt)",
        {"type": "object", "properties": {"context": _CONTEXT}},
        200,
    ),
    (
        "post",
        "/api/v1/namespaces/{namespace}/datakey/decrypt",
        "decryptDataKey",
        "Unwrap a data key with its context (needs decrypt)",
        {
            "type": "object",
            "required": ["key_ref", "wrapped"],
            "properties": {
                "key_ref": {"type": "string"},
                "wrapped": {"type": "string"},
                "context": _CONTEXT,
            },
        },
        200,
    ),
]

_ERROR = {
    "description": "Error",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "error": {
                        "type": "object",
                        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                    },
                    "request_id": {"type": "string"},
                },
            }
        }
    },
}


def _parameters(path: str) -> list[dict[str, Any]]:
    params = []
    for name in ("namespace", "path", "name", "role"):
        if "{" + name + "}" in path:
            params.append(
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            )
    return params


def openapi_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path, op_id, summary, body, status in [
        *OPERATIONS,
        *ACCESS_OPERATIONS,
        *ROTATION_OPERATIONS,
    ]:
        operation: dict[str, Any] = {
            "operationId": op_id,
            "summary": summary,
            "parameters": [*_parameters(path), *QUERY_PARAMETERS.get(op_id, [])],
            "security": [] if op_id in UNAUTHENTICATED else [{"token": []}],
            "responses": {
                str(status): {"description": "OK"}
                if status == 204
                else {
                    "description": "OK",
                    "content": {"application/json": {"schema": RESPONSE_SCHEMAS.get(op_id, _OBJ)}},
                },
                "400": _ERROR,
                "401": _ERROR,
                "403": _ERROR,
                "404": _ERROR,
            },
        }
        if body is not None:
            operation["requestBody"] = {"content": {"application/json": {"schema": body}}}
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "strongroom native API", "version": __version__},
        "paths": paths,
        "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
    }
