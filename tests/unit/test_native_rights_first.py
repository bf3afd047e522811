"""Every route of the native API, sent by a token with the default policy only: refused with
403, or answered a 400 about the body's shape that the root token gets word for word for the
same request (decided by the body alone, before any right, so it tells nothing stored). A few
routes answer any token by design (``ANY_TOKEN``, server/native/catalogue.py). The Vault API
checks rights before the body, as Vault: tests/unit/test_vault_catalogue.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from strongroom.clock import ManualClock
from strongroom.server.app import create_app
from strongroom.server.native import native_routes
from strongroom.server.native.catalogue import ANY_TOKEN
from strongroom.server.node import Node
from strongroom.server.routes import Answer, Route
from tests.helpers import probing_settings

ROOT = "native-rights-root"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = probing_settings(tmp_path, ROOT)
    node = Node(settings, ManualClock())
    headers = {"Authorization": f"Bearer {ROOT}"}
    with TestClient(create_app(settings, node), headers=headers) as test_client:
        yield test_client
    node.close()


def _url(route: Route) -> str:
    samples = {"namespace": "secret", "path": "a/b"}
    return re.sub(r"\{([^}:]+)(:path)?\}", lambda m: samples.get(m.group(1), "x1"), route.path)


def _default_token(client: TestClient) -> str:
    made = client.post("/api/v1/auth/token/create", json={"policies": ["default"]})
    token: str = made.json()["auth"]["client_token"]
    return token


def test_a_caller_without_rights_learns_nothing_but_its_bodys_shape(client: TestClient) -> None:
    routes = [r for r in native_routes(lambda call: Answer()) if not r.public]
    assert {r.operation for r in routes} >= ANY_TOKEN
    answered = []
    for route in routes:
        url = _url(route)
        as_nobody = client.request(
            route.method,
            url,
            json={},
            headers={"Authorization": f"Bearer {_default_token(client)}"},
        )
        if as_nobody.status_code == 403 or route.operation in ANY_TOKEN:
            continue
        as_root = client.request(route.method, url, json={})
        body_only = as_nobody.status_code == 400 and (
            as_root.status_code,
            as_root.json()["error"]["message"],
        ) == (400, as_nobody.json()["error"]["message"])
        if not body_only:
            answered.append((route.operation, as_nobody.status_code, as_nobody.text[:120]))
    assert not answered, answered
