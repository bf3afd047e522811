"""Who can grant what, on a real server, with OpenBao as the referee where Vault has the rule
(issue 20, 3, 4, 7 and 8): a limited-use token makes no children; what an auth method, role or
user issued dies with it; names the server gives a meaning to cannot be written or given; an
AWS access key carries only policies its maker holds, under a name no other key has."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import hvac
import hvac.exceptions
import pytest

from tests.helpers import OpenBaoServer, StrongroomServer

ROOT = "grants-root"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    running = StrongroomServer(tmp_path_factory.mktemp("grants") / "data", ROOT).start()
    try:
        yield running
    finally:
        running.stop()


def _both(server: StrongroomServer, openbao: OpenBaoServer) -> list[hvac.Client]:
    return [
        hvac.Client(url=server.addr, token=ROOT),
        hvac.Client(url=openbao.addr, token=openbao.root_token),
    ]


def test_a_limited_use_token_makes_no_children_as_on_openbao(
    server: StrongroomServer, openbao: OpenBaoServer
) -> None:
    answers = []
    for root in _both(server, openbao):
        root.sys.create_or_update_acl_policy(
            "child-maker", 'path "auth/token/*" { capabilities = ["create", "update", "sudo"] }'
        )
        limited = root.auth.token.create(policies=["child-maker"], num_uses=5, ttl="10m")
        client = hvac.Client(url=root.url, token=limited["auth"]["client_token"])
        for kind in ({}, {"no_parent": True}):
            with pytest.raises(hvac.exceptions.InvalidRequest) as refused:
                client.auth.token.create(policies=["child-maker"], **kind)
            answers.append(str(refused.value).split(",")[0])
    assert answers[0] == answers[2]
    assert "restricted use token cannot generate child tokens" in answers[0]
    assert answers[1] == answers[3]


def _approle_login(client: hvac.Client, role: str) -> str:
    role_id = client.auth.approle.read_role_id(role)["data"]["role_id"]
    secret_id = client.auth.approle.generate_secret_id(role)["data"]["secret_id"]
    login = client.auth.approle.login(role_id, secret_id, use_token=False)
    return str(login["auth"]["client_token"])


def _valid(url: str, token: str) -> bool:
    answer = httpx.get(f"{url}/v1/auth/token/lookup-self", headers={"X-Vault-Token": token})
    return answer.status_code == 200


def test_deleting_a_role_or_user_revokes_the_tokens_it_issued(server: StrongroomServer) -> None:
    root = hvac.Client(url=server.addr, token=ROOT)
    root.sys.create_or_update_acl_policy(
        "makes-children", 'path "auth/token/create" { capabilities = ["update"] }'
    )
    root.auth.approle.create_or_update_approle("doomed", token_policies=["makes-children"])
    root.auth.approle.create_or_update_approle("kept", token_policies=["default"])
    doomed, kept = _approle_login(root, "doomed"), _approle_login(root, "kept")
    child = hvac.Client(url=server.addr, token=doomed).auth.token.create(ttl="5m")
    root.auth.userpass.create_or_update_user("Gone", password="pw-gone-1234")
    root.auth.userpass.create_or_update_user("stays", password="pw-stays-1234")
    gone = hvac.Client(url=server.addr).auth.userpass.login("gone", "pw-gone-1234")
    stays = hvac.Client(url=server.addr).auth.userpass.login("stays", "pw-stays-1234")
    tokens = [doomed, child["auth"]["client_token"], gone["auth"]["client_token"]]
    assert all(_valid(server.addr, t) for t in tokens)

    root.auth.approle.delete_role("doomed")
    root.auth.userpass.delete_user("GONE")
    assert not any(_valid(server.addr, t) for t in tokens)
    assert _valid(server.addr, kept) and _valid(server.addr, stays["auth"]["client_token"])


def test_disabling_an_auth_method_revokes_its_tokens(server: StrongroomServer) -> None:
    root = hvac.Client(url=server.addr, token=ROOT)
    root.auth.approle.create_or_update_approle("short-lived", token_policies=["default"])
    issued = _approle_login(root, "short-lived")
    root.auth.userpass.create_or_update_user("survivor", password="pw-survivor-1")
    person = hvac.Client(url=server.addr).auth.userpass.login("survivor", "pw-survivor-1")
    root.sys.disable_auth_method("approle")
    assert not _valid(server.addr, issued)
    assert _valid(server.addr, person["auth"]["client_token"])
    assert _valid(server.addr, ROOT)


@pytest.mark.parametrize("name", ["response-wrapping", "root"])
def test_names_the_server_gives_a_meaning_cannot_be_written_or_given(
    server: StrongroomServer, openbao: OpenBaoServer, name: str
) -> None:
    for client in _both(server, openbao):
        with pytest.raises(hvac.exceptions.InvalidRequest):
            client.sys.create_or_update_acl_policy(name, 'path "*" { capabilities = ["sudo"] }')
    root = hvac.Client(url=server.addr, token=ROOT)
    if name == "root":
        return
    with pytest.raises(hvac.exceptions.InvalidRequest, match="reserved"):
        root.auth.token.create(policies=[name], no_default_policy=True)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="reserved"):
        root.auth.approle.create_or_update_approle("r-" + name, token_policies=[name])
    with pytest.raises(hvac.exceptions.InvalidRequest, match="reserved"):
        root.auth.userpass.create_or_update_user("u-" + name, password="pw-123456", policies=[name])
    made = httpx.post(
        f"{server.addr}/api/v1/sys/aws/credentials",
        headers={"Authorization": f"Bearer {ROOT}"},
        json={"policies": [name]},
    )
    assert made.status_code == 400 and "reserved" in made.text


def _mint(
    server: StrongroomServer, token: str, policies: list[str], name: str = ""
) -> httpx.Response:
    return httpx.post(
        f"{server.addr}/api/v1/sys/aws/credentials",
        headers={"Authorization": f"Bearer {token}"},
        json={"policies": policies, "display_name": name},
    )


def test_an_access_key_carries_only_policies_its_maker_holds(server: StrongroomServer) -> None:
    root = hvac.Client(url=server.addr, token=ROOT)
    root.sys.create_or_update_acl_policy(
        "key-minter", 'path "sys/aws/credentials" { capabilities = ["sudo", "create", "update"] }'
    )
    root.sys.create_or_update_acl_policy(
        "reader", 'path "secret/data/*" { capabilities = ["read"] }'
    )
    minter = root.auth.token.create(policies=["key-minter", "reader"], ttl="10m")
    token = minter["auth"]["client_token"]
    for policies in (
        ["root"],
        ["reader", "key-minter", "admin-ish"],
        ["default", "reader", "other"],
    ):
        root.sys.create_or_update_acl_policy("admin-ish", 'path "*" { capabilities = ["sudo"] }')
        root.sys.create_or_update_acl_policy("other", 'path "x/*" { capabilities = ["read"] }')
        refused = _mint(server, token, policies)
        assert refused.status_code == 403, refused.text
    assert _mint(server, token, ["reader"]).status_code == 200
    assert _mint(server, ROOT, ["root"]).status_code == 200


def test_an_access_keys_display_name_is_unique(server: StrongroomServer) -> None:
    name = f"alice-{secrets.token_hex(3)}"
    first = _mint(server, ROOT, ["default"], name)
    assert first.status_code == 200
    second = _mint(server, ROOT, ["default"], name)
    assert second.status_code == 409 and "pick another" in second.text
    assert _mint(server, ROOT, ["default"], name.upper()).status_code == 409  # IAM: no case
    key_id = first.json()["data"]["access_key_id"]
    revoked = httpx.delete(
        f"{server.addr}/api/v1/sys/aws/credentials/{key_id}",
        headers={"Authorization": f"Bearer {ROOT}"},
    )
    assert revoked.status_code in (200, 204), revoked.text
    assert _mint(server, ROOT, ["default"], name).status_code == 200
