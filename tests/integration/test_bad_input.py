"""Bad input gets a precise 4xx and changes nothing (issue 9, findings 13-15, 18, 22, 23),
against a real server over HTTP."""

from __future__ import annotations

import http.client
from collections.abc import Iterator

import httpx
import pytest

from tests.helpers import StrongroomServer


@pytest.fixture
def api(live_server: StrongroomServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {live_server.root_token}"}
    with httpx.Client(base_url=live_server.addr, headers=headers, timeout=30) as client:
        yield client


def _raw(server: StrongroomServer, method: str, target: str) -> tuple[int, bytes]:
    """A request with the URL bytes exactly as given (httpx would re-encode them)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        conn.putheader("Authorization", f"Bearer {server.root_token}")
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize(
    "query", ["10" + "0" * 21, "\u00b2", "\u0661", "-1", "0x10", "1e3", "99999999999"]
)
def test_integers_out_of_range_or_not_ascii_are_a_400(api: httpx.Client, query: str) -> None:
    api.put("/api/v1/secrets/secret/ints/a", json={"data": {"v": "1"}})
    for url in ("/api/v1/secrets/secret/ints/a", "/api/v1/list/secret/ints"):
        response = api.get(url, params={"version": query, "limit": query, "recursive": "true"})
        assert response.status_code == 400, (url, query, response.text)


@pytest.mark.parametrize("number", [10**23, -1, 0, 2**31, True, 1.5, "1"])
def test_version_bodies_out_of_range_are_a_400(api: httpx.Client, number: object) -> None:
    api.put("/api/v1/secrets/secret/ints/b", json={"data": {"v": "1"}})
    for url, body in [
        ("/api/v1/destroy/secret/ints/b", {"versions": [number]}),
        ("/api/v1/undelete/secret/ints/b", {"versions": [number]}),
        ("/api/v1/delete/secret/ints/b", {"versions": [number]}),
        ("/api/v1/rollback/secret/ints/b", {"version": number}),
        ("/api/v1/labels/secret/ints/b", {"label": "blue", "version": number}),
    ]:
        response = api.post(url, json=body)
        assert response.status_code == 400, (url, number, response.text)
    assert api.get("/api/v1/secrets/secret/ints/b").json()["data"] == {"v": "1"}


@pytest.mark.parametrize("encoded", ["%FF", "%ED%A0%80", "%C0%AF", "%80"])
def test_invalid_utf8_in_the_url_is_refused_not_aliased(
    live_server: StrongroomServer, encoded: str
) -> None:
    status, body = _raw(live_server, "GET", f"/api/v1/secrets/secret/utf/{encoded}")
    assert status == 400 and b"UTF-8" in body
    status, _ = _raw(live_server, "GET", f"/api/v1/list/secret/utf?after={encoded}")
    assert status == 400


def test_labels_are_checked_before_versions_and_labelled_versions_survive_pruning(
    api: httpx.Client,
) -> None:
    reserved = api.post("/api/v1/labels/secret/lab/a", json={"label": "current", "version": 99})
    assert reserved.status_code == 400 and "rotation" in reserved.text
    api.put("/api/v1/metadata/secret/lab/a", json={"max_versions": 2})
    api.put("/api/v1/secrets/secret/lab/a", json={"data": {"v": "1"}})
    assert api.post(
        "/api/v1/labels/secret/lab/a", json={"label": "golden", "version": 1}
    ).is_success
    for i in range(2, 6):
        api.put("/api/v1/secrets/secret/lab/a", json={"data": {"v": str(i)}})
    golden = api.get("/api/v1/secrets/secret/lab/a", params={"stage": "golden"})
    assert golden.status_code == 200 and golden.json()["data"] == {"v": "1"}
    assert api.get("/api/v1/secrets/secret/lab/a", params={"version": 3}).status_code == 404


def test_head_spends_one_use_of_a_use_limited_token(api: httpx.Client) -> None:
    api.put("/api/v1/secrets/secret/head/a", json={"data": {"v": "1"}})
    made = api.post("/api/v1/auth/token/create", json={"policies": ["root"], "num_uses": 2})
    token = made.json()["auth"]["client_token"]
    as_token = {"Authorization": f"Bearer {token}"}
    assert api.head("/api/v1/secrets/secret/head/a", headers=as_token).status_code == 200
    assert api.get("/api/v1/secrets/secret/head/a", headers=as_token).status_code == 200
    assert api.get("/api/v1/secrets/secret/head/a", headers=as_token).status_code in (401, 403)
