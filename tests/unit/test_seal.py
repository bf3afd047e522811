"""Seal types: kms (dev), file and shamir; a sealed server answers only status and unseal."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from strongroom.config import ServerSettings
from strongroom.seal.config import PendingRekey
from strongroom.server.app import create_app
from strongroom.server.node import Node


def _client(settings: ServerSettings) -> tuple[Node, TestClient]:
    node = Node(settings)
    return node, TestClient(create_app(settings, node))


def _unseal(api: TestClient, keys: list[str]) -> dict[str, object]:
    """Each share in turn into one unseal attempt, as operators passing its nonce on."""
    nonce, status = "", {}
    for key in keys:
        answer = api.post("/api/v1/sys/unseal", json={"key": key, "nonce": nonce})
        assert answer.status_code == 200, answer.text
        status = answer.json()["data"]
        nonce = str(status["nonce"])
    return status


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
    first = api.post("/api/v1/sys/unseal", json={"key": keys[0]}).json()["data"]
    assert first["progress"] == 1 and first["nonce"]
    again = api.post("/api/v1/sys/unseal", json={"key": keys[0], "nonce": first["nonce"]})
    assert again.json()["data"]["progress"] == 1  # the same share twice counts once
    status = _unseal(api, keys[2:5])  # another attempt, started by another operator
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
    _unseal(api, keys[1:4])
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
    nonce = api.post("/api/v1/sys/unseal", json={"key": keys[0]}).json()["data"]["nonce"]
    wrong = api.post("/api/v1/sys/unseal", json={"key": keys[1], "nonce": nonce})
    assert wrong.status_code == 400 and "do not rebuild" in wrong.json()["error"]["message"]
    _unseal(api, new[:2])
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
    _unseal(api, keys)
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
    shamir = node.seal_manager._shamir()
    finish = shamir._finish

    def crash(pending: PendingRekey) -> None:
        if stop_after == "config":
            finish(pending)
        raise SystemExit("killed")

    shamir._finish = crash  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        node.seal_manager.rekey_verify(started["nonce"], started["keys"][:3])
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


def test_no_bogus_share_blocks_evicts_or_resets_an_operator(tmp_path: Path) -> None:
    """Issue 9, finding 9: an unauthenticated bogus share with a chosen index, a failed attempt,
    and an old share after a rekey touch only their sender's own unseal attempt."""
    settings, keys, _ = _shamir_server(tmp_path)
    node, api = _client(settings)
    nonce = api.post("/api/v1/sys/unseal", json={"key": keys[0]}).json()["data"]["nonce"]
    # The attacker sends a bogus share with the index of the next operator's share, alone and
    # into the operators' attempt without knowing its nonce.
    index = base64.b64decode(keys[1])[0]
    bogus = base64.b64encode(bytes([index]) + bytes(32)).decode()
    api.post("/api/v1/sys/unseal", json={"key": bogus})
    guessed = api.post("/api/v1/sys/unseal", json={"key": bogus, "nonce": "0" * 32})
    assert guessed.status_code == 400
    for _ in range(3):  # failing attempts of the attacker's own reset nothing else
        failing = api.post("/api/v1/sys/unseal", json={"key": keys[2]}).json()["data"]["nonce"]
        spoiled = api.post("/api/v1/sys/unseal", json={"key": bogus, "nonce": failing})
        assert spoiled.status_code == 400
    status = api.post("/api/v1/sys/unseal", json={"key": keys[1], "nonce": nonce}).json()["data"]
    assert status["sealed"] is False
    node.close()
