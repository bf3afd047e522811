"""The recipes of docs/kubernetes.md, request by request, against a real server: what the
External Secrets Operator's Vault provider sends for a SecretStore with Kubernetes auth (login,
token check, mount check, reads, metadata, PushSecret, DeleteSecret, revoke), and the Vault
Agent the injector runs (a real ``bao agent`` with Kubernetes auto-auth rendering a template).
The service account tokens come from the stand-in cluster of tests/k8s_cluster.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import hvac
import pytest

from tests.helpers import StrongroomServer
from tests.integration.test_vault_cli import Bao
from tests.k8s_cluster import Cluster

ROOT = "recipes-root"
ESO_POLICY = """
path "secret/data/shop/*" { capabilities = ["read", "create", "update", "delete"] }
path "secret/metadata/shop/*" { capabilities = ["create", "read", "list", "update", "delete"] }
path "sys/internal/ui/mounts/secret" { capabilities = ["read"] }
"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    running = Cluster()
    try:
        yield running
    finally:
        running.server.shutdown()
        running.server.server_close()


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, cluster: Cluster
) -> Iterator[StrongroomServer]:
    running = StrongroomServer(
        tmp_path_factory.mktemp("recipes") / "data", ROOT, extra=["--egress-allow", "127.0.0.1/32"]
    ).start()
    root = hvac.Client(url=running.addr, token=ROOT)
    # As docs/kubernetes.md sets it up.
    root.sys.enable_auth_method("kubernetes")
    root.write("auth/kubernetes/config", kubernetes_host=cluster.url)
    root.sys.create_or_update_acl_policy("eso", ESO_POLICY)
    root.write(
        "auth/kubernetes/role/eso",
        bound_service_account_names=["external-secrets"],
        bound_service_account_namespaces=["external-secrets"],
        token_policies=["eso"],
        token_ttl="15m",
    )
    root.sys.create_or_update_acl_policy(
        "shop-app", 'path "secret/data/shop/*" { capabilities = ["read"] }'
    )
    root.write(
        "auth/kubernetes/role/shop-app",
        bound_service_account_names=["shop"],
        bound_service_account_namespaces=["shop"],
        token_policies=["shop-app"],
        token_ttl="1h",
    )
    root.secrets.kv.v2.create_or_update_secret(
        "shop/db", secret={"password": "db-pw", "user": "shop"}
    )
    try:
        yield running
    finally:
        running.stop()


class VaultGo:
    """Requests as the Go client of Vault's API sends them (ESO's provider uses it): writes are
    PUT, a 404 with no error words reads as "no secret"."""

    def __init__(self, addr: str) -> None:
        self.http = httpx.Client(base_url=addr, headers={"X-Vault-Request": "true"})
        self.token = ""

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        headers = {"X-Vault-Token": self.token} if self.token else {}
        return self.http.request(method, f"/v1/{path}", json=body, headers=headers)


def test_external_secrets_operator_with_kubernetes_auth(
    server: StrongroomServer, cluster: Cluster
) -> None:
    eso = VaultGo(server.addr)
    try:
        _operator_session(eso, cluster)
    finally:
        eso.close()


