"""The decoded-version cache: bounded in bytes and time, least recently used first out, and a
destroyed or rewritten version never read from it (through a real service)."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from strongroom.opened_cache import MAX_VALUE_BYTES, OpenedCache


def test_bounds_time_and_order() -> None:
    now = [0.0]
    cache = OpenedCache(max_bytes=100, ttl=10, clock=lambda: now[0])
    cache.put(b"e1", b"x" * 40, 2)
    cache.put(b"e2", b"y" * 40, 2)
    assert cache.get(b"e1") == b"x" * 40  # e1 is now the most recent
    cache.put(b"e3", b"z" * 40, 2)  # over 100 bytes: the least recent (e2) goes
    assert cache.get(b"e2") is None and cache.get(b"e1") is not None
    now[0] = 11
    assert cache.get(b"e1") is None and cache.get(b"e3") is None  # expired
    cache.put(b"big", b"b" * (MAX_VALUE_BYTES + 1))
    assert cache.get(b"big") is None and len(cache) == 0


def test_a_destroyed_or_rewritten_version_is_not_read_from_the_cache(
    app_client: TestClient, tmp_path: Path
) -> None:
    api = app_client
    api.put("/api/v1/secrets/secret/cached", json={"data": {"v": "one"}})
    for _ in range(3):
        assert api.get("/api/v1/secrets/secret/cached").json()["data"] == {"v": "one"}
    api.put("/api/v1/secrets/secret/cached", json={"data": {"v": "two"}})
    assert api.get("/api/v1/secrets/secret/cached").json()["data"] == {"v": "two"}
    assert api.get("/api/v1/secrets/secret/cached?version=1").json()["data"] == {"v": "one"}
    api.post("/api/v1/destroy/secret/cached", json={"versions": [1]})
    assert api.get("/api/v1/secrets/secret/cached?version=1").status_code == 404
    api.delete("/api/v1/metadata/secret/cached")
    assert api.get("/api/v1/secrets/secret/cached").status_code == 404
