"""The Vault API's catalogue (server/vault/catalogue.py) against what every Vault route does:
a token with no policy is refused (403) on every route the catalogue rules, whatever it sends;
one granted exactly the route's rule on its policy path is not; what the default policy grants
needs nothing else; the routes left to their services refuse a token without a policy."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from strongroom.clock import ManualClock
from strongroom.policy.model import ACL
from strongroom.server.app import create_app
from strongroom.server.node import Node
from strongroom.server.routes import Route
from strongroom.server.vault import VAULT_ROUTES
from strongroom.server.vault.catalogue import SELF, SUDO, policy_path, rule_of
from tests.helpers import probing_settings

ROOT = "catalogue-root-token"
_SAMPLES = {
    "name": "n1",
    "id": "id1",
    "algorithm": "sha2-256",
    "bytes": "16",
    "kind": "plaintext",
    "role": "r1",
    "version": "1",
    "path:path": "a/b",
    "path": "p1",
}
# Run last, in this order: each changes what the routes after it would find.
_LAST = ("sysStepDown", "sysStepDownPut", "sysSeal", "sysSealPut")


def _mount(route: Route) -> str:
    if route.operation.startswith("transit"):
        return "transit"
    return "kv1" if route.operation.startswith("kv1") else "secret"


def _url(route: Route) -> str:
    def sample(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "mount":
            return _mount(route)
        if route.path.startswith("/v1/sys/auth/"):
            return "approle"
        if route.path.startswith("/v1/sys/mounts/"):
            return "secret"
        return _SAMPLES[name]

    return re.sub(r"\{([^}]+)\}", sample, route.path)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = probing_settings(tmp_path, ROOT)
    node = Node(settings, ManualClock())
    with TestClient(create_app(settings, node), headers={"X-Vault-Token": ROOT}) as test_client:
        for mount, kind in (("transit", {"type": "transit"}), ("kv1", {"type": "kv"})):
            assert test_client.post(f"/v1/sys/mounts/{mount}", json=kind).status_code == 204
        yield test_client
    node.close()


def _token(client: TestClient, *policies: str, default: bool = True) -> str:
    wanted = {"policies": ["default", *policies] if default else ["nothing"]}
    made = client.post("/v1/auth/token/create", json={**wanted, "no_default_policy": not default})
    assert made.status_code == 200, made.text
    token: str = made.json()["auth"]["client_token"]
    return token


def _nobody(client: TestClient) -> str:
    """A token with no policy at all (not even the default one)."""
    return _token(client, default=False)


def _ruled() -> list[Route]:
    ruled = [route for route in VAULT_ROUTES if rule_of(route) is not None]
    return sorted(ruled, key=lambda r: _LAST.index(r.operation) if r.operation in _LAST else -1)


def test_every_name_in_the_catalogue_is_a_route() -> None:
    operations = {route.operation for route in VAULT_ROUTES}
    assert operations >= SUDO, SUDO - operations
    assert operations >= SELF, SELF - operations
    assert not {route.operation for route in VAULT_ROUTES if route.public} & (SUDO | SELF)


def test_without_the_rule_every_ruled_route_is_refused_whatever_the_body(
    client: TestClient,
) -> None:
    answered = {}
    for route in _ruled():
        if route.operation in _LAST:
            continue
        for body in ({}, {"data": {"k": "v"}, "token": ROOT, "type": "kv", "policy": "x"}):
            response = client.request(
                route.method, _url(route), json=body, headers={"X-Vault-Token": _nobody(client)}
            )
            if response.status_code != 403:
                answered[(route.operation, json.dumps(body))] = response.status_code
    assert not answered, answered


def test_with_exactly_the_rule_no_route_is_refused(client: TestClient) -> None:
    tokens = []  # every token made first: the last routes seal the server
    for number, route in enumerate(_ruled()):
        rule = rule_of(route)
        assert rule is not None
        url = _url(route)
        granted = json.dumps([*rule.capabilities, *(["sudo"] if rule.sudo else [])])
        policy = f'path "{policy_path(route.method, url)}" {{ capabilities = {granted} }}'
        written = client.put(f"/v1/sys/policies/acl/rule{number}", json={"policy": policy})
        assert written.status_code == 204, written.text
        tokens.append((route, url, _token(client, f"rule{number}")))
    refused = [
        (route.operation, route.method, url)
        for route, url, token in tokens
        if client.request(route.method, url, json={}, headers={"X-Vault-Token": token}).status_code
        == 403
    ]
    assert not refused, refused


def test_what_the_default_policy_grants_needs_nothing_else(client: TestClient) -> None:
    granted = SELF - {"sysPreflight", "sysMountsAll"}
    granted |= {"sysWrap", "sysWrapPut", "sysCapabilitiesSelf", "sysCapabilitiesSelfPut"}
    granted |= {"sysToolsHash", "sysToolsHashPut", "sysToolsHashAlgorithm"}
    refused = []
    for route in VAULT_ROUTES:
        if route.operation in granted:
            token = _token(client)
            response = client.request(
                route.method, _url(route), json={}, headers={"X-Vault-Token": token}
            )
            if response.status_code == 403:
                refused.append(route.operation)
    assert not refused, refused


def test_the_routes_left_to_their_services_refuse_a_token_without_a_policy(
    client: TestClient,
) -> None:
    answered = {}
    for route in VAULT_ROUTES:
        if route.operation in SELF:
            response = client.request(
                route.method, _url(route), json={}, headers={"X-Vault-Token": _nobody(client)}
            )
            answered[route.operation] = response.status_code
    # Vault's 400s: the preflight's ("preflight capability check returned 403"), and an unwrap
    # or rewrap naming no token, whose own token is then the wrapping token ("wrapping token is
    # not valid or does not exist")
    vaults_400 = {"sysPreflight", "sysMountsAll", "sysUnwrap", "sysUnwrapPut", "sysRewrap"}
    vaults_400.add("sysRewrapPut")
    assert {op for op, status in answered.items() if status != 403} == vaults_400
    assert {answered[op] for op in vaults_400} == {400}


def test_a_listing_is_checked_on_the_folder_and_then_on_the_path_itself() -> None:
    folder = ACL({"auth/approle/role/": frozenset({"list"})})
    bare = ACL({"auth/approle/role": frozenset({"list"})})
    glob = ACL({"auth/approle/role*": frozenset({"list"})})
    denied = ACL({"auth/approle/role/": frozenset({"deny"}), "auth/*": frozenset({"list"})})
    for acl in (folder, bare, glob):
        assert acl.allows("list", "auth/approle/role")
        assert acl.allows("list", "auth/approle/role/")
        assert not acl.allows("read", "auth/approle/role/")
    assert not denied.allows("list", "auth/approle/role")  # the exact rule on the folder wins
    assert ACL({"auth/*": frozenset({"list"})}).allows("list", "auth/approle/role")
