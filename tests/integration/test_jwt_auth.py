"""The JWT auth method on a real server, with tokens signed by a local issuer that serves its
JWKS and OIDC discovery document on 127.0.0.1 (issue 21, 3): GitHub-Actions-like claims log in
and get the role's policies; expired, wrong audience, wrong issuer, unbound claims, ``alg:
none``, HMAC with the public key, a key the issuer never had, and a role that does not exist all
fail alike; a key rotation is followed; the issuer's address passes the egress policy."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import hvac
import hvac.exceptions
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from strongroom.auth.jwt_keys import REFETCH_SECONDS
from tests.helpers import StrongroomServer

ROOT = "jwt-root"
AUDIENCE = "https://github.com/acme"


class Issuer:
    """An OIDC issuer on 127.0.0.1: discovery, JWKS, and keys it signs with (rotatable)."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.rotate()
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/.well-known/openid-configuration":
                    doc: dict[str, Any] = {"issuer": issuer.url, "jwks_uri": f"{issuer.url}/keys"}
                elif self.path == "/keys":
                    doc = {"keys": [issuer.jwk(kid) for kid in issuer.keys]}
                else:
                    self.send_error(404)
                    return
                body = json.dumps(doc).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def rotate(self) -> str:
        kid = f"key-{len(self.keys) + 1}"
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = kid
        return kid

    def jwk(self, kid: str) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(
            jwt.algorithms.RSAAlgorithm.to_jwk(self.keys[kid].public_key())
        )
        return {**doc, "kid": kid, "use": "sig", "alg": "RS256"}

    def token(self, **claims: Any) -> str:
        now = int(time.time())
        body = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": "repo:acme/app:ref:refs/heads/main",
            "repository": "acme/app",
            "ref": "refs/heads/main",
            "iat": now,
            "exp": now + 300,
            **claims,
        }
        return jwt.encode(
            {k: v for k, v in body.items() if v is not None},
            self.keys[self.kid],
            algorithm="RS256",
            headers={"kid": self.kid},
        )


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    running = Issuer()
    try:
        yield running
    finally:
        running.server.shutdown()
        running.server.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, issuer: Issuer) -> Iterator[StrongroomServer]:
    running = StrongroomServer(
        tmp_path_factory.mktemp("jwt") / "data", ROOT, extra=["--egress-allow", "127.0.0.1/32"]
    ).start()
    try:
        root = hvac.Client(url=running.addr, token=ROOT)
        root.sys.enable_auth_method("jwt")
        root.write("auth/jwt/config", oidc_discovery_url=issuer.url, bound_issuer=issuer.url)
        root.sys.create_or_update_acl_policy(
            "deploy", 'path "secret/data/deploy/*" { capabilities = ["read"] }'
        )
        root.write(
            "auth/jwt/role/deploy",
            role_type="jwt",
            bound_audiences=[AUDIENCE],
            user_claim="repository",
            bound_claims={"repository": "acme/app", "ref": ["refs/heads/main"]},
            claim_mappings={"ref": "git_ref"},
            token_policies=["deploy"],
            token_ttl="10m",
        )
        root.secrets.kv.v2.create_or_update_secret("deploy/db", secret={"pw": "jwt-canary"})
        yield running
    finally:
        running.stop()


def _login(server: StrongroomServer, token: str, role: str = "deploy") -> httpx.Response:
    return httpx.post(f"{server.addr}/v1/auth/jwt/login", json={"role": role, "jwt": token})


