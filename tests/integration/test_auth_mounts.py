"""Auth methods at any path and more than once (issue 21, 3; issue 23, 7), through hvac and the
native API, with a real OpenBao as referee for what Vault clients see: enabling, listing,
logging in at each mount, their independence, disabling, and the refusals."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import hvac
import hvac.exceptions
import pytest

from tests.helpers import OpenBaoServer, StrongroomServer

ROOT = "mounts-root"
PASSWORD = "mount-password-canary-1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    running = StrongroomServer(tmp_path_factory.mktemp("mounts") / "data", ROOT).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def root(server: StrongroomServer) -> hvac.Client:
    return hvac.Client(url=server.addr, token=ROOT)


@pytest.fixture
def bao(openbao: OpenBaoServer) -> hvac.Client:
    return hvac.Client(url=openbao.addr, token=openbao.root_token)


_STATUS = {
    hvac.exceptions.InvalidRequest: 400,
    hvac.exceptions.Unauthorized: 401,
    hvac.exceptions.Forbidden: 403,
    hvac.exceptions.InvalidPath: 404,
    hvac.exceptions.InternalServerError: 500,
}


def _status(action: Callable[[], object]) -> int:
    """The HTTP status an hvac call ended with (hvac raises a class per status)."""
    try:
        action()
    except hvac.exceptions.VaultError as exc:
        return _STATUS.get(type(exc), 0)
    return 200


def test_a_second_approle_is_its_own(root: hvac.Client, server: StrongroomServer) -> None:
    root.sys.enable_auth_method("approle", path="approle-ci", description="CI machines")
    listed = root.sys.list_auth_methods()["data"]
    assert listed["approle-ci/"]["type"] == "approle"
    assert listed["approle-ci/"]["description"] == "CI machines"
    assert listed["approle-ci/"]["accessor"] != listed["approle/"]["accessor"]
    root.sys.create_or_update_acl_policy(
        "ci", 'path "secret/data/ci/*" { capabilities = ["read"] }'
    )
    root.auth.approle.create_or_update_approle(
        "build", token_policies=["ci"], mount_point="approle-ci"
    )
    role_id = root.auth.approle.read_role_id("build", mount_point="approle-ci")["data"]["role_id"]
    secret_id = root.auth.approle.generate_secret_id("build", mount_point="approle-ci")["data"][
        "secret_id"
    ]
    # The default mount knows nothing of it.
    assert "build" not in (root.list("auth/approle/role") or {}).get("data", {}).get("keys", [])
    with pytest.raises(hvac.exceptions.InvalidRequest):
        hvac.Client(url=server.addr).auth.approle.login(role_id, secret_id)
    login = hvac.Client(url=server.addr).auth.approle.login(
        role_id, secret_id, mount_point="approle-ci"
    )
    assert "ci" in login["auth"]["policies"]
    token = login["auth"]["client_token"]
    assert hvac.Client(url=server.addr, token=token).lookup_token()["data"]["path"] == (
        "auth/approle-ci/login"
    )
    # Its own policy paths: a token that may manage approle/ may not manage approle-ci/.
    root.sys.create_or_update_acl_policy(
        "approle-admin", 'path "auth/approle/role/*" { capabilities = ["read", "list"] }'
    )
    admin = root.auth.token.create(policies=["approle-admin"])["auth"]["client_token"]
    as_admin = hvac.Client(url=server.addr, token=admin)
    assert _status(lambda: as_admin.read("auth/approle-ci/role/build")) == 403
    # Disabling it wipes its roles and revokes the tokens it issued.
    root.sys.disable_auth_method("approle-ci")
    assert "approle-ci/" not in root.sys.list_auth_methods()["data"]
    assert _status(lambda: hvac.Client(url=server.addr, token=token).lookup_token()) == 403
    root.sys.enable_auth_method("approle", path="approle-ci")
    assert root.read("auth/approle-ci/role/build") is None  # hvac's answer to a 404
    root.sys.disable_auth_method("approle-ci")


def test_two_userpass_mounts_and_the_native_api(
    root: hvac.Client, server: StrongroomServer
) -> None:
    root.sys.enable_auth_method("userpass", path="people-b")
    root.auth.userpass.create_or_update_user("alice", PASSWORD, policies=["default"])
    root.auth.userpass.create_or_update_user(
        "alice", PASSWORD + "-b", policies=["default"], mount_point="people-b"
    )
    anon = hvac.Client(url=server.addr)
    assert anon.auth.userpass.login("alice", PASSWORD + "-b", mount_point="people-b")["auth"]
    with pytest.raises(hvac.exceptions.InvalidRequest):
        anon.auth.userpass.login("alice", PASSWORD, mount_point="people-b")
    native = httpx.post(
        f"{server.addr}/api/v1/auth/people-b/login/alice", json={"password": PASSWORD + "-b"}
    )
    assert native.status_code == 200
    assert native.json()["auth"]["metadata"]["username"] == "alice"
    users = httpx.get(
        f"{server.addr}/api/v1/auth/people-b/users", headers={"Authorization": f"Bearer {ROOT}"}
    )
    assert users.json()["keys"] == ["alice"]
    root.sys.disable_auth_method("people-b")


def test_the_audit_entry_keeps_the_path_as_sent(
    root: hvac.Client, server: StrongroomServer
) -> None:
    root.sys.enable_auth_method("userpass", path="audited-up")
    httpx.post(f"{server.addr}/v1/auth/audited-up/login/nobody", json={"password": "x"})
    log = (server.data_dir / "audit.log").read_text()
    paths = [json.loads(line).get("request", {}).get("path") for line in log.splitlines() if line]
    assert "/v1/auth/audited-up/login/nobody" in paths
    root.sys.disable_auth_method("audited-up")


def test_refusals_match_openbao(root: hvac.Client, bao: hvac.Client) -> None:
    for client in (root, bao):
        client.sys.enable_auth_method("approle", path="twice")
    cases: dict[str, Callable[[hvac.Client], object]] = {
        "the same path twice": lambda c: c.sys.enable_auth_method("approle", path="twice"),
        "an unknown type": lambda c: c.sys.enable_auth_method("no-such-type", path="x1"),
        "the token path": lambda c: c.sys.enable_auth_method("approle", path="token"),
        "disabling token": lambda c: c.sys.disable_auth_method("token"),
        "disabling what is not there": lambda c: c.sys.disable_auth_method("never-there"),
    }
    for name, case in cases.items():
        ours = _status(functools.partial(case, root))
        theirs = _status(functools.partial(case, bao))
        assert ours == theirs, f"{name}: strongroom {ours}, OpenBao {theirs}"
    for client in (root, bao):
        client.sys.disable_auth_method("twice")


def test_paths_and_types_are_checked(root: hvac.Client, server: StrongroomServer) -> None:
    for path, kind in (("jwt", "approle"), ("kubernetes", "userpass"), ("Bad/Path", "approle")):
        enable = functools.partial(root.sys.enable_auth_method, kind, path=path)
        assert _status(enable) == 400
    assert _status(lambda: root.sys.enable_auth_method("approle", path="x" * 65)) == 400
    # An unknown mount's login is what any unknown path is to a caller without a token.
    unknown = httpx.post(f"{server.addr}/v1/auth/no-such-mount/login", json={})
    other = httpx.post(f"{server.addr}/v1/auth/no-such-mount/other", json={})
    assert unknown.status_code == other.status_code


def test_jwt_at_a_path_of_its_own(root: hvac.Client, tmp_path: Path) -> None:
    root.sys.enable_auth_method("jwt", path="jwt-github")
    listed = root.sys.list_auth_methods()["data"]
    assert listed["jwt-github/"]["type"] == "jwt"
    assert "jwt/" not in listed  # the default jwt mount stays off
    with pytest.raises(hvac.exceptions.InvalidRequest):
        root.write("auth/jwt-github/config", jwks_url="ftp://nowhere")
    root.write(
        "auth/jwt-github/config",
        jwks_url="https://token.actions.githubusercontent.com/.well-known/jwks",
    )
    assert root.read("auth/jwt-github/config")["data"]["jwks_url"].startswith("https://token")
    root.sys.disable_auth_method("jwt-github")
    assert "jwt-github/" not in root.sys.list_auth_methods()["data"]


def test_a_wrapped_answer_names_the_mount_as_sent(root: hvac.Client, bao: hvac.Client) -> None:
    """A request to an auth method at a path of its own is routed by its type's path; the
    wrapping token's creation_path is still the path the client sent, as on OpenBao."""
    paths = []
    for client in (bao, root):
        if "wrapped-approle/" not in client.sys.list_auth_methods()["data"]:
            client.sys.enable_auth_method("approle", path="wrapped-approle")
        client.write("auth/wrapped-approle/role/web", token_policies=["default"])
        answer = client.adapter.get(
            "/v1/auth/wrapped-approle/role/web/role-id", headers={"X-Vault-Wrap-TTL": "60s"}
        )
        paths.append(answer["wrap_info"]["creation_path"])
    bao.sys.disable_auth_method("wrapped-approle")  # the session's OpenBao: leave nothing
    assert paths == ["auth/wrapped-approle/role/web/role-id"] * 2