def _operator_session(eso: VaultGo, cluster: Cluster) -> None:
    # SecretStore: auth.kubernetes {mountPath: kubernetes, role: eso, serviceAccountRef}
    login = eso.call(
        "PUT",
        "auth/kubernetes/login",
        {"role": "eso", "jwt": cluster.token("external-secrets", "external-secrets")},
    )
    assert login.status_code == 200, login.text
    eso.token = login.json()["auth"]["client_token"]
    # Validate(): the token, then the KV mount and its version
    assert eso.call("GET", "auth/token/lookup-self").json()["data"]["policies"] == [
        "default",
        "eso",
    ]
    mount = eso.call("GET", "sys/internal/ui/mounts/secret").json()["data"]
    assert mount["type"] == "kv" and str(mount["options"]["version"]) == "2"
    # ExternalSecret: remoteRef {key: shop/db, property: password}, a version, and metadata
    read = eso.call("GET", "secret/data/shop/db")
    assert read.json()["data"]["data"]["password"] == "db-pw"
    assert eso.call("GET", "secret/data/shop/db?version=1").json()["data"]["data"]["user"] == "shop"
    meta = eso.call("GET", "secret/metadata/shop/db").json()["data"]
    assert meta["current_version"] == 1 and "created_time" in meta
    missing = eso.call("GET", "secret/data/shop/missing")
    assert missing.status_code == 404 and missing.json() == {"errors": []}  # "no secret"
    # dataFrom.find: list under a path
    assert "db" in eso.call("LIST", "secret/metadata/shop/").json()["data"]["keys"]
    # PushSecret (new): metadata with managed-by first, then the data with cas 0
    pushed = eso.call(
        "PUT",
        "secret/metadata/shop/pushed",
        {"custom_metadata": {"managed-by": "external-secrets"}},
    )
    assert pushed.status_code in (200, 204), pushed.text
    wrote = eso.call(
        "PUT", "secret/data/shop/pushed", {"data": {"token": "t1"}, "options": {"cas": 0}}
    )
    assert wrote.status_code == 200, wrote.text
    assert eso.call("GET", "secret/metadata/shop/pushed").json()["data"]["custom_metadata"] == {
        "managed-by": "external-secrets"
    }
    # PushSecret (update, check-and-set on the current version)
    again = eso.call(
        "PUT", "secret/data/shop/pushed", {"data": {"token": "t2"}, "options": {"cas": 1}}
    )
    assert again.json()["data"]["version"] == 2
    stale = eso.call(
        "PUT", "secret/data/shop/pushed", {"data": {"token": "t3"}, "options": {"cas": 1}}
    )
    assert stale.status_code == 400
    # DeleteSecret: data, then metadata
    assert eso.call("DELETE", "secret/data/shop/pushed").status_code == 204
    assert eso.call("DELETE", "secret/metadata/shop/pushed").status_code == 204
    assert eso.call("GET", "secret/metadata/shop/pushed").status_code == 404
    # Outside its policy
    assert eso.call("GET", "secret/data/other/x").status_code == 403
    # Close(): the token is revoked
    assert eso.call("PUT", "auth/token/revoke-self").status_code == 204
    assert eso.call("GET", "auth/token/lookup-self").status_code == 403


def test_the_injectors_vault_agent(
    server: StrongroomServer, cluster: Cluster, tmp_path: Path
) -> None:
    """The agent-init container the injector adds: kubernetes auto-auth, a token sink, a
    template, exit after the first render."""
    sa_token = tmp_path / "serviceaccount-token"
    sa_token.write_text(cluster.token("shop", "shop"))
    out = tmp_path / "secrets" / "db.env"
    out.parent.mkdir()
    template = (
        '{{ with secret "secret/data/shop/db" }}DB_PASSWORD={{ .Data.data.password }}{{ end }}'
    )
    (tmp_path / "agent.hcl").write_text(
        f'vault {{\n  address = "{server.addr}"\n}}\n'
        "exit_after_auth = true\n"
        "auto_auth {\n"
        '  method "kubernetes" {\n'
        '    mount_path = "auth/kubernetes"\n'
        "    config = {\n"
        '      role = "shop-app"\n'
        f'      token_path = "{sa_token}"\n'
        "    }\n  }\n"
        f'  sink "file" {{\n    config = {{\n      path = "{tmp_path / "token"}"\n    }}\n  }}\n'
        "}\n"
        f'template {{\n  contents = {json.dumps(template)}\n  destination = "{out}"\n}}\n'
    )
    agent = Bao(server.addr, ROOT, tmp_path / "agent").run(
        "agent", f"-config={tmp_path / 'agent.hcl'}"
    )
    assert agent.returncode == 0, agent.stderr + agent.stdout
    assert out.read_text() == "DB_PASSWORD=db-pw"
    token = (tmp_path / "token").read_text()
    info = hvac.Client(url=server.addr, token=token).lookup_token()["data"]
    assert info["meta"]["service_account_name"] == "shop" and "shop-app" in info["policies"]
