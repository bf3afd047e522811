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
    started = api.post(
        "/api/v1/sys/rekey",
        json={"keys": keys[:3], "shares": 3, "threshold": 2},
        headers=headers,
    ).json()["data"]
    new, nonce = started["keys"], started["nonce"]
    assert started["verification_required"] is True
    verify = "/api/v1/sys/rekey/verify"
    bad = api.post(verify, json={"nonce": nonce, "keys": keys[:2]}, headers=headers)
    assert bad.status_code == 400
    wrong_nonce = api.post(verify, json={"nonce": "0" * 32, "keys": new[:2]}, headers=headers)
    assert wrong_nonce.status_code == 400
    assert api.post(verify, json={"nonce": nonce, "keys": new[1:]}, headers=headers).is_success
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


def _shamir_server(tmp_path: Path) -> tuple[ServerSettings, list[str], dict[str, str]]:
    settings = ServerSettings(tmp_path / "data", seal="shamir", audit_file=tmp_path / "a.log")
    node, api = _client(settings)
    init = api.post("/api/v1/sys/init", json={"shares": 3, "threshold": 2}).json()["data"]
    node.close()
    return settings, init["keys"], {"Authorization": f"Bearer {init['root_token']}"}


def _unsealed(settings: ServerSettings, keys: list[str]) -> tuple[Node, TestClient]:
    node, api = _client(settings)
    for key in keys:
        api.post("/api/v1/sys/unseal", json={"key": key})
    assert node.runtime is not None
    return node, api


def test_a_rekey_whose_answer_is_lost_leaves_the_old_shares_in_force(tmp_path: Path) -> None:
    settings, keys, headers = _shamir_server(tmp_path)
    node, api = _unsealed(settings, keys[:2])
    api.post("/api/v1/namespaces", json={"name": "prod"}, headers=headers)
    api.put("/api/v1/secrets/prod/db", json={"data": {"pw": "x"}}, headers=headers)
    body = {"keys": keys[:2], "shares": 3, "threshold": 2}
    assert api.post("/api/v1/sys/rekey", json=body, headers=headers).is_success
    assert api.get("/api/v1/sys/seal-status").json()["data"]["rekey_pending"] is True
    node.close()  # the server dies: the new shares never reached anyone
    node, api = _unsealed(settings, keys[1:])
    assert api.get("/api/v1/secrets/prod/db", headers=headers).json()["data"] == {"pw": "x"}
    assert api.delete("/api/v1/sys/rekey", headers=headers).status_code == 204
    assert api.delete("/api/v1/sys/rekey", headers=headers).status_code == 404
    node.close()


@pytest.mark.parametrize("stop_after", ["swap", "config"])
def test_a_verify_cut_short_after_the_swap_is_completed_at_the_next_start(
    tmp_path: Path, stop_after: str
) -> None:
    settings, keys, headers = _shamir_server(tmp_path)
    node, api = _unsealed(settings, keys[:2])
    body = {"keys": keys[:2], "shares": 4, "threshold": 3}
    started = api.post("/api/v1/sys/rekey", json=body, headers=headers).json()["data"]
    barrier = node.barrier
    finish = barrier._finish_rekey

    def crash(config: object, pending: object) -> None:
        if stop_after == "config":
            finish(config, pending)  # type: ignore[arg-type]
        raise SystemExit("killed")

    barrier._finish_rekey = crash  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        barrier.rekey_verify(started["nonce"], started["keys"][:3])
    node.close()
    node, api = _unsealed(settings, started["keys"][1:])
    status = api.get("/api/v1/sys/seal-status").json()["data"]
    assert (status["sealed"], status["n"], status["t"], status["rekey_pending"]) == (
        False,
        4,
        3,
        False,
    )
    node.close()
