"""The query parameters and response documents of the native API, for the OpenAPI document
(generated clients need them, and the fuzz test generates values for every query parameter)."""

from __future__ import annotations

from typing import Any

from strongroom.limits import MAX_INTEGER

__all__ = ["QUERY_PARAMETERS", "RESPONSE_SCHEMAS"]

_STR: dict[str, Any] = {"type": "string"}
_OBJ: dict[str, Any] = {"type": "object"}
_VERSION = {"type": "integer", "minimum": 1, "maximum": MAX_INTEGER}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


_LIST = [
    _query(
        "recursive", {"type": "string", "enum": ["true", "false", "1", "0"]}, "every path, paged"
    ),
    _query("after", _STR, "the 'next' cursor of the previous page (opaque)"),
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "paths per page"),
]

QUERY_PARAMETERS: dict[str, list[dict[str, Any]]] = {
    "readSecret": [
        _query("version", _VERSION, "a version number instead of the current one"),
        _query("stage", _STR, "a staging label: current, pending, previous or your own"),
    ],
    "listRoot": _LIST,
    "listPrefix": _LIST,
    "searchSecrets": [
        _query("prefix", _STR, "only paths under this prefix"),
        _query("name", _STR, "a glob (* ? [) or a case-insensitive substring of the path"),
        _query(
            "metadata",
            {"type": "array", "items": {"type": "string", "pattern": "^[^=]+=.*$"}},
            "key=value pairs the custom metadata must hold (repeatable)",
        ),
        _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "paths per page"),
        _query("after", _STR, "the 'next' cursor of the previous page (opaque)"),
    ],
}

_VERSION_METADATA = {
    "type": "object",
    "required": ["version", "created_time", "deletion_time", "destroyed"],
    "properties": {
        "version": {"type": "integer"},
        "created_time": _STR,
        "deletion_time": _STR,
        "destroyed": {"type": "boolean"},
    },
}
_KEYS_PAGE = {
    "type": "object",
    "required": ["keys", "next"],
    "properties": {"keys": {"type": "array", "items": _STR}, "next": _STR},
}

RESPONSE_SCHEMAS: dict[str, dict[str, Any]] = {
    "readSecret": {
        "type": "object",
        "required": ["data", "metadata"],
        "properties": {"data": _OBJ, "metadata": _VERSION_METADATA, "custom_metadata": _OBJ},
    },
    "writeSecret": _VERSION_METADATA,
    "writeSecretPost": _VERSION_METADATA,
    "patchSecret": _VERSION_METADATA,
    "rollbackSecret": _VERSION_METADATA,
    "listRoot": _KEYS_PAGE,
    "listPrefix": _KEYS_PAGE,
    "searchSecrets": _KEYS_PAGE,
}
