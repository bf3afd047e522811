"""A JWT role's ``groups_claim`` and external groups, through hvac against strongroom and a real
OpenBao side by side: a login whose groups claim names a group alias gets that external group's
policies and those of the internal group above it, a login without it does not, a claim that
is one string counts as one group, a missing or malformed claim fails the login, and a change to
the group's policies reaches the tokens already issued."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import hvac
import hvac.exceptions
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.helpers import OpenBaoServer, StrongroomServer

ROOT = "jwt-groups-root"
ISSUER = "https://issuer.example"
AUDIENCE = "strongroom-tests"
MOUNT = "jwt-groups"
_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_PEM = (
    _KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    running = StrongroomServer(tmp_path_factory.mktemp("jwt-groups") / "data", ROOT).start()
    try:
        yield running
    finally:
        running.stop()


def _token(**claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "ci-runner", "iat": now, "exp": now + 300}
    return jwt.encode({**body, **claims}, _KEY, algorithm="RS256")


def _outcome(action: Callable[[], Any]) -> str:
    try:
        action()
    except hvac.exceptions.VaultError as exc:
        return type(exc).__name__
    return "ok"


def _set_up(root: hvac.Client) -> str:
    """The mount, its role, two policies and secrets, an external group with its alias and an
    internal group above it; the external group's id."""
    if f"{MOUNT}/" not in root.sys.list_auth_methods()["data"]:
        root.sys.enable_auth_method("jwt", path=MOUNT)
    root.write(f"auth/{MOUNT}/config", jwt_validation_pubkeys=[_PEM], bound_issuer=ISSUER)
    root.write(
        f"auth/{MOUNT}/role/ci",
        role_type="jwt",
        bound_audiences=[AUDIENCE],
        user_claim="sub",
        groups_claim="groups",
        token_policies=["default"],
    )
    for area in ("team", "org"):
        root.sys.create_or_update_acl_policy(
            f"{area}-read", f'path "secret/data/{area}/*" {{ capabilities = ["read"] }}'
        )
        root.secrets.kv.v2.create_or_update_secret(f"{area}/db", {"password": "s3cret"})
    identity = root.secrets.identity
    external = identity.create_or_update_group(
        name="platform", group_type="external", policies=["team-read"]
    )["data"]["id"]
    accessor = root.sys.list_auth_methods()["data"][f"{MOUNT}/"]["accessor"]
    identity.create_or_update_group_alias(
        name="platform-admins", mount_accessor=accessor, canonical_id=external
    )
    identity.create_or_update_group(name="org", policies=["org-read"], member_group_ids=[external])
    return str(external)


def _login(root: hvac.Client, groups: Any) -> hvac.Client:
    client = hvac.Client(url=root.url)
    claims = {} if groups is None else {"groups": groups}
    client.auth.jwt.jwt_login("ci", _token(**claims), path=MOUNT)
    return client


def _reads(client: hvac.Client) -> str:
    team = _outcome(lambda: client.secrets.kv.v2.read_secret_version("team/db"))
    org = _outcome(lambda: client.secrets.kv.v2.read_secret_version("org/db"))
    return f"team {team}, org {org}"


def _journey(root: hvac.Client) -> list[str]:
    external = _set_up(root)
    member = _login(root, ["platform-admins", "someone-else"])
    seen = [_reads(member)]
    seen.append(_reads(_login(root, ["someone-else"])))
    seen.append(_reads(_login(root, "platform-admins")))  # one string: one group
    seen.append(_outcome(lambda: _login(root, None)))  # no groups claim
    seen.append(_outcome(lambda: _login(root, [1, 2])))
    root.secrets.identity.update_group(
        external, name="platform", group_type="external", policies=[]
    )
    seen.append(_reads(member))  # the token issued before the change
    for name in ("org", "platform"):
        root.secrets.identity.delete_group_by_name(name)
    root.sys.disable_auth_method(MOUNT)
    return seen


def test_a_groups_claim_gives_external_groups_policies_as_on_openbao(
    server: StrongroomServer, openbao: OpenBaoServer
) -> None:
    seen = {
        side: _journey(root)
        for side, root in (
            ("strongroom", hvac.Client(url=server.addr, token=ROOT)),
            ("openbao", hvac.Client(url=openbao.addr, token=openbao.root_token)),
        )
    }
    assert seen["strongroom"] == seen["openbao"]
    assert seen["strongroom"] == [
        "team ok, org ok",
        "team Forbidden, org Forbidden",
        "team ok, org ok",
        "InvalidRequest",
        "InvalidRequest",
        "team Forbidden, org ok",
    ]
