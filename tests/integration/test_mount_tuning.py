"""Mount and auth method tuning (issue 23, 7; found by hvac's own suite): the lease TTLs are kept,
read back and enforced as on Vault, with a real OpenBao as referee for the token TTLs a tuned
auth method's logins get. The read-back shapes are compared step by step in
test_vault_differential.py ("tuning")."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import hvac
import hvac.exceptions
import pytest

from tests.helpers import OpenBaoServer, StrongroomServer

ROOT = "tuning-root"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    running = StrongroomServer(tmp_path_factory.mktemp("tuning") / "data", ROOT).start()
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


def _login_ttls(client: hvac.Client, mount: str) -> dict[str, int]:
    """The TTL of a login's token for a role without TTLs, one asking more than the mount's
    maximum, and what a renewal asking for a day gives back."""
    client.sys.enable_auth_method("approle", path=mount)
    try:
        client.sys.tune_auth_method(mount, default_lease_ttl="10m", max_lease_ttl="1h")
        approle = client.auth.approle
        approle.create_or_update_approle("plain", token_policies=["default"], mount_point=mount)
        approle.create_or_update_approle(
            "greedy", token_policies=["default"], token_ttl="2h", mount_point=mount
        )
        found = {}
        for role in ("plain", "greedy"):
            role_id = approle.read_role_id(role, mount_point=mount)["data"]["role_id"]
            secret_id = approle.generate_secret_id(role, mount_point=mount)["data"]["secret_id"]
            login = hvac.Client(url=client.url).auth.approle.login(
                role_id, secret_id, mount_point=mount
            )
            found[role] = login["auth"]["lease_duration"]
            if role == "plain":
                holder = hvac.Client(url=client.url, token=login["auth"]["client_token"])
                renewed = holder.auth.token.renew_self(increment="24h")
                found["renewed"] = renewed["auth"]["lease_duration"]
        return found
    finally:
        client.sys.disable_auth_method(mount)


def _close(got: dict[str, int], expected: dict[str, int]) -> bool:
    return got.keys() == expected.keys() and all(abs(got[k] - expected[k]) <= 2 for k in got)


def test_a_tuned_auth_method_bounds_its_logins_as_openbao_does(
    root: hvac.Client, bao: hvac.Client
) -> None:
    ours, theirs = _login_ttls(root, "tuned-ar"), _login_ttls(bao, "tuned-ar")
    assert _close(theirs, {"plain": 600, "greedy": 3600, "renewed": 3600}), theirs
    assert _close(ours, theirs), (ours, theirs)


def test_kv_version_1_reads_report_the_mount_default_lease(root: hvac.Client) -> None:
    root.sys.enable_secrets_engine("kv", path="leased", options={"version": "1"})
    try:
        root.secrets.kv.v1.create_or_update_secret("a", {"k": "v"}, mount_point="leased")
        assert root.secrets.kv.v1.read_secret("a", mount_point="leased")["lease_duration"] == (
            768 * 3600
        )
        root.sys.tune_mount_configuration("leased", default_lease_ttl="90m")
        assert root.secrets.kv.v1.read_secret("a", mount_point="leased")["lease_duration"] == 5400
        listed = root.sys.list_mounted_secrets_engines()["data"]["leased/"]["config"]
        assert listed["default_lease_ttl"] == 5400 and listed["max_lease_ttl"] == 0
        native = httpx.get(
            f"{root.url}/api/v1/namespaces/leased", headers={"Authorization": f"Bearer {ROOT}"}
        ).json()
        assert native["default_lease_ttl"] == 5400
    finally:
        root.sys.disable_secrets_engine("leased")


def test_bad_tunes_are_precise_400s_that_change_nothing(root: hvac.Client) -> None:
    root.sys.enable_secrets_engine("kv", path="strict", options={"version": "2"})
    try:
        root.sys.tune_mount_configuration("strict", default_lease_ttl="1h", max_lease_ttl="2h")
        before = root.sys.read_mount_configuration("strict")["data"]
        for bad in (
            {"default_lease_ttl": "3h"},  # over the maximum
            {"max_lease_ttl": "30m"},  # under the default
            {"max_lease_ttl": "soon"},
            {"default_lease_ttl": -1},
            {"description": 7},
            {"description": "x" * 1025},
            {"max_lease_ttl": "1h", "options": {"version": "1"}},  # a downgrade: nothing tuned
        ):
            with pytest.raises(hvac.exceptions.InvalidRequest):
                root.sys.tune_mount_configuration("strict", **bad)
            assert root.sys.read_mount_configuration("strict")["data"] == before, bad
        with pytest.raises(hvac.exceptions.InvalidRequest):
            root.sys.tune_auth_method("approle", max_lease_ttl="101y")
        with pytest.raises(hvac.exceptions.InvalidRequest):  # as enabling one allows
            root.sys.tune_auth_method("approle", description="x" * 257)
        assert root.sys.read_auth_method_tuning("approle")["data"]["max_lease_ttl"] == 2764800
    finally:
        root.sys.disable_secrets_engine("strict")


def test_tuning_needs_its_rights_and_a_mount(root: hvac.Client, server: StrongroomServer) -> None:
    root.sys.create_or_update_acl_policy(
        "tuner-read",
        'path "sys/mounts/*" { capabilities = ["read"] }\n'
        'path "sys/auth/*" { capabilities = ["read", "update"] }\n',
    )
    token = root.auth.token.create(policies=["tuner-read"])["auth"]["client_token"]
    caller = hvac.Client(url=server.addr, token=token)
    with pytest.raises(hvac.exceptions.Forbidden):
        caller.sys.tune_mount_configuration("secret", default_lease_ttl="1h")
    with pytest.raises(hvac.exceptions.Forbidden):  # sys/auth/:path/tune needs sudo, as on Vault
        caller.sys.tune_auth_method("approle", max_lease_ttl="1h")
    assert root.sys.read_mount_configuration("secret")["data"]["default_lease_ttl"] == 2764800
    assert root.sys.read_auth_method_tuning("approle")["data"]["max_lease_ttl"] == 2764800
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.sys.tune_mount_configuration("nothing-here", default_lease_ttl="1h")
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.sys.tune_auth_method("nothing-here", default_lease_ttl="1h")
    # Nothing was kept for the paths that had no mount: one enabled there starts untuned.
    root.sys.enable_secrets_engine("kv", path="nothing-here")
    try:
        tuned = root.sys.read_mount_configuration("nothing-here")["data"]
        assert tuned["default_lease_ttl"] == 2764800
    finally:
        root.sys.disable_secrets_engine("nothing-here")


def test_a_custom_secret_id_has_at_least_eight_characters(root: hvac.Client) -> None:
    approle = root.auth.approle
    approle.create_or_update_approle("custom", token_policies=["default"])
    assert approle.create_custom_secret_id("custom", "8-chars!")["data"]["secret_id_accessor"]
    with pytest.raises(hvac.exceptions.InvalidRequest) as short:
        approle.create_custom_secret_id("custom", "7-chars")
    assert "8 to 4096 characters" in str(short.value)
