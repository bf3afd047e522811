"""A caller without rights learns nothing about what exists (issue 9, findings 5 and 6): the
same status and message for an existing and a missing name, on every named resource; and no
cursor, page or count of a listing reveals a path the caller may not see."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from strongroom.server.app import create_app
from strongroom.server.node import Node
from tests.helpers import probing_settings

ROOT = "oracle-root-token"

# (method, url with {name}, body): every route that names a resource.
NAMED = [
    ("PUT", "/api/v1/secrets/secret/{name}", {"data": {"a": "b"}}),
    ("GET", "/api/v1/secrets/secret/{name}", None),
    ("PATCH", "/api/v1/secrets/secret/{name}", {"data": {"a": "c"}}),
    ("DELETE", "/api/v1/secrets/secret/{name}", None),
    ("GET", "/api/v1/metadata/secret/{name}", None),
    ("PUT", "/api/v1/metadata/secret/{name}", {"max_versions": 3}),
    ("DELETE", "/api/v1/metadata/secret/{name}", None),
    ("POST", "/api/v1/delete/secret/{name}", {"versions": [1]}),
    ("POST", "/api/v1/undelete/secret/{name}", {"versions": [1]}),
    ("POST", "/api/v1/destroy/secret/{name}", {"versions": [1]}),
    ("POST", "/api/v1/rollback/secret/{name}", {"version": 1}),
    ("POST", "/api/v1/labels/secret/{name}", {"label": "blue", "version": 1}),
    ("GET", "/api/v1/rotation/config/secret/{name}", None),
    ("PUT", "/api/v1/rotation/config/secret/{name}", {"rotator": "random", "interval": "1d"}),
    ("DELETE", "/api/v1/rotation/config/secret/{name}", None),
    ("POST", "/api/v1/rotation/run/secret/{name}", {}),
    ("PUT", "/api/v1/sys/policies/acl/{name}", {"policy": 'path "x" {capabilities=["read"]}'}),
    ("GET", "/api/v1/sys/policies/acl/{name}", None),
    ("DELETE", "/api/v1/sys/policies/acl/{name}", None),
    ("PUT", "/api/v1/auth/token/roles/{name}", {"allowed_policies": ["default"]}),
    ("GET", "/api/v1/auth/token/roles/{name}", None),
    ("DELETE", "/api/v1/auth/token/roles/{name}", None),
    ("POST", "/api/v1/auth/token/create/{name}", {}),
    ("PUT", "/api/v1/auth/approle/role/{name}", {"token_policies": ["default"]}),
    ("GET", "/api/v1/auth/approle/role/{name}", None),
    ("DELETE", "/api/v1/auth/approle/role/{name}", None),
    ("GET", "/api/v1/auth/approle/role/{name}/role-id", None),
    ("POST", "/api/v1/auth/approle/role/{name}/secret-id", {}),
    ("GET", "/api/v1/auth/approle/role/{name}/secret-id", None),
    ("PUT", "/api/v1/auth/userpass/users/{name}", {"password": "pw", "token_policies": []}),
    ("GET", "/api/v1/auth/userpass/users/{name}", None),
    ("DELETE", "/api/v1/auth/userpass/users/{name}", None),
    ("GET", "/api/v1/namespaces/{name}", None),
    ("DELETE", "/api/v1/namespaces/{name}", None),
    ("GET", "/api/v1/namespaces/{name}/keys", None),
    ("PUT", "/api/v1/sys/audit/{name}", {"type": "store"}),
    ("DELETE", "/api/v1/sys/audit/{name}", None),
]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    settings = probing_settings(tmp_path, ROOT)
    node = Node(settings)
    with TestClient(create_app(settings, node), headers={"Authorization": f"Bearer {ROOT}"}) as c:
        yield c
    node.close()


def _create_everything(api: TestClient, name: str) -> None:
    for url, body in [
        (f"/api/v1/secrets/secret/{name}", {"data": {"a": "b"}}),
        (f"/api/v1/sys/policies/acl/{name}", {"policy": 'path "x" {capabilities=["read"]}'}),
        (f"/api/v1/auth/token/roles/{name}", {"allowed_policies": ["default"]}),
        (f"/api/v1/auth/approle/role/{name}", {"token_policies": ["default"]}),
        (f"/api/v1/auth/userpass/users/{name}", {"password": "pw", "token_policies": []}),
        (f"/api/v1/sys/audit/{name}", {"type": "store"}),
    ]:
        assert api.put(url, json=body).status_code in (200, 204), url
    assert api.post("/api/v1/namespaces", json={"name": name}).status_code == 201
    rotation = {"rotator": "random", "interval": "1d"}
    made = api.put(f"/api/v1/rotation/config/secret/{name}", json=rotation)
    assert made.status_code in (200, 204), made.text


def _answer(api: TestClient, token: str, method: str, url: str, body: object) -> tuple[int, str]:
    response = api.request(method, url, json=body, headers={"Authorization": f"Bearer {token}"})
    error = response.json().get("error", {}) if response.content else {}
    return response.status_code, str(error.get("message", ""))


@pytest.mark.parametrize("policy", ["none", "create-only", "read-only"])
def test_an_existing_and_a_missing_name_get_the_same_answer(api: TestClient, policy: str) -> None:
    _create_everything(api, "exists1")
    rules = {
        "none": 'path "nothing/*" { capabilities = ["read"] }',
        "create-only": 'path "*" { capabilities = ["create"] }',
        "read-only": 'path "*" { capabilities = ["read", "list"] }',
    }[policy]
    api.put("/api/v1/sys/policies/acl/probe", json={"policy": rules})
    token = api.post("/api/v1/auth/token/create", json={"policies": ["probe"]}).json()["auth"][
        "client_token"
    ]
    for method, template, body in NAMED:
        existing = _answer(api, token, method, template.format(name="exists1"), body)
        missing = _answer(api, token, method, template.format(name="missing"), body)
        if existing[0] in (200, 204) or missing[0] in (200, 204):
            continue  # the caller holds the right: what it learns, it may learn
        assert existing[0] == missing[0], (method, template, existing, missing)
        assert existing[1].replace("exists1", "X") == missing[1].replace("missing", "X"), (
            method,
            template,
        )


def test_no_cursor_reveals_a_denied_path(api: TestClient) -> None:
    for path in ["app/a", "app/admin/root", "app/admin/zz", "app/b", "app/c"]:
        api.put(f"/api/v1/secrets/secret/{path}", json={"data": {"v": "1"}})
    rules = (
        'path "secret/+/app/*" { capabilities = ["read", "list"] }\n'
        'path "secret/+/app/admin/*" { capabilities = ["deny"] }'
    )
    api.put("/api/v1/sys/policies/acl/partial", json={"policy": rules})
    token = api.post("/api/v1/auth/token/create", json={"policies": ["partial"]}).json()["auth"]
    headers = {"Authorization": f"Bearer {token['client_token']}"}
    seen: list[str] = []
    after = ""
    for _ in range(10):
        page = api.get(
            "/api/v1/list/secret/app",
            params={"recursive": "true", "limit": 1, "after": after},
            headers=headers,
        ).json()
        assert "admin" not in page["next"]
        seen.extend(page["keys"])
        after = page["next"]
        if not after:
            break
    assert seen == ["app/a", "app/b", "app/c"]
    for base in ("/api/v1/search/secret?prefix=app", "/api/v1/search/secret?prefix=app&name=adm"):
        found = api.get(f"{base}&limit=1", headers=headers).json()
        assert "admin" not in str(found)
    # A cursor is sealed: forged or moved to another listing, it is a 400, not a position.
    forged = api.get(
        "/api/v1/list/secret/app",
        params={"recursive": "true", "after": "app/admin/a"},
        headers=headers,
    )
    assert forged.status_code == 400
    cursor = api.get(
        "/api/v1/list/secret/app", params={"recursive": "true", "limit": 1}, headers=headers
    ).json()["next"]
    moved = api.get(
        "/api/v1/search/secret", params={"prefix": "app", "after": cursor}, headers=headers
    )
    assert moved.status_code == 400