def test_a_workload_logs_in_with_its_platform_token(
    server: StrongroomServer, issuer: Issuer
) -> None:
    answer = _login(server, issuer.token())
    assert answer.status_code == 200, answer.text
    auth = answer.json()["auth"]
    assert "deploy" in auth["policies"] and auth["metadata"]["git_ref"] == "refs/heads/main"
    client = hvac.Client(url=server.addr, token=auth["client_token"])
    read = client.secrets.kv.v2.read_secret_version("deploy/db", raise_on_deleted_version=True)
    assert read["data"]["data"] == {"pw": "jwt-canary"}
    with pytest.raises(hvac.exceptions.Forbidden):
        client.secrets.kv.v2.create_or_update_secret("deploy/db", secret={"pw": "x"})
    native = httpx.post(
        f"{server.addr}/api/v1/auth/jwt/login", json={"role": "deploy", "jwt": issuer.token()}
    )
    assert native.status_code == 200
    assert "jwt/" in hvac.Client(url=server.addr, token=ROOT).sys.list_auth_methods()["data"]


def _forged(issuer: Issuer, how: str) -> str:
    now = int(time.time())
    if how == "expired":
        return issuer.token(iat=now - 3600, exp=now - 600)
    if how == "audience":
        return issuer.token(aud="https://github.com/other")
    if how == "issuer":
        return issuer.token(iss="https://evil.example.invalid")
    if how == "claim":
        return issuer.token(repository="acme/other")
    if how == "branch":
        return issuer.token(ref="refs/heads/feature")
    if how == "no-exp":
        return issuer.token(exp=None)
    if how == "none":
        payload = {"iss": issuer.url, "aud": AUDIENCE, "repository": "acme/app", "exp": now + 60}
        return jwt.encode(payload, "", algorithm="none")
    if how == "hmac-public-key":
        public = (
            issuer.keys[issuer.kid]
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        header = {"alg": "HS256", "kid": issuer.kid}
        body = {
            "iss": issuer.url,
            "aud": AUDIENCE,
            "repository": "acme/app",
            "ref": "refs/heads/main",
            "exp": now + 60,
        }
        import base64
        import hashlib
        import hmac

        def part(doc: dict[str, Any]) -> str:
            raw = json.dumps(doc, separators=(",", ":")).encode()
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

        signing = f"{part(header)}.{part(body)}"
        mac = hmac.new(public, signing.encode(), hashlib.sha256).digest()
        return f"{signing}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    if how == "stranger-key":
        stranger = ec.generate_private_key(ec.SECP256R1())
        payload = {"iss": issuer.url, "aud": AUDIENCE, "repository": "acme/app", "exp": now + 60}
        return jwt.encode(payload, stranger, algorithm="ES256", headers={"kid": issuer.kid})
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how",
    [
        "expired",
        "audience",
        "issuer",
        "claim",
        "branch",
        "no-exp",
        "none",
        "hmac-public-key",
        "stranger-key",
        "garbage",
    ],
)
def test_a_forged_or_unbound_token_is_refused_alike(
    server: StrongroomServer, issuer: Issuer, how: str
) -> None:
    token = "not.a.jwt" if how == "garbage" else _forged(issuer, how)
    answer = _login(server, token)
    assert answer.status_code == 400, answer.text
    assert answer.json()["errors"] == ["error validating token: the JWT is not valid for this role"]
    assert _login(server, issuer.token(), role="no-such-role").json() == answer.json()


def test_the_issuers_key_rotation_is_followed(server: StrongroomServer, issuer: Issuer) -> None:
    before = issuer.kid
    issuer.rotate()
    assert issuer.kid != before
    time.sleep(REFETCH_SECONDS)  # unknown key ids fetch the JWKS again, at most this often
    assert _login(server, issuer.token()).status_code == 200


def test_roles_must_bind_something_and_the_method_can_be_disabled(
    server: StrongroomServer, issuer: Issuer
) -> None:
    root = hvac.Client(url=server.addr, token=ROOT)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="binds at least one"):
        root.write("auth/jwt/role/open", role_type="jwt", token_policies=["deploy"])
    issued = _login(server, issuer.token()).json()["auth"]["client_token"]
    root.sys.disable_auth_method("jwt")
    lookup = httpx.get(
        f"{server.addr}/v1/auth/token/lookup-self", headers={"X-Vault-Token": issued}
    )
    assert lookup.status_code == 403  # its tokens went with it
    assert _login(server, issuer.token()).status_code in (400, 404)
