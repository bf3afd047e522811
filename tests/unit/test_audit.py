"""The audit log: a pair per request, nothing secret in it, tamper-evident, and fail closed."""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from strongroom.audit.chain import FORMAT_MARKER, chain_line, verify_lines
from strongroom.audit.hashing import ValueHasher
from strongroom.audit.sinks import FileSink
from strongroom.config import ServerSettings
from strongroom.server.app import create_app
from strongroom.server.node import Node
from tests.canary import find_canaries
from tests.helpers import entries_by_request

ROOT = "audit-root-token"
S = "/api/v1/secrets/secret"


@pytest.fixture
def audit_path(tmp_path: Path) -> Path:
    return tmp_path / "audit.log"


@pytest.fixture
def api(tmp_path: Path, audit_path: Path) -> Iterator[TestClient]:
    settings = ServerSettings(tmp_path / "data", dev=True, root_token=ROOT, audit_file=audit_path)
    node = Node(settings)
    with TestClient(create_app(settings, node), headers={"Authorization": f"Bearer {ROOT}"}) as c:
        yield c
    node.close()


def _entries(path: Path) -> list[dict[str, object]]:
    """The entries of requests (not the markers that name the log's format)."""
    every = [json.loads(line) for line in path.read_bytes().splitlines()]
    return [entry for entry in every if entry["type"] != FORMAT_MARKER]


def test_every_request_is_audited_and_no_canary_reaches_the_log(
    api: TestClient, audit_path: Path
) -> None:
    """A change has a request entry before it runs and a response entry; a read, one entry."""
    value, password, custom = (f"canary-{secrets.token_hex(8)}" for _ in range(3))
    api.put(f"{S}/app/db", json={"data": {"password": value}})
    api.get(f"{S}/app/db")
    api.get(f"{S}/missing")
    api.put(f"{S}/bad//path", json={"data": {"v": custom}})
    api.put("/api/v1/auth/userpass/users/carol", json={"password": password, "token_policies": []})
    api.post("/api/v1/auth/userpass/login/carol", json={"password": "wrong-" + password})
    login = api.post("/api/v1/auth/userpass/login/carol", json={"password": password}).json()
    issued = login["auth"]["client_token"]
    api.get(f"{S}/app/db", headers={"Authorization": f"Bearer {issued}"})  # 403
    api.get(f"{S}/app/db", headers={"Authorization": "Bearer not-a-token"})  # 401
    api.post("/api/v1/namespaces/secret/datakey", json={"context": {"a": "b"}})
    sent = 10
    entries = _entries(audit_path)
    by_id = entries_by_request(entries)
    assert len(by_id) == sent
    assert sum(types == ["response"] for types in by_id.values()) == 4  # the GETs
    statuses = sorted(int(str(e["status"])) for e in entries if e["type"] == "response")
    assert statuses == sorted([200, 200, 404, 400, 204, 401, 200, 403, 401, 200])
    assert (
        find_canaries(
            {"audit.log": audit_path.read_bytes()}, [value, password, custom, issued, ROOT]
        )
        == []
    )
    # The HMAC of a value, asked for through the API, finds its entries.
    hashed = api.post("/api/v1/sys/audit-hash/file", json={"input": issued}).json()["data"]["hash"]
    assert hashed.encode() in audit_path.read_bytes()


def _mutations(lines: list[bytes]) -> dict[str, list[bytes]]:
    edited = json.loads(lines[3])
    edited["status"] = 200 if edited.get("status") != 200 else 201
    forged = [*lines[:3], json.dumps(edited).encode() + b"\n", *lines[4:]]
    return {
        "edited": forged,
        "deleted": lines[:2] + lines[3:],
        "inserted": [*lines[:2], lines[2], *lines[2:]],
        "reordered": [*lines[:2], lines[3], lines[2], *lines[4:]],
        "truncated": lines[:-1],
        "cut mid-line": [*lines[:-1], lines[-1][:20]],
        "emptied": [],
    }


