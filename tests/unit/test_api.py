"""The native API in-process: shapes, precise 4xx for bad input, and nothing changes on errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from strongroom.server.native import OPENAPI_PATH, native_document, native_routes
from strongroom.server.routes import Answer

S = "/api/v1/secrets/secret"


def _state(client: TestClient) -> Any:
    return client.get("/api/v1/metadata/secret/app/db").json()


def test_write_read_and_error_shape(app_client: TestClient) -> None:
    assert app_client.put(f"{S}/app/db", json={"data": {"pw": "x"}}).status_code == 200
    body = app_client.get(f"{S}/app/db").json()
    assert body["data"] == {"pw": "x"} and body["metadata"]["version"] == 1
    missing = app_client.get(f"{S}/app/none")
    assert missing.status_code == 404
    assert (
        set(missing.json()) == {"error", "request_id"}
        and missing.json()["error"]["code"] == "not_found"
    )
    assert missing.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "status", "code"),
    [
        ("put", f"{S}/app//db", {"json": {"data": {}}}, 400, "bad_request"),
        ("put", f"{S}/app%2Fdb", {"json": {"data": {}}}, 400, "bad_request"),
        ("put", f"{S}/app/%2e%2e/db", {"json": {"data": {}}}, 400, "bad_request"),
        (
            "put",
            f"{S}/app/db",
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            400,
            "bad_request",
        ),
        ("put", f"{S}/app/db", {"json": [1, 2]}, 400, "bad_request"),
        ("put", f"{S}/app/db", {"json": {"nodata": 1}}, 400, "bad_request"),
        ("put", f"{S}/app/db", {"json": {"data": "text"}}, 400, "bad_request"),
        ("put", f"{S}/app/db", {"json": {"data": {"a": 1}, "cas": 0}}, 400, "cas_mismatch"),
        ("put", f"{S}/app/db", {"json": {"data": {"a": 1}, "cas": -1}}, 400, "bad_request"),
        ("put", f"{S}/app/db", {"json": {"data": {"v": "x" * 600_000}}}, 400, "limit_exceeded"),
        (
            "put",
            f"{S}/app/db",
            {"content": b'{"data":{"a":"' + b"x" * 1_100_000 + b'"}}'},
            413,
            "payload_too_large",
        ),
        (
            "put",
            f"{S}/app/db",
            {"content": b'{"data":' + b"[" * 5000 + b"]" * 5000 + b"}"},
            400,
            "limit_exceeded",
        ),
        (
            "put",
            f"{S}/app/db",
            {"content": b'{"data":' + b"[" * 100000 + b"]" * 100000 + b"}"},
            400,
            "limit_exceeded",
        ),
        (
            "put",
            f"{S}/app/db",
            {"content": b'{"data":{"a":' + b"[" * 40 + b"]" * 40 + b"}}"},
            400,
            "limit_exceeded",
        ),
        ("get", f"{S}/app/db?version=9", {}, 404, "not_found"),
        ("get", f"{S}/app/db?version=abc", {}, 400, "bad_request"),
        ("put", "/api/v1/secrets/No_Such/app", {"json": {"data": {}}}, 400, "bad_request"),
        ("put", "/api/v1/secrets/nosuch/app", {"json": {"data": {}}}, 404, "not_found"),
        ("post", "/api/v1/undelete/secret/app/db", {"json": {"versions": "1"}}, 400, "bad_request"),
        ("post", "/api/v1/rollback/secret/app/db", {"json": {}}, 400, "bad_request"),
        (
            "put",
            "/api/v1/metadata/secret/app/db",
            {"json": {"max_versions": 5000}},
            400,
            "limit_exceeded",
        ),
        (
            "put",
            "/api/v1/metadata/secret/app/db",
            {"json": {"custom_metadata": {"a": 1}}},
            400,
            "bad_request",
        ),
        ("get", "/api/v1/nothing/here", {}, 404, "not_found"),
    ],
)
def test_bad_input_gets_a_precise_4xx_and_changes_nothing(
    app_client: TestClient, method: str, url: str, kwargs: dict[str, Any], status: int, code: str
) -> None:
    app_client.put(f"{S}/app/db", json={"data": {"pw": "original"}})
    before = _state(app_client)
    response = app_client.request(method.upper(), url, **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    assert _state(app_client) == before
    assert app_client.get(f"{S}/app/db").json()["data"] == {"pw": "original"}


def test_requests_without_a_valid_token_get_401(app_client: TestClient) -> None:
    app_client.put(f"{S}/a", json={"data": {"k": "canary-value-401"}})
    for headers in ({"Authorization": "Basic eDp5"}, {"Authorization": "Bearer wrong"}):
        response = app_client.get(f"{S}/a", headers=headers)
        assert response.status_code == 401
        assert "canary-value-401" not in response.text
    assert app_client.get("/healthz", headers={"Authorization": ""}).status_code == 200


def test_scoped_tokens_are_checked(app_client: TestClient) -> None:
    app_client.put(f"{S}/a", json={"data": {"k": "v"}})
    policy = {"policy": 'path "secret/*" { capabilities = ["read"] }'}
    assert app_client.put("/api/v1/sys/policies/acl/reader", json=policy).status_code == 204
    created = app_client.post("/api/v1/auth/token/create", json={"policies": ["reader"]})
    as_reader = {"Authorization": f"Bearer {created.json()['auth']['client_token']}"}
    assert app_client.get(f"{S}/a", headers=as_reader).status_code == 200
    assert app_client.put(f"{S}/a", json={"data": {}}, headers=as_reader).status_code == 403
    denied = app_client.post("/api/v1/auth/token/create", json={}, headers=as_reader)
    assert denied.status_code == 403
    bad = app_client.put(
        "/api/v1/sys/policies/acl/bad", json={"policy": 'path "x/*" { capabilities = ["fly"] }'}
    )
    assert bad.status_code == 400 and "unknown capability 'fly'" in bad.json()["error"]["message"]


def test_openapi_document_is_generated_from_the_route_table(app_client: TestClient) -> None:
    served = app_client.get("/api/v1/openapi.json").json()
    native = next(s for s in app_client.app.surfaces if s.name == "native")  # type: ignore[attr-defined]
    documented = {(method.upper(), path) for path, ops in served["paths"].items() for method in ops}
    real = {
        (route.method, route.path.replace("{path:path}", "{path}"))
        for route in native.routes
        if route.path != OPENAPI_PATH
    }
    assert documented == real
    assert served == native_document(tuple(r for r in native.routes if r.path != OPENAPI_PATH))


def test_namespaces_and_keys_over_http(app_client: TestClient) -> None:
    assert app_client.post("/api/v1/namespaces", json={"name": "prod"}).status_code == 201
    assert app_client.post("/api/v1/namespaces", json={"name": "prod"}).status_code == 409
    names = [n["name"] for n in app_client.get("/api/v1/namespaces").json()["namespaces"]]
    assert names == ["prod", "secret"]
    app_client.put("/api/v1/secrets/prod/x", json={"data": {"a": "b"}})
    assert app_client.post("/api/v1/namespaces/prod/keys/rotate").json()["active_term"] == 2
    progress = app_client.post(
        "/api/v1/namespaces/prod/keys/rewrap", json={"batch_size": 10}
    ).json()
    assert progress["done"] and progress["remaining"] == 0 and progress["rewrapped"] == 1
    terms = app_client.get("/api/v1/namespaces/prod/keys").json()["terms"]
    assert [(t["term"], t["versions_in_use"]) for t in terms] == [(1, 0), (2, 1)]
    assert app_client.delete("/api/v1/namespaces/prod").status_code == 204
    assert app_client.get("/api/v1/secrets/prod/x").status_code == 404


def test_unexpected_errors_reveal_nothing(
    app_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    """An unexpected exception answers an opaque 500 and logs only its type, on both paths."""
    services = app_client.app.node.require_runtime()  # type: ignore[attr-defined]
    canary = "CANARY-unexpected-7f3a"

    def explode(*args: object, **kwargs: object) -> None:
        raise ValueError(f"boom {canary}")

    services.secrets.get = explode
    services.secrets.put = explode
    with TestClient(
        app_client.app, raise_server_exceptions=False, headers=dict(app_client.headers)
    ) as client:
        for response in (
            client.get(f"{S}/app/{canary}"),
            client.put(f"{S}/app/{canary}", json={"data": {}}),
        ):
            assert response.status_code == 500
            assert response.json()["error"]["code"] == "internal"
            assert canary not in response.text
    assert "ValueError" in caplog.text and canary not in caplog.text


def test_head_and_get_of_a_secret_agree(app_client: TestClient) -> None:
    app_client.put(f"{S}/h", json={"data": {"k": "v"}})
    get, head = app_client.get(f"{S}/h"), app_client.head(f"{S}/h")
    assert (get.status_code, head.status_code) == (200, 200)
    assert head.headers["content-length"] == get.headers["content-length"] and head.content == b""
    assert app_client.head(f"{S}/missing").status_code == 404


def test_every_query_parameter_a_route_reads_is_documented() -> None:
    """Issue 9, finding 30: undocumented query parameters were never fuzzed."""
    import re

    import strongroom.server as server_package
    from strongroom.server.vault import VAULT_ROUTES

    documented = {
        param["name"]
        for ops in native_document(native_routes(lambda call: Answer()))["paths"].values()
        for op in ops.values()
        for param in op["parameters"]
        if param["in"] == "query"
    } | {param["name"] for route in VAULT_ROUTES for param in route.query}
    read = set()
    pattern = re.compile(r"""(?:query\.get|query\.getlist|query_int)\(\s*"(\w+)\"""")
    for module in Path(server_package.__file__).parent.glob("**/*.py"):
        read.update(pattern.findall(module.read_text()))
    assert read and read <= documented, read - documented


def test_typed_sdk_results_are_read_by_attribute() -> None:
    from strongroom.results import RunResult

    result = RunResult("secret", "db", "success", 2)
    assert result.result == "success" and result.to_json()["version"] == 2
    with pytest.raises(TypeError):
        result["result"]  # type: ignore[index]  # the dict access of the release before
