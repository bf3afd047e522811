"""A store in the format before records were sealed, written by today's code with the sealing
switched off (the one-time migration's input), for the migration tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from starlette.testclient import TestClient

import strongroom.audit.broker as broker_module
import strongroom.auth.tokens as tokens_module
import strongroom.server.runtime as runtime_module
from strongroom.config import ServerSettings
from strongroom.server.app import create_app
from strongroom.server.node import Node

S = "/api/v1/secrets/secret"


@dataclass(frozen=True)
class OldStore:
    user_token: str  # may read secret/*
    role_id: str
    secret_id: str


def write_old_format_store(
    settings: ServerSettings, root_token: str, monkeypatch: pytest.MonkeyPatch
) -> OldStore:
    """A policy, a token, a secret with a deleted version, an AppRole role and secret-id, and a
    file audit sink, all in the old format."""
    with monkeypatch.context() as old:
        old.setattr(runtime_module, "open_sealed_store", lambda store, provider: store)
        old.setattr(runtime_module, "migrate_records", lambda store, provider: None)
        old.setattr(tokens_module, "TOKEN_HMAC_CONTEXT", {"purpose": "token-hmac-key"})
        old.setattr(broker_module, "audit_key_context", lambda name: {"purpose": "audit-hmac-key"})
        node = Node(settings)
        headers = {"Authorization": f"Bearer {root_token}"}
        with TestClient(create_app(settings, node), headers=headers) as api:
            policy = 'path "secret/*" { capabilities = ["read", "list"] }'
            api.put("/api/v1/sys/policies/acl/app", json={"policy": policy})
            made = api.post("/api/v1/auth/token/create", json={"policies": ["app"]})
            api.put(f"{S}/app/db", json={"data": {"pw": "one"}})
            api.put(f"{S}/app/db", json={"data": {"pw": "two"}})
            api.post("/api/v1/delete/secret/app/db", json={"versions": [1]})
            api.put("/api/v1/auth/approle/role/ci", json={"token_policies": ["app"]})
            role = api.get("/api/v1/auth/approle/role/ci/role-id").json()["data"]["role_id"]
            secret = api.post("/api/v1/auth/approle/role/ci/secret-id", json={}).json()["data"]
        node.close()
    return OldStore(made.json()["auth"]["client_token"], role, secret["secret_id"])


def check_migrated(
    settings: ServerSettings, root_token: str, old: OldStore, node: Node, *, audit: bool = True
) -> None:
    """Everything the old store held works as before, through ``node`` (and its audit chain
    verifies, unless ``audit`` is False: nodes sharing one file interleave their chains)."""
    as_user = {"Authorization": f"Bearer {old.user_token}"}
    headers = {"Authorization": f"Bearer {root_token}"}
    with TestClient(create_app(settings, node), headers=headers) as api:
        assert api.get(f"{S}/app/db", headers=as_user).json()["data"] == {"pw": "two"}
        assert api.get(f"{S}/app/db?version=1", headers=as_user).status_code == 404
        assert api.put(f"{S}/app/db", json={"data": {}}, headers=as_user).status_code == 403
        login = api.post(
            "/api/v1/auth/approle/login", json={"role_id": old.role_id, "secret_id": old.secret_id}
        )
        assert login.status_code == 200, login.text
        if audit:
            verified = api.post("/api/v1/sys/audit/file/verify")
            assert verified.json()["data"]["ok"] is True, verified.text
