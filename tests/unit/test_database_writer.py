"""A database writer without the keys cannot grant themselves anything (issue 9, finding 1).

Each test edits the real SQLite file the way an attacker with write access to it would, then
asks the server: the edited, forged or moved record is refused, never trusted."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from strongroom.config import ServerSettings
from strongroom.errors import DecryptionError, TamperedRecord
from strongroom.server.app import create_app
from strongroom.server.node import Node
from tests.legacy import check_migrated, write_old_format_store

ROOT = "writer-root-token"
S = "/api/v1/secrets/secret"


def _settings(tmp_path: Path) -> ServerSettings:
    return ServerSettings(
        tmp_path / "data", dev=True, root_token=ROOT, audit_file=tmp_path / "audit.log"
    )


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    node = Node(_settings(tmp_path))
    app = create_app(node.settings, node)
    with TestClient(app, headers={"Authorization": f"Bearer {ROOT}"}) as client:
        yield client
    node.close()


def _db(tmp_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(tmp_path / "data" / "strongroom.db", isolation_level=None)


def _records(tmp_path: Path, kind: str) -> dict[str, bytes]:
    with _db(tmp_path) as db:
        rows = db.execute("SELECT name, value FROM records WHERE kind = ?", (kind,)).fetchall()
    return {name: bytes(value) for name, value in rows}


def _write(tmp_path: Path, kind: str, name: str, value: bytes) -> None:
    db = _db(tmp_path)
    db.execute(
        "INSERT INTO records (kind, name, value) VALUES (?, ?, ?) "
        "ON CONFLICT (kind, name) DO UPDATE SET value = excluded.value",
        (kind, name, value),
    )
    db.close()


def _forget_caches(api: TestClient) -> None:
    runtime = api.app.node.require_runtime()  # type: ignore[attr-defined]
    runtime.on_change_elsewhere("*", "")


def _token(api: TestClient, policies: list[str]) -> dict[str, str]:
    response = api.post("/api/v1/auth/token/create", json={"policies": policies})
    assert response.status_code == 200, response.text
    auth: dict[str, str] = response.json()["auth"]
    return auth


def test_no_stored_record_is_plain_json(api: TestClient, tmp_path: Path) -> None:
    api.put(
        "/api/v1/sys/policies/acl/app", json={"policy": 'path "secret/*" {capabilities=["read"]}'}
    )
    _token(api, ["app"])
    with _db(tmp_path) as db:
        rows = db.execute("SELECT kind, name, value FROM records").fetchall()
    barrier = {"seal-config", "sealed-root-keys", "record-key"}
    for kind, name, value in rows:
        if kind == "system" and name in barrier:
            continue
        assert bytes(value).startswith(b"SRR\x01"), (kind, name)
        assert b"policies" not in bytes(value)


def test_an_edited_token_record_is_refused_not_root(api: TestClient, tmp_path: Path) -> None:
    user = _token(api, ["default"])
    # Plain JSON with root policies, as the old format stored it, for every token.
    forged = {
        "accessor": user["accessor"],
        "display_name": "x",
        "policies": ["root"],
        "created": 0.0,
        "expires": None,
        "max_expires": None,
        "ttl": 0.0,
    }
    for digest in _records(tmp_path, "token"):
        _write(tmp_path, "token", digest, json.dumps(forged).encode())
    _forget_caches(api)
    as_user = {"Authorization": f"Bearer {user['client_token']}"}
    response = api.get("/api/v1/sys/policies/acl", headers=as_user)
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "tampered_record"
    assert api.get("/api/v1/sys/policies/acl").status_code == 500  # the root token's too


def test_a_sealed_token_record_moved_to_another_digest_does_not_open(
    api: TestClient, tmp_path: Path
) -> None:
    user = _token(api, ["default"])
    before = _records(tmp_path, "token")
    _token(api, ["root"])
    (admin_digest,) = set(_records(tmp_path, "token")) - set(before)
    admin_record = _records(tmp_path, "token")[admin_digest]
    for digest in before:  # the user's digest (and the dev root's) get the new root's record
        _write(tmp_path, "token", digest, admin_record)
    _forget_caches(api)
    as_user = {"Authorization": f"Bearer {user['client_token']}"}
    assert api.get("/api/v1/sys/policies/acl", headers=as_user).status_code == 500


def test_an_inserted_approle_role_cannot_log_in(api: TestClient, tmp_path: Path) -> None:
    role = {
        "token_policies": ["root"],
        "bind_secret_id": False,
        "secret_id_bound_cidrs": [],
        "role_id": "planted",
    }
    _write(tmp_path, "approle-role", "evil", json.dumps(role).encode())
    _write(tmp_path, "approle-role-id", "planted", b"evil")
    response = api.post(
        "/api/v1/auth/approle/login", json={"role_id": "planted", "secret_id": ""}, headers={}
    )
    assert response.status_code == 500
    assert "client_token" not in response.text


def test_an_inserted_audit_sink_stops_the_server_from_starting(tmp_path: Path) -> None:
    node = Node(_settings(tmp_path))
    node.close()
    doc = {"type": "file", "path": str(tmp_path / "anywhere.txt"), "wrapped_key": "00" * 60}
    _write(tmp_path, "audit-sink", "planted", json.dumps(doc).encode())
    with pytest.raises(TamperedRecord):
        Node(_settings(tmp_path))
    assert not (tmp_path / "anywhere.txt").exists()


def test_a_sink_key_moved_to_another_sink_does_not_open(tmp_path: Path) -> None:
    node = Node(_settings(tmp_path))
    sealed = node.require_runtime().store
    node.require_runtime().audit.enable("second", "store")
    # Even resealed under the other name, the key's wrap is bound to its own sink's name.
    first = json.loads(sealed.get_record("audit-sink", "file") or b"")
    second = json.loads(sealed.get_record("audit-sink", "second") or b"")
    second["wrapped_key"] = first["wrapped_key"]
    sealed.put_record("audit-sink", "second", json.dumps(second).encode())
    node.close()
    with pytest.raises(DecryptionError):
        Node(_settings(tmp_path))


def test_clearing_deletion_time_does_not_undelete(api: TestClient, tmp_path: Path) -> None:
    api.put(f"{S}/app/db", json={"data": {"pw": "one"}})
    assert api.delete(f"{S}/app/db").status_code == 204
    assert api.get(f"{S}/app/db").status_code == 404
    db = _db(tmp_path)
    db.execute("UPDATE versions SET deletion_time = NULL")
    db.close()
    response = api.get(f"{S}/app/db")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "deleted"
    assert api.post("/api/v1/undelete/secret/app/db", json={"versions": [1]}).status_code == 204
    assert api.get(f"{S}/app/db").json()["data"] == {"pw": "one"}


def test_an_edited_secret_row_is_refused(api: TestClient, tmp_path: Path) -> None:
    api.put(f"{S}/app/db", json={"data": {"pw": "one"}})
    api.put(f"{S}/app/db", json={"data": {"pw": "two"}})
    db = _db(tmp_path)
    db.execute("UPDATE secrets SET current_version = 1")
    db.close()
    response = api.get(f"{S}/app/db")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "tampered_record"
    db = _db(tmp_path)
    (settings,) = db.execute("SELECT settings FROM secrets").fetchone()
    doc = json.loads(settings)
    doc["labels"] = {"current": 1}
    db.execute("UPDATE secrets SET current_version = 2, settings = ?", (json.dumps(doc),))
    db.close()
    assert api.get(f"{S}/app/db").status_code == 500


def test_a_writer_can_restore_an_older_genuine_record(api: TestClient, tmp_path: Path) -> None:
    """What docs/security.md says is not detected: an older genuine record, put back."""
    api.put(
        "/api/v1/sys/policies/acl/app", json={"policy": 'path "secret/*" {capabilities=["read"]}'}
    )
    old = _records(tmp_path, "policy")["app"]
    api.put(
        "/api/v1/sys/policies/acl/app", json={"policy": 'path "secret/x" {capabilities=["read"]}'}
    )
    _write(tmp_path, "policy", "app", old)
    _forget_caches(api)
    assert "secret/*" in api.get("/api/v1/sys/policies/acl/app").text


def test_a_data_directory_of_the_old_format_migrates_on_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
    old = write_old_format_store(settings, ROOT, monkeypatch)
    assert b"policies" in _records(tmp_path, "token")[next(iter(_records(tmp_path, "token")))]
    node = Node(settings)
    check_migrated(settings, ROOT, old, node)
    node.close()
    for kind in ("token", "policy", "approle-role", "audit-sink", "keyring"):
        assert all(v.startswith(b"SRR\x01") for v in _records(tmp_path, kind).values()), kind
    # Migrated once: a second start finds nothing to do and everything still opens.
    node = Node(settings)
    node.close()


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
