"""OpenAPI operations of rotation, staging labels, passwords, key lifecycle and metrics."""

from __future__ import annotations

from typing import Any

__all__ = ["ROTATION_OPERATIONS"]

_STR = {"type": "string"}
_DURATION = {"type": ["string", "integer"]}
_OBJ: dict[str, Any] = {"type": "object"}
_S = "/{namespace}/{path}"
_POLICY = {
    "type": "object",
    "properties": {
        "length": {"type": "integer", "minimum": 1, "maximum": 4096},
        "classes": {"type": "array", "items": {"enum": ["lower", "upper", "digits", "symbols"]}},
        "exclude": _STR,
        "require_each": {"type": "boolean"},
    },
}
_CONFIG = {
    "type": "object",
    "required": ["rotator"],
    "properties": {
        "rotator": _STR,
        "params": _OBJ,
        "interval": _DURATION,
        "cron": _STR,
        "expire_after": _DURATION,
        "notify_url": _STR,
        "notify_secret": _STR,
    },
}

ROTATION_OPERATIONS: list[tuple[str, str, str, str, dict[str, Any] | None, int]] = [
    ("get", "/api/v1/rotation", "listRotations", "Configured rotations you may see", None, 200),
    (
        "get",
        f"/api/v1/rotation/config{_S}",
        "rotationStatus",
        "Settings, state, history",
        None,
        200,
    ),
    ("put", f"/api/v1/rotation/config{_S}", "configureRotation", "Configure", _CONFIG, 200),
    ("delete", f"/api/v1/rotation/config{_S}", "removeRotation", "Stop rotating", None, 204),
    ("post", f"/api/v1/rotation/run{_S}", "rotateNow", "Rotate (or resume) now", None, 200),
    ("post", f"/api/v1/rotation/cancel{_S}", "cancelRotation", "Roll back a run", None, 200),
    (
        "post",
        f"/api/v1/labels{_S}",
        "setLabel",
        "Move a custom staging label (version null removes it)",
        {
            "type": "object",
            "required": ["label"],
            "properties": {"label": _STR, "version": {"type": ["integer", "null"], "minimum": 1}},
        },
        200,
    ),
    ("post", "/api/v1/sys/tools/password", "randomPassword", "A random password", _POLICY, 200),
    (
        "post",
        "/api/v1/namespaces/{namespace}/keys/retire",
        "retireKeyTerm",
        "Remove an unused, inactive key term",
        {"type": "object", "required": ["term"], "properties": {"term": {"type": "integer"}}},
        200,
    ),
    (
        "post",
        "/api/v1/sys/kms/rotate-root",
        "rotateRootKey",
        "New root key version; re-wrap the keyrings (sudo)",
        {"type": "object", "properties": {"rewrap_only": {"type": "boolean"}}},
        200,
    ),
    ("get", "/api/v1/sys/metrics", "metrics", "Prometheus metrics", None, 200),
]
