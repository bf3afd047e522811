"""A stand-in for the parts of a Kubernetes API server that strongroom's Kubernetes auth method
talks to: its OIDC discovery document and JWKS, and the TokenReview API (checking the reviewer's
bearer token, and knowing tokens it has revoked). No real cluster is reachable from the test
machines; its tokens carry the claims Kubernetes puts in projected tokens, or those of the older
secret-based ones."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["AUDIENCE", "REVIEWER", "Cluster"]

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
