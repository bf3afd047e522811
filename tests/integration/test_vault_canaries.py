"""No secret sent or returned through the Vault API (KV values, Transit plaintexts, data keys and
key material, passwords, secret IDs, tokens) reaches the database files, the audit log, the
server log or an error body, in any encoding."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import httpx

from tests.canary import find_canaries, read_tree
from tests.helpers import StrongroomServer


def _canary(label: str) -> str:
    return f"CANARY-{label}-{secrets.token_hex(12)}"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_vault_api_canaries_stay_out_of_disk_logs_and_errors(tmp_path: Path) -> None:
    server = StrongroomServer(tmp_path / "data", root_token=None, extra=["--access-log"]).start()
    token = server.root_token
    assert token
    planted = {
        n: _canary(n) for n in ("kv", "cas", "patch", "plain", "batch", "password", "sid", "kv1")
    }
    returned: list[str] = [token]
    error_bodies: dict[str, bytes] = {}
    try:
        with httpx.Client(base_url=server.addr, headers={"X-Vault-Token": token}) as http:

            def call(method: str, url: str, expect: int, **kwargs: object) -> httpx.Response:
                response = http.request(method, url, **kwargs)  # type: ignore[arg-type]
                assert response.status_code == expect, (url, response.text)
                if response.status_code >= 400:
                    error_bodies[f"{method} {url} {len(error_bodies)}"] = response.content
                return response

            call("POST", "/v1/secret/data/c/a", 200, json={"data": {"pw": planted["kv"]}})
            call(
                "POST",
                "/v1/secret/data/c/a",
                400,
                json={"data": {"pw": planted["cas"]}, "options": {"cas": 9}},
            )
            call(
                "PATCH",
                "/v1/secret/data/c/a",
                200,
                content=b'{"data": {"p": "' + planted["patch"].encode() + b'"}}',
                headers={"Content-Type": "application/merge-patch+json"},
            )
            call("POST", "/v1/sys/mounts/kv1", 204, json={"type": "kv"})  # KV version 1
            call("POST", "/v1/kv1/c/a", 204, json={"pw": planted["kv1"]})
            assert call("GET", "/v1/kv1/c/a", 200).json()["data"] == {"pw": planted["kv1"]}
            call("POST", "/v1/kv1/c/b", 400, json={})  # no data: refused, nothing written
            call("GET", "/v1/kv1/c/b", 404)
            call("POST", "/v1/sys/mounts/transit", 204, json={"type": "transit"})
            call("POST", "/v1/transit/keys/k", 200, json={"exportable": True})
            sealed = call(
                "POST", "/v1/transit/encrypt/k", 200, json={"plaintext": _b64(planted["plain"])}
            ).json()["data"]["ciphertext"]
            call(
                "POST",
                "/v1/transit/encrypt/k",
                400,
                json={"batch_input": [{"plaintext": _b64(planted["batch"])}, {"plaintext": "!"}]},
            )
            opened = call("POST", "/v1/transit/decrypt/k", 200, json={"ciphertext": sealed})
            assert base64.b64decode(opened.json()["data"]["plaintext"]).decode() == planted["plain"]
            call("POST", "/v1/transit/decrypt/k", 400, json={"ciphertext": sealed[:-4] + "AAAA"})
            datakey = call("POST", "/v1/transit/datakey/plaintext/k", 200, json={}).json()
            returned.append(base64.b64decode(datakey["data"]["plaintext"]).hex())
            exported = call("GET", "/v1/transit/export/encryption-key/k/1", 200).json()
            returned.append(base64.b64decode(exported["data"]["keys"]["1"]).hex())
            call(
                "POST",
                "/v1/auth/userpass/users/u",
                204,
                json={"password": planted["password"], "policies": ["default"]},
            )
            http.post("/v1/auth/userpass/login/u", json={"password": planted["password"] + "x"})
            login = call(
                "POST", "/v1/auth/userpass/login/u", 200, json={"password": planted["password"]}
            )
            returned.append(login.json()["auth"]["client_token"])
            call("POST", "/v1/auth/approle/role/r", 204, json={"token_policies": ["default"]})
            call(
                "POST",
                "/v1/auth/approle/role/r/custom-secret-id",
                200,
                json={"secret_id": planted["sid"]},
            )
            made = call("POST", "/v1/auth/approle/role/r/secret-id", 200, json={}).json()
            returned.append(made["data"]["secret_id"])
            child = call("POST", "/v1/auth/token/create", 200, json={"policies": ["default"]})
            returned.append(child.json()["auth"]["client_token"])
            call("POST", "/v1/auth/token/lookup", 200, json={"token": returned[-1]})
            call("POST", "/v1/auth/token/lookup", 403, json={"token": planted["sid"] + "-nope"})
    finally:
        server.stop()
    artifacts = {
        **read_tree(tmp_path / "data"),
        "server.log": server.log_path.read_bytes(),
        **error_bodies,
    }
    assert any(name.endswith("audit.log") or "audit" in name for name in artifacts), list(artifacts)
    secrets_sent = [planted[n] for n in planted if n != "password"] + [planted["password"]]
    hits = find_canaries(
        {k: v for k, v in artifacts.items() if k != "server.log"}, [*secrets_sent, *returned[1:]]
    )
    assert hits == []
    # The server log may show the root token it printed at start, and nothing else planted.
    assert find_canaries({"server.log": artifacts["server.log"]}, secrets_sent + returned[1:]) == []
