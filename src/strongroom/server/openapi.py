"""An OpenAPI 3.1 document generated from a surface's route table: the table is the only list of
paths, so the document cannot drift from the routes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from strongroom.server.routes import Route

__all__ = ["openapi_document"]

_OBJ: dict[str, Any] = {"type": "object"}
_PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")


def _path_parameters(template: str) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PARAMETER.findall(template)
    ]


def _operation(route: Route, error: dict[str, Any]) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": "OK"}
    if route.status != 204:
        ok["content"] = {"application/json": {"schema": route.response or _OBJ}}
    operation: dict[str, Any] = {
        "operationId": route.operation,
        "summary": route.summary,
        "parameters": [*_path_parameters(route.path), *route.query],
        "security": [] if route.public else [{"token": []}],
        "responses": {
            str(route.status): ok,
            **{code: error for code in ("400", "401", "403", "404")},
        },
    }
    if route.body is not None:
        operation["requestBody"] = {"content": {"application/json": {"schema": route.body}}}
    return operation


def openapi_document(
    routes: Sequence[Route], *, title: str, version: str, error_schema: dict[str, Any]
) -> dict[str, Any]:
    error = {"description": "Error", "content": {"application/json": {"schema": error_schema}}}
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if route.documented:
            path = _PARAMETER.sub(r"{\1}", route.path)
            paths.setdefault(path, {})[route.method.lower()] = _operation(route, error)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
    }
