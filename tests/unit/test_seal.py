"""Seal types: kms (dev), file and shamir; a sealed server answers only status and unseal."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from strongroom.config import ServerSettings
from strongroom.server.app import create_app
from strongroom.server.node import Node


def _client(settings: ServerSettings) -> tuple[Node, TestClient]:
    node = Node(settings)
    return node, TestClient(create_app(settings, node))


def test_shamir_init_unseal_seal_and_rekey(tmp_path: Path) -> None:
    settings = ServerSettings(tmp_path / "data", seal="shamir", audit_file=tmp_path / "a.log")
    node, api = _client(settings)
    assert api.get("/api/v1/sys/seal-status").json()["data"]["initialized"] is False
    assert api.get("/healthz").status_code == 501
    init = api.post("/api/v1/sys/init", json={"shares": 5, "threshold": 3}).json()["data"]
    keys, root = init["keys"], init["root_token"]
    assert len(keys) == 5
    assert api.post("/api/v1/sys/init", json={}).status_code == 409
    headers = {"Authorization": f"Bearer {root}"}
    # Sealed: everything but status and unseal answers 503.
    assert api.get("/api/v1/namespaces", headers=headers).status_code == 503
    assert api.post("/api/v1/sys/unseal", json={"key": keys[0]}).json()["data"]["progress"] == 1
    assert api.post("/api/v1/sys/unseal", json={"key": keys[0]}).status_code == 400
    api.post("/api/v1/sys/unseal", json={"key": keys[3]})
    status = api.post("/api/v1/sys/unseal", json={"key": keys[4]}).json()["data"]
    assert status["sealed"] is False
    assert api.post("/api/v1/namespaces", json={"name": "prod"}, headers=headers).status_code == 201
    api.put("/api/v1/secrets/prod/db", json={"data": {"pw": "x"}}, headers=headers)
    # Seal needs sudo; then a restart (a new node) is sealed until the shares come again.
    assert api.post("/api/v1/sys/seal").status_code == 401
    assert api.post("/api/v1/sys/seal", headers=headers).status_code == 204
    assert api.get("/api/v1/secrets/prod/db", headers=headers).status_code == 503
    node.close()
    node, api = _client(settings)
    assert api.get("/api/v1/sys/seal-status").json()["data"]["sealed"] is True
    for key in keys[1:4]:
        api.post("/api/v1/sys/unseal", json={"key": key})
    assert api.get("/api/v1/secrets/prod/db", headers=headers).json()["data"] == {"pw": "x"}
    new = api.post(
        "/api/v1/sys/rekey",
        json={"keys": keys[:3], "shares": 3, "threshold": 2},
        headers=headers,
    ).json()["data"]["keys"]
    node.close()
    node, api = _client(settings)
    api.post("/api/v1/sys/unseal", json={"key": keys[0]})
    wrong = api.post("/api/v1/sys/unseal", json={"key": keys[1]})
    assert wrong.status_code == 400 and "do not rebuild" in wrong.json()["error"]["message"]
    for key in new[:2]:
        api.post("/api/v1/sys/unseal", json={"key": key})
    assert api.get("/api/v1/secrets/prod/db", headers=headers).json()["data"] == {"pw": "x"}
    node.close()


def test_file_seal_unseals_itself_and_needs_its_key_file(tmp_path: Path) -> None:
    seal_key = tmp_path / "keys" / "unseal.key"
    settings = ServerSettings(tmp_path / "data", seal="file", seal_key_file=seal_key)
    node, api = _client(settings)
    root = api.post("/api/v1/sys/init", json={}).json()["data"]["root_token"]
    headers = {"Authorization": f"Bearer {root}"}
    assert api.get("/api/v1/sys/seal-status").json()["data"]["sealed"] is False
    api.post("/api/v1/namespaces", json={"name": "app"}, headers=headers)
    api.put("/api/v1/secrets/app/k", json={"data": {"v": 1}}, headers=headers)
    assert oct(seal_key.stat().st_mode & 0o777) == "0o600"
    assert api.post("/api/v1/sys/rekey", json={}, headers=headers).status_code == 200
    node.close()
    node, api = _client(settings)  # restart: no human needed
    assert api.get("/api/v1/secrets/app/k", headers=headers).json()["data"] == {"v": 1}
    node.close()
    seal_key.write_bytes(b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
    from strongroom.errors import KeyProviderUnavailable

    with pytest.raises(KeyProviderUnavailable):
        Node(settings)
