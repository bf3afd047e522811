"""JSON schemas of the native secret routes' bodies, queries and answers (they feed the OpenAPI
document and the fuzz test)."""

from __future__ import annotations

from typing import Any

from strongroom.limits import MAX_INTEGER

__all__ = [
    "DURATION",
    "INT",
    "KEYS_PAGE",
    "LABEL_BODY",
    "LIST_QUERY",
    "METADATA_BODY",
    "PATCH_BODY",
    "READ_QUERY",
    "ROLLBACK_BODY",
    "SEARCH_QUERY",
    "SECRET",
    "SECRET_BODY",
    "STR",
    "STRS",
    "VERSIONS_BODY",
    "VERSION_METADATA",
    "object_schema",
]

STR: dict[str, Any] = {"type": "string"}
STRS: dict[str, Any] = {"type": "array", "items": STR}
INT: dict[str, Any] = {"type": "integer", "minimum": 0}
DURATION: dict[str, Any] = {"type": ["string", "integer"]}
_OBJ: dict[str, Any] = {"type": "object"}


def object_schema(**properties: Any) -> dict[str, Any]:
    """A JSON object with these optional properties."""
    return {"type": "object", "properties": properties}


_CAS = {"type": "integer", "minimum": 0}
SECRET_BODY = {"type": "object", "required": ["data"], "properties": {"data": _OBJ, "cas": _CAS}}
PATCH_BODY = {"type": "object", "properties": {"data": _OBJ, "cas": _CAS}}
VERSIONS_BODY = {
    "type": "object",
    "required": ["versions"],
    "properties": {"versions": {"type": "array", "items": {"type": "integer", "minimum": 1}}},
}
METADATA_BODY = {
    "type": "object",
    "properties": {
        "max_versions": {"type": "integer", "minimum": 0},
        "cas_required": {"type": "boolean"},
        "custom_metadata": {"type": "object", "additionalProperties": STR},
        "delete_version_after": DURATION,
    },
}
VERSION_METADATA = {
    "type": "object",
    "required": ["version", "created_time", "deletion_time", "destroyed"],
    "properties": {
        "version": {"type": "integer"},
        "created_time": STR,
        "deletion_time": STR,
        "destroyed": {"type": "boolean"},
    },
}
SECRET = {
    "type": "object",
    "required": ["data", "metadata"],
    "properties": {"data": _OBJ, "metadata": VERSION_METADATA, "custom_metadata": _OBJ},
}
KEYS_PAGE = {
    "type": "object",
    "required": ["keys", "next"],
    "properties": {"keys": {"type": "array", "items": STR}, "next": STR},
}
_PAGE_LIMIT = {"type": "integer", "minimum": 1, "maximum": 1000}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


_AFTER = _query("after", STR, "the 'next' cursor of the previous page (opaque)")
LIST_QUERY = (
    _query(
        "recursive", {"type": "string", "enum": ["true", "false", "1", "0"]}, "every path, paged"
    ),
    _AFTER,
    _query("limit", _PAGE_LIMIT, "paths per page"),
)
READ_QUERY = (
    _query(
        "version", {"type": "integer", "minimum": 1, "maximum": MAX_INTEGER}, "a version number"
    ),
    _query("stage", STR, "a staging label: current, pending, previous or your own"),
)
SEARCH_QUERY = (
    _query("prefix", STR, "only paths under this prefix"),
    _query("name", STR, "a glob (* ? [) or a case-insensitive substring of the path"),
    _query(
        "metadata",
        {"type": "array", "items": {"type": "string", "pattern": "^[^=]+=.*$"}},
        "key=value pairs the custom metadata must hold (repeatable)",
    ),
    _query("limit", _PAGE_LIMIT, "paths per page"),
    _AFTER,
)


LABEL_BODY = {
    "type": "object",
    "required": ["label"],
    "properties": {"label": STR, "version": {"type": ["integer", "null"], "minimum": 1}},
}

ROLLBACK_BODY = {
    "type": "object",
    "required": ["version"],
    "properties": {"version": {"type": "integer", "minimum": 1}},
}
