"""No planted secret, token or data key appears in the database files (with WAL), the key file,
the server log or any response, raw or encoded, including on error paths."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import httpx

from tests.canary import encodings, find_canaries, read_tree
from tests.helpers import StrongroomServer


def _canary(label: str) -> str:
    return f"CANARY-{label}-{secrets.token_hex(12)}"


def test_canaries_never_reach_disk_logs_or_responses(tmp_path: Path) -> None:
    server = StrongroomServer(tmp_path / "data", root_token=None, extra=["--access-log"]).start()
    token = server.root_token
    assert token
    values = [
        _canary(n)
        for n in ("put", "patch", "cas", "big", "json", "deep", "rollback", "path-err", "stdin")
    ]
    responses: list[bytes] = []
    try:
        with httpx.Client(
            base_url=server.addr, headers={"Authorization": f"Bearer {token}"}
        ) as http:

            def call(method: str, url: str, **kwargs: object) -> httpx.Response:
                response = http.request(method, url, **kwargs)  # type: ignore[arg-type]
                responses.append(response.content)
                return response

            s = "/api/v1/secrets/secret"
            assert (
                call("PUT", f"{s}/c/a", json={"data": {"password": values[0]}}).status_code == 200
            )
            assert (
                call("PATCH", f"{s}/c/a", json={"data": {"patched": values[1]}}).status_code == 200
            )
            assert (
                call("PUT", f"{s}/c/a", json={"data": {"v": values[2]}, "cas": 99}).status_code
                == 400
            )
            assert (
                call(
                    "PUT", f"{s}/c/big", json={"data": {"v": values[3] + "x" * 600_000}}
                ).status_code
                == 400
            )
            assert (
                call(
                    "PUT", f"{s}/c/a", content=b'{"data": {"v": "' + values[4].encode() + b'"'
                ).status_code
                == 400
            )
            deep = (
                b'{"data":{"v":"' + values[5].encode() + b'","d":' + b"[" * 50 + b"]" * 50 + b"}}"
            )
            assert call("PUT", f"{s}/c/a", content=deep).status_code == 400
            assert (
                call("POST", "/api/v1/rollback/secret/c/a", json={"version": 1}).status_code == 200
            )
            assert call("PUT", f"{s}/c//a", json={"data": {"v": values[7]}}).status_code == 400
            assert call("PUT", f"{s}/c/b", json={"data": {"v": values[8]}}).status_code == 200
            assert call("PUT", f"{s}/c/b", json={"data": {"v": values[6]}}).status_code == 200
            key = call(
                "POST", "/api/v1/namespaces/secret/datakey", json={"context": {"purpose": "t"}}
            ).json()
            dek = base64.b64decode(key["plaintext"]).hex()
            policy = {"policy": 'path "secret/*" { capabilities = ["read"] }'}
            assert call("PUT", "/api/v1/sys/policies/acl/w", json=policy).status_code == 204
            worker = call("POST", "/api/v1/auth/token/create", json={"policies": ["w"]}).json()[
                "auth"
            ]["client_token"]
            assert call("GET", f"{s}/c/a").json()["data"]["password"] == values[0]
    finally:
        server.stop()
    # Responses that legitimately return a value are the reads and the data-key call: drop them.
    error_bodies = {f"response-{i}": body for i, body in enumerate(responses) if b'"error"' in body}
    artifacts = {
        **read_tree(tmp_path / "data"),
        "server.log": server.log_path.read_bytes(),
        **error_bodies,
    }
    assert any(name.endswith("-wal") or name.endswith(".db") for name in artifacts)
    # The access log is really on (issue 9, finding 29: it wrote nothing, so this tested nothing).
    assert b'"PUT /api/v1/secrets/secret/c/a HTTP/1.1" 200' in artifacts["server.log"]
    hits = find_canaries(artifacts, [*values, worker, dek])
    assert hits == []
    # The root token is kept only wrapped, and printed to the server's own terminal (the log here).
    assert find_canaries({k: v for k, v in artifacts.items() if k != "server.log"}, [token]) == []


def test_the_scanner_finds_what_it_should() -> None:
    canary = _canary("self-test")
    blob = b"prefix " + base64.b64encode(b"xy" + canary.encode() + b"z") + b" suffix"
    assert find_canaries({"blob": blob}, [canary])
    assert all(find_canaries({"b": form}, [canary]) for form in encodings(canary).values())
