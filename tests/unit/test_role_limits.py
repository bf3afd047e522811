"""Roles enforce their own limits (issue 9, finding 8): a request may narrow what a role gives,
never widen it; periodic tokens need sudo; nothing a token without sudo makes outlives it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from strongroom.clock import ManualClock
from strongroom.config import ServerSettings
from strongroom.server.app import create_app
from strongroom.server.node import Node

ROOT = "limits-root-token"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def api(tmp_path: Path, clock: ManualClock) -> Iterator[TestClient]:
    settings = ServerSettings(tmp_path / "data", dev=True, root_token=ROOT)
    node = Node(settings, clock)
    with TestClient(create_app(settings, node), headers={"Authorization": f"Bearer {ROOT}"}) as c:
        yield c
    node.close()


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _delegate(api: TestClient, ttl: str = "1h") -> str:
    policy = 'path "auth/token/create/*" { capabilities = ["update"] }'
    api.put("/api/v1/sys/policies/acl/delegate", json={"policy": policy})
    made = api.post("/api/v1/auth/token/create", json={"policies": ["delegate"], "ttl": ttl})
    token: str = made.json()["auth"]["client_token"]
    return token


def test_a_request_cannot_widen_a_token_role(api: TestClient) -> None:
    api.put("/api/v1/auth/token/roles/ci", json={"token_num_uses": 2, "token_ttl": "10m"})
    caller = _delegate(api)
    periodic = api.post("/api/v1/auth/token/create/ci", json={"period": "1h"}, headers=_as(caller))
    assert periodic.status_code == 403
    for asked in (0, 5):
        made = api.post(
            "/api/v1/auth/token/create/ci",
            json={"num_uses": asked, "ttl": "5h"},
            headers=_as(caller),
        )
        assert made.status_code == 200, made.text
        info = api.post(
            "/api/v1/auth/token/lookup", json={"token": made.json()["auth"]["client_token"]}
        )
        assert info.json()["data"]["num_uses"] == 2
        assert info.json()["data"]["ttl"] <= 600


def test_a_short_token_cannot_mint_a_token_that_outlives_it(
    api: TestClient, clock: ManualClock
) -> None:
    api.put("/api/v1/auth/token/roles/forever", json={"orphan": True, "token_period": "1h"})
    caller = _delegate(api, ttl="3s")
    made = api.post("/api/v1/auth/token/create/forever", json={}, headers=_as(caller))
    assert made.status_code == 200, made.text
    child = made.json()["auth"]["client_token"]
    clock.advance(2)
    assert api.post("/api/v1/auth/token/renew-self", headers=_as(child)).status_code == 200
    clock.advance(2)
    assert api.get("/api/v1/auth/token/lookup-self", headers=_as(child)).status_code in (401, 403)


def test_approle_secret_ids_stay_within_the_role(api: TestClient) -> None:
    made = api.put(
        "/api/v1/auth/approle/role/job",
        json={"token_policies": ["default"], "secret_id_ttl": "60s", "secret_id_num_uses": 2},
    )
    assert made.status_code == 204, made.text
    secret = api.post(
        "/api/v1/auth/approle/role/job/secret-id", json={"ttl": "1h", "num_uses": 10}
    ).json()["data"]
    assert secret["secret_id_ttl"] == 60 and secret["secret_id_num_uses"] == 2
    narrower = api.post(
        "/api/v1/auth/approle/role/job/secret-id", json={"ttl": "10s", "num_uses": 1}
    ).json()["data"]
    assert narrower["secret_id_ttl"] == 10 and narrower["secret_id_num_uses"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {"secret_id_num_uses": -1},
        {"token_num_uses": -5},
        {"token_num_uses": "3"},
        {"secret_id_num_uses": 1.5},
        {"token_num_uses": 10**23},
        {"token_num_uses": True},
    ],
)
def test_approle_counts_of_the_wrong_type_are_a_400(
    api: TestClient, body: dict[str, object]
) -> None:
    response = api.put("/api/v1/auth/approle/role/bad", json={"token_policies": [], **body})
    assert response.status_code == 400, response.text
    assert api.get("/api/v1/auth/approle/role/bad").status_code == 404
    secret_id = api.post("/api/v1/auth/approle/role/job/secret-id", json={"num_uses": -1})
    assert secret_id.status_code in (400, 404)


def test_token_and_secret_id_metadata_are_bounded(api: TestClient) -> None:
    """Issue 9, finding 29: metadata was unbounded."""
    too_many = {f"k{i}": "v" for i in range(65)}
    too_long = {"k": "v" * 513}
    for meta in (too_many, too_long):
        made = api.post("/api/v1/auth/token/create", json={"meta": meta})
        assert made.status_code == 400
        api.put("/api/v1/auth/approle/role/meta", json={"token_policies": ["default"]})
        secret = api.post("/api/v1/auth/approle/role/meta/secret-id", json={"metadata": meta})
        assert secret.status_code == 400


def test_stale_login_windows_are_pruned(tmp_path: Path) -> None:
    from strongroom.auth.lockout import LoginGuard
    from strongroom.errors import RateLimited

    clock = ManualClock()
    node = Node(ServerSettings(tmp_path / "d", dev=True, root_token=ROOT), clock)
    store = node.require_runtime().store
    guard = LoginGuard(store, clock, max_attempts=2, window=900)
    for i in range(20):
        guard.reserve("userpass", f"nobody{i}", "127.0.0.1")
    guard.reserve("userpass", "busy", "127.0.0.1")
    assert len(store.list_records("login-attempts")) == 42  # each: its address's, and everyone's
    assert guard.prune() == 0  # nothing stale yet
    clock.advance(901)
    guard.reserve("userpass", "busy", "127.0.0.1")
    guard.reserve("userpass", "busy", "127.0.0.1")
    assert guard.prune() == 40
    assert sorted(store.list_records("login-attempts")) == sorted(
        [guard.key("userpass", "busy", "127.0.0.1"), guard.key("userpass", "busy")]
    )
    with pytest.raises(RateLimited):
        guard.reserve("userpass", "busy", "127.0.0.1")
    node.close()
