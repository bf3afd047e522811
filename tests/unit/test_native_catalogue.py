"""The native API's catalogue (server/native/catalogue.py) against what its routes do: every
route is in it, and a token granted exactly an operation's rule on its policy path is never
refused. (Without the rule: tests/unit/test_native_rights_first.py.)"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from strongroom.clock import ManualClock
from strongroom.config import ServerSettings
from strongroom.server.app import create_app
from strongroom.server.native import native_routes
from strongroom.server.native.catalogue import ANY_TOKEN, OPERATIONS
from strongroom.server.node import Node
from strongroom.server.routes import Answer

ROOT = "native-catalogue-root"
_SAMPLES = {"namespace": "secret", "path": "a/b", "name": "n1", "role": "r1"}
_SAMPLES["access_key_id"] = "AKSRAAAAAAAAAAAAAAAA"
# Bodies of the right shape, where a route checks the shape before the caller's rights.
_BODIES: dict[str, dict[str, object]] = {
    "writeSecret": {"data": {"k": "v"}},
    "writeSecretPost": {"data": {"k": "v"}},
    "deleteVersions": {"versions": [1]},
    "undeleteVersions": {"versions": [1]},
    "destroyVersions": {"versions": [1]},
    "rollbackSecret": {"version": 1},
    "setLabel": {"label": "l", "version": 1},
    "createNamespace": {"name": "n1"},
    "retireKeyTerm": {"term": 1},
    "migrateKeys": {"to": "elsewhere"},
    "decryptDataKey": {"key_ref": "r", "wrapped": "AA==", "context": {}},
    "lookupSecretId": {"secret_id": "s"},
    "destroySecretId": {"secret_id": "s"},
    "lookupSecretIdAccessor": {"secret_id_accessor": "s"},
    "destroySecretIdAccessor": {"secret_id_accessor": "s"},
    "writePolicy": {"policy": 'path "x" { capabilities = ["read"] }'},
    "writePolicyPost": {"policy": 'path "x" { capabilities = ["read"] }'},
    "configureRotation": {"rotator": "random"},
}
# Run last: each changes what the routes after it would find.
_LAST = ("devReset", "seal")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = ServerSettings(tmp_path / "data", dev=True, root_token=ROOT)
    node = Node(settings, ManualClock())
    headers = {"Authorization": f"Bearer {ROOT}"}
    with TestClient(create_app(settings, node), headers=headers) as test_client:
        yield test_client
    node.close()


def test_every_native_route_is_in_the_catalogue() -> None:
    routed = {r.operation for r in native_routes(lambda call: Answer()) if not r.public}
    assert routed == set(OPERATIONS) | ANY_TOKEN
    assert not set(OPERATIONS) & ANY_TOKEN


def test_with_exactly_the_rule_no_native_route_is_refused(client: TestClient) -> None:
    routes = [r for r in native_routes(lambda call: Answer()) if r.operation in OPERATIONS]
    routes.sort(key=lambda r: _LAST.index(r.operation) if r.operation in _LAST else -1)
    sent = []  # every token made first: the last routes reset and seal the server
    for number, route in enumerate(routes):
        rule = OPERATIONS[route.operation]
        granted: dict[str, list[str]] = {
            rule.path.format(**_SAMPLES): [*rule.capabilities, *(["sudo"] if rule.sudo else [])]
        }
        for capability, path in rule.also:
            granted.setdefault(path.format(**_SAMPLES), []).append(capability)
        policy = "\n".join(
            f'path "{path}" {{ capabilities = {json.dumps(caps)} }}'
            for path, caps in granted.items()
        )
        written = client.put(f"/api/v1/sys/policies/acl/rule{number}", json={"policy": policy})
        assert written.status_code == 204, written.text
        made = client.post(
            "/api/v1/auth/token/create", json={"policies": ["default", f"rule{number}"]}
        )
        url = re.sub(r"\{([^}:]+)(:path)?\}", lambda m: _SAMPLES[m.group(1)], route.path)
        sent.append((route, url, made.json()["auth"]["client_token"]))
    refused = []
    for route, url, token in sent:
        body = _BODIES.get(route.operation, {})
        headers = {"Authorization": f"Bearer {token}"}
        if client.request(route.method, url, json=body, headers=headers).status_code == 403:
            refused.append(route.operation)
    assert not refused, refused
