"""The Kubernetes auth method on a real server, logged into with hvac as a pod would (issue 21,
3), against a stand-in cluster (tests/k8s_cluster.py): discovery, JWKS and TokenReview."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import hvac
import hvac.exceptions
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.helpers import StrongroomServer
from tests.k8s_cluster import AUDIENCE, REVIEWER, Cluster

ROOT = "k8s-root"


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
        {
            "bound_service_account_names": ["app"],
            "bound_service_account_namespaces": ["x"],
            "token_type": "batch",  # service tokens only
        },
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
