"""The Kubernetes auth method on a real server, logged into with hvac as a pod would (issue 21,
3). The cluster is a stand-in on 127.0.0.1 serving what a Kubernetes API server serves for this:
its OIDC discovery document and JWKS, and the TokenReview API (checking the reviewer's bearer
token, and knowing tokens it has revoked). Service account tokens carry the claims Kubernetes
puts in projected tokens, or those of the older secret-based tokens."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import hvac
import hvac.exceptions
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.helpers import StrongroomServer

ROOT = "k8s-root"
REVIEWER = "reviewer-token-canary-31a"
AUDIENCE = "strongroom"


class Cluster:
    """The parts of a Kubernetes API server the method talks to."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.kid = "sa-key-1"
        self.revoked: set[str] = set()
        self.reviews = 0
        cluster = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/.well-known/openid-configuration":
                    self._json(
                        200, {"issuer": cluster.url, "jwks_uri": f"{cluster.url}/openid/v1/jwks"}
                    )
                elif self.path == "/openid/v1/jwks":
                    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(cluster.key.public_key()))
                    self._json(
                        200, {"keys": [{**jwk, "kid": cluster.kid, "use": "sig", "alg": "ES256"}]}
                    )
                else:
                    self._json(404, {})

            def do_POST(self) -> None:
                if self.path != "/apis/authentication.k8s.io/v1/tokenreviews":
                    self._json(404, {})
                    return
                if self.headers.get("Authorization") != f"Bearer {REVIEWER}":
                    self._json(401, {"kind": "Status", "code": 401})
                    return
                cluster.reviews += 1
                review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                self._json(201, {**review, "status": cluster.review(review["spec"])})

            def _json(self, status: int, doc: dict[str, Any]) -> None:
                body = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def review(self, spec: dict[str, Any]) -> dict[str, Any]:
        token = spec["token"]
        try:
            claims = jwt.decode(
                token, self.key.public_key(), algorithms=["ES256"], options={"verify_aud": False}
            )
        except jwt.InvalidTokenError:
            return {"authenticated": False, "error": "invalid token"}
        if token in self.revoked:
            return {"authenticated": False, "error": "token has been invalidated"}
        wanted = spec.get("audiences") or []
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if wanted and not set(wanted) & set(audiences):
            return {"authenticated": False, "error": "audience mismatch"}
        sa = claims["kubernetes.io"]
        name = f"system:serviceaccount:{sa['namespace']}:{sa['serviceaccount']['name']}"
        return {
            "authenticated": True,
            "user": {"username": name, "uid": sa["serviceaccount"]["uid"]},
            "audiences": wanted or audiences,
        }

    def token(self, name: str = "app", namespace: str = "shop", **override: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": [AUDIENCE],
            "sub": f"system:serviceaccount:{namespace}:{name}",
            "iat": now,
            "nbf": now,
            "exp": now + 600,
            "kubernetes.io": {
                "namespace": namespace,
                "pod": {"name": f"{name}-7d9f", "uid": "pod-uid-1"},
                "serviceaccount": {"name": name, "uid": f"uid-{namespace}-{name}"},
            },
            **override,
        }
        return jwt.encode(claims, self.key, algorithm="ES256", headers={"kid": self.kid})

    def legacy_token(self, name: str, namespace: str) -> str:
        prefix = "kubernetes.io/serviceaccount/"
        claims = {
            "iss": "kubernetes/serviceaccount",
            "sub": f"system:serviceaccount:{namespace}:{name}",
            prefix + "namespace": namespace,
            prefix + "secret.name": f"{name}-token-abcde",
            prefix + "service-account.name": name,
            prefix + "service-account.uid": f"uid-{namespace}-{name}",
        }
        return jwt.encode(claims, self.key, algorithm="ES256", headers={"kid": self.kid})

    def public_pem(self) -> str:
        return (
            self.key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    running = Cluster()
    try:
        yield running
    finally:
        running.server.shutdown()
        running.server.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    running = StrongroomServer(
        tmp_path_factory.mktemp("k8s") / "data", ROOT, extra=["--egress-allow", "127.0.0.1/32"]
    ).start()
    try:
        root = hvac.Client(url=running.addr, token=ROOT)
        root.sys.create_or_update_acl_policy(
            "shop", 'path "secret/data/shop/*" { capabilities = ["read"] }'
        )
        yield running
    finally:
        running.stop()


def _mount(server: StrongroomServer, path: str, config: dict[str, Any]) -> hvac.Client:
    root = hvac.Client(url=server.addr, token=ROOT)
    root.sys.enable_auth_method("kubernetes", path=path)
    root.write(f"auth/{path}/config", **config)
    root.write(
        f"auth/{path}/role/shop",
        bound_service_account_names=["app", "worker-*"],
        bound_service_account_namespaces=["shop"],
        audience=AUDIENCE,
        token_policies=["shop"],
        token_ttl="10m",
    )
    return root


def _login(server: StrongroomServer, token: str, mount: str, role: str = "shop") -> dict[str, Any]:
    client = hvac.Client(url=server.addr)
    answer: dict[str, Any] = client.auth.kubernetes.login(role, token, mount_point=mount)
    return answer


def _refused(server: StrongroomServer, token: str, mount: str, role: str = "shop") -> None:
    with pytest.raises((hvac.exceptions.Forbidden, hvac.exceptions.InvalidRequest)):
        _login(server, token, mount, role)


def test_login_through_the_clusters_jwks(server: StrongroomServer, cluster: Cluster) -> None:
    _mount(server, "kubernetes", {"kubernetes_host": cluster.url})
    answer = _login(server, cluster.token(), "kubernetes")
    auth = answer["auth"]
    assert "shop" in auth["policies"]
    assert auth["metadata"]["service_account_name"] == "app"
    assert auth["metadata"]["service_account_namespace"] == "shop"
    assert auth["lease_duration"] == 600
    assert _login(server, cluster.token(name="worker-7"), "kubernetes")["auth"]
    assert cluster.reviews == 0  # no TokenReview in this mode

    _refused(server, cluster.token(namespace="other"), "kubernetes")  # namespace not bound
    _refused(server, cluster.token(name="admin"), "kubernetes")  # name not bound
    _refused(server, cluster.token(aud=["someone-else"]), "kubernetes")  # audience
    _refused(server, cluster.token(exp=int(time.time()) - 3600), "kubernetes")  # expired
    _refused(server, cluster.token(), "kubernetes", role="no-such-role")
    forged = jwt.encode(
        {
            "kubernetes.io": {"namespace": "shop", "serviceaccount": {"name": "app", "uid": "x"}},
            "aud": [AUDIENCE],
            "exp": int(time.time()) + 60,
        },
        ec.generate_private_key(ec.SECP256R1()),
        algorithm="ES256",
        headers={"kid": cluster.kid},
    )
    _refused(server, forged, "kubernetes")
    claims = {"kubernetes.io": {"namespace": "shop", "serviceaccount": {"name": "app"}}}
    unsigned = jwt.encode(claims, "", algorithm="none")
    _refused(server, unsigned, "kubernetes")


def test_token_review_knows_revoked_tokens(server: StrongroomServer, cluster: Cluster) -> None:
    _mount(server, "k8s-review", {"kubernetes_host": cluster.url, "token_reviewer_jwt": REVIEWER})
    token = cluster.token()
    before = cluster.reviews
    assert (
        _login(server, token, "k8s-review")["auth"]["metadata"]["service_account_uid"]
        == "uid-shop-app"
    )
    assert cluster.reviews == before + 1
    cluster.revoked.add(token)
    _refused(server, token, "k8s-review")  # signed and unexpired, but the cluster says no
    _refused(server, cluster.token(namespace="other"), "k8s-review")
    # The reviewer token is never given back.
    root = hvac.Client(url=server.addr, token=ROOT)
    config = root.read("auth/k8s-review/config")["data"]
    assert "token_reviewer_jwt" not in config and REVIEWER not in json.dumps(config)


def test_pem_keys_and_legacy_tokens(server: StrongroomServer, cluster: Cluster) -> None:
    _mount(
        server,
        "k8s-pem",
        {"kubernetes_host": "https://cluster.invalid", "pem_keys": [cluster.public_pem()]},
    )
    root = hvac.Client(url=server.addr, token=ROOT)
    root.write(
        "auth/k8s-pem/role/legacy",
        bound_service_account_names=["app"],
        bound_service_account_namespaces=["shop"],
        token_policies=["shop"],
    )
    assert _login(server, cluster.legacy_token("app", "shop"), "k8s-pem", role="legacy")["auth"]
    assert _login(server, cluster.token(), "k8s-pem")["auth"]


def test_roles_are_checked(server: StrongroomServer, cluster: Cluster) -> None:
    root = _mount(server, "k8s-roles", {"kubernetes_host": cluster.url})
    bad_roles: list[dict[str, Any]] = [
        {"bound_service_account_names": ["app"]},  # no namespaces
        {"bound_service_account_names": ["*"], "bound_service_account_namespaces": ["*"]},
        {
            "bound_service_account_names": ["app"],
            "bound_service_account_namespaces": ["x"],
            "alias_name_source": "nope",
        },
        {
            "bound_service_account_names": ["app"],
            "bound_service_account_namespaces": ["x"],
            "token_policies": ["root"],
            "unknown_field": 1,
        },
    ]
    for body in bad_roles:
        with pytest.raises(hvac.exceptions.InvalidRequest):
            root.write("auth/k8s-roles/role/bad", **body)
    assert root.read("auth/k8s-roles/role/bad") is None
    with pytest.raises(hvac.exceptions.InvalidRequest):
        root.write("auth/k8s-roles/config", kubernetes_host="file:///etc/passwd")


def test_a_cluster_outside_the_egress_policy_is_not_called(
    tmp_path_factory: pytest.TempPathFactory, cluster: Cluster
) -> None:
    closed = StrongroomServer(tmp_path_factory.mktemp("k8s-closed") / "data", ROOT).start()
    try:
        _mount(
            closed, "kubernetes", {"kubernetes_host": cluster.url, "token_reviewer_jwt": REVIEWER}
        )
        before = cluster.reviews
        _refused(closed, cluster.token(), "kubernetes")
        assert cluster.reviews == before
    finally:
        closed.stop()