def test_verify_catches_every_single_entry_mutation(api: TestClient, audit_path: Path) -> None:
    for i in range(4):
        api.put(f"{S}/s{i}", json={"data": {"i": i}})
    assert api.post("/api/v1/sys/audit/file/verify").json()["data"]["ok"] is True
    original = audit_path.read_bytes()
    lines = original.splitlines(keepends=True)
    # Check the file as it was when the verify call above was answered.
    lines = lines[:-1] if json.loads(lines[-1])["type"] == "request" else lines
    sink = api.app.node.require_runtime().audit.sink("file")  # type: ignore[attr-defined]
    head_seq = json.loads(lines[-1])["seq"]
    head = (head_seq, json.loads(lines[-1])["hash"])
    assert verify_lines(sink.key, lines, head).ok
    for name, mutated in _mutations(lines).items():
        result = verify_lines(sink.key, mutated, head)
        assert not result.ok, name
    # And through the server, against its live head: truncate the real file.
    audit_path.write_bytes(b"".join(lines[:-2]))
    verdict = api.post("/api/v1/sys/audit/file/verify").json()["data"]
    assert verdict["ok"] is False


def test_a_keyed_chain_cannot_be_rebuilt_without_the_key() -> None:
    key, other = os.urandom(32), os.urandom(32)
    first, digest = chain_line(key, 1, "0" * 64, {"type": "request"})
    forged, _ = chain_line(other, 2, digest, {"type": "response"})
    assert not verify_lines(key, [first, forged]).ok


def test_fail_closed_then_recover(api: TestClient, audit_path: Path) -> None:
    value = f"canary-{secrets.token_hex(8)}"
    api.put(f"{S}/fc", json={"data": {"v": value}})
    audit_path.chmod(0o400)
    time.sleep(FileSink.CHECK_SECONDS + 0.1)  # noticed by the next check, within a second
    try:
        for method, url in [("GET", f"{S}/fc"), ("PUT", f"{S}/fc2"), ("GET", "/api/v1/namespaces")]:
            response = api.request(method, url, json={"data": {"v": "x"}})
            assert response.status_code == 503, (method, url)
            assert response.json()["error"]["code"] == "audit_unavailable"
            assert value not in response.text
    finally:
        audit_path.chmod(0o600)
    assert api.get(f"{S}/fc2").status_code == 404  # the refused write never happened
    assert api.get(f"{S}/fc").json()["data"] == {"v": value}  # recovered by itself
    assert api.post("/api/v1/sys/audit/file/verify").json()["data"]["ok"] is True


def test_a_second_sink_keeps_the_service_up(api: TestClient, audit_path: Path) -> None:
    assert api.put("/api/v1/sys/audit/backup", json={"type": "store"}).status_code == 204
    audit_path.chmod(0o400)
    time.sleep(FileSink.CHECK_SECONDS + 0.1)
    try:
        assert api.get("/api/v1/namespaces").status_code == 200
    finally:
        audit_path.chmod(0o600)
    sinks = {s["name"]: s for s in api.get("/api/v1/sys/audit").json()["sinks"]}
    assert sinks["backup"]["type"] == "store" and sinks["backup"]["entries"] >= 3
    assert api.post("/api/v1/sys/audit/backup/verify").json()["data"]["ok"] is True
    bad = api.put("/api/v1/sys/audit/../../etc", json={"type": "file"})
    assert bad.status_code in (400, 404)


def test_a_number_is_hashed_as_its_json_text_whatever_its_type() -> None:
    """Floats take a shortcut (repr, not json.dumps); the HMAC must be the same, so a verifier
    or an `audit-hash` of the JSON text finds the entry."""
    hasher = ValueHasher(b"k" * 32)
    for number in (0.1, 1733412345.123456, -0.0, 1e-7, 1e300, 5e-324, 2.0**70, 7, -3):
        assert hasher.redact({"v": number})["v"] == hasher.hash(json.dumps(number))
    for odd in (float("nan"), float("inf"), float("-inf")):
        assert hasher.redact({"v": odd})["v"] == hasher.hash(json.dumps(odd))
