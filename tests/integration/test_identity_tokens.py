"""Identity tokens (Vault's ``identity/oidc``; issue 23, 7: hvac's JWT suite logs in with them),
through hvac against strongroom and a real OpenBao: the same calls, the same outcomes, tokens
that verify against the published keys with PyJWT, rotation keeping old tokens verifiable, the
refusals in Vault's words, rights checked before anything is looked up, the public endpoints
public, and no private key or issued token on disk or in the audit log in clear."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import hvac
import hvac.exceptions
import jwt
import pytest

from tests.canary import find_canaries, read_tree
from tests.helpers import OpenBaoServer, StrongroomServer

ROOT = "identity-root"
APPROLE = "id-approle"
ISSUER = "https://vault.example:8200"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    running = StrongroomServer(tmp_path_factory.mktemp("identity") / "data", ROOT).start()
    try:
        yield running
    finally:
        running.stop()


def _setup(root: hvac.Client) -> hvac.Client:
    """An issuer, a key, a role, and a client logged in through AppRole (it has an entity)."""
    if f"{APPROLE}/" not in root.sys.list_auth_methods()["data"]:
        root.sys.enable_auth_method("approle", path=APPROLE)
    root.sys.create_or_update_acl_policy(
        "id-user", 'path "identity/oidc/token/*" { capabilities = ["read"] }'
    )
    root.auth.approle.create_or_update_approle(
        "workload", token_policies=["id-user"], mount_point=APPROLE
    )
    role_id = root.auth.approle.read_role_id("workload", mount_point=APPROLE)["data"]["role_id"]
    secret = root.auth.approle.generate_secret_id("workload", mount_point=APPROLE)
    identity = root.secrets.identity
    identity.configure_tokens_backend(issuer=ISSUER)
    identity.create_named_key("signer", allowed_client_ids=["*"], verification_ttl="2h")
    identity.create_or_update_role("ci", key="signer", ttl="1h")
    workload = hvac.Client(url=root.url)
    workload.auth.approle.login(role_id, secret["data"]["secret_id"], mount_point=APPROLE)
    return workload


@pytest.fixture(scope="module")
def pair(server: StrongroomServer, openbao: OpenBaoServer) -> dict[str, tuple[hvac.Client, ...]]:
    ours = hvac.Client(url=server.addr, token=ROOT)
    bao = hvac.Client(url=openbao.addr, token=openbao.root_token)
    return {"strongroom": (ours, _setup(ours)), "openbao": (bao, _setup(bao))}


def _verified(client: hvac.Client, token: str, audience: str) -> dict[str, Any]:
    """The token's claims, verified with the server's published keys as any verifier would."""
    jwks = httpx.get(f"{client.url}/v1/identity/oidc/.well-known/keys").json()
    kid = jwt.get_unverified_header(token)["kid"]
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == kid]
    key = jwt.PyJWK.from_dict(jwk)
    claims: dict[str, Any] = jwt.decode(token, key, algorithms=["RS256"], audience=audience)
    return claims


def test_a_workload_gets_a_token_any_verifier_can_check(
    pair: dict[str, tuple[hvac.Client, ...]],
) -> None:
    seen = {}
    for side, (root, workload) in pair.items():
        made = workload.secrets.identity.generate_signed_id_token("ci")["data"]
        client_id = root.secrets.identity.read_role("ci")["data"]["client_id"]
        assert made["client_id"] == client_id and made["ttl"] == 3600
        claims = _verified(root, made["token"], client_id)
        entity = workload.lookup_token()["data"]["entity_id"]
        assert entity and claims["sub"] == entity, side
        assert claims["iss"] == f"{ISSUER}/v1/identity/oidc" and claims["namespace"] == "root"
        assert claims["exp"] - claims["iat"] == 3600
        discovery = httpx.get(f"{root.url}/v1/identity/oidc/.well-known/openid-configuration")
        seen[side] = sorted(discovery.json())
        assert discovery.json()["jwks_uri"] == f"{ISSUER}/v1/identity/oidc/.well-known/keys"
        introspect = root.secrets.identity.introspect_signed_id_token
        assert introspect(made["token"], client_id=client_id)["active"] is True
        assert introspect(made["token"], client_id="someone-else")["active"] is False
        # the same login identity keeps its entity id
        again = workload.secrets.identity.generate_signed_id_token("ci")["data"]["token"]
        assert _verified(root, again, client_id)["sub"] == entity
    assert set(seen["strongroom"]) <= set(seen["openbao"])


def _error(call: Any) -> tuple[str, str]:
    try:
        call()
    except hvac.exceptions.VaultError as exc:
        return type(exc).__name__, exc.errors[0] if exc.errors else ""
    return "success", ""


def test_refusals_in_vaults_words(pair: dict[str, tuple[hvac.Client, ...]]) -> None:
    outcomes: dict[str, list[tuple[str, str]]] = {}
    for side, (root, _) in pair.items():
        identity = root.secrets.identity
        identity.create_named_key("narrow", allowed_client_ids=["nobody"])
        identity.create_or_update_role("narrow-role", key="narrow")
        outcomes[side] = [
            _error(lambda i=identity: i.generate_signed_id_token("ci")),  # root: no entity
            _error(lambda i=identity: i.delete_named_key("signer")),  # in use
            _error(lambda i=identity: i.create_or_update_role("x", key="no-such-key")),
            _error(lambda i=identity: i.create_or_update_role("x", key="signer", ttl="3h")),
            _error(lambda i=identity: i.create_named_key("bad", algorithm="HS256")),
        ]
        _, workload = pair[side]
        outcomes[side].append(
            _error(lambda w=workload: w.secrets.identity.generate_signed_id_token("narrow-role"))
        )
    for ours, theirs in zip(outcomes["strongroom"], outcomes["openbao"], strict=True):
        assert ours[0] == theirs[0] == "InvalidRequest", (ours, theirs)
    words = [ours[1] for ours in outcomes["strongroom"]]
    assert "no entity associated with the request's token" in words[0]
    assert "referenced by these roles: ci" in words[1]
    assert 'key "no-such-key" does not exist' in words[2]
    assert "does not list the client ID" in words[5]


def test_rotation_keeps_old_tokens_verifiable(pair: dict[str, tuple[hvac.Client, ...]]) -> None:
    root, workload = pair["strongroom"]
    client_id = root.secrets.identity.read_role("ci")["data"]["client_id"]
    before = workload.secrets.identity.generate_signed_id_token("ci")["data"]["token"]
    # hvac's rotate_named_key posts to the key itself (an update), so the path is written here
    root.write_data("identity/oidc/key/signer/rotate", data={"verification_ttl": "1h"})
    after = workload.secrets.identity.generate_signed_id_token("ci")["data"]["token"]
    assert jwt.get_unverified_header(before)["kid"] != jwt.get_unverified_header(after)["kid"]
    assert _verified(root, before, client_id)["sub"] == _verified(root, after, client_id)["sub"]


def test_rights_first_and_the_published_keys_public(server: StrongroomServer) -> None:
    stranger = hvac.Client(url=server.addr, token=ROOT).auth.token.create(policies=["default"])
    client = hvac.Client(url=server.addr, token=stranger["auth"]["client_token"])
    identity = client.secrets.identity
    calls: list[Callable[[], object]] = [
        lambda: identity.generate_signed_id_token("no-such-role"),
        lambda: identity.read_named_key("no-such-key"),
        lambda: identity.configure_tokens_backend(issuer="https://evil.example"),
        lambda: identity.create_named_key("mine"),
    ]
    for call in calls:
        with pytest.raises(hvac.exceptions.Forbidden):
            call()
    for path in ("openid-configuration", "keys"):
        assert httpx.get(f"{server.addr}/v1/identity/oidc/.well-known/{path}").status_code == 200
    with pytest.raises(hvac.exceptions.InvalidRequest):
        hvac.Client(url=server.addr, token=ROOT).sys.enable_secrets_engine("kv", path="identity")


def test_no_private_key_or_token_in_clear_on_disk(
    server: StrongroomServer, pair: dict[str, tuple[hvac.Client, ...]]
) -> None:
    _, workload = pair["strongroom"]
    token = workload.secrets.identity.generate_signed_id_token("ci")["data"]["token"]
    signature = token.rsplit(".", 1)[1]
    found = find_canaries(read_tree(server.data_dir), ["PRIVATE KEY", signature])
    assert not found, found
