"""hvac, Vault's Python client, against a real strongroom server: every endpoint group of the
Vault-compatible API, and the same secrets seen through the native API."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import hvac
import hvac.exceptions
import pytest
import requests

from tests.helpers import StrongroomServer, audit_entries, free_port

ROOT = "vault-root-token"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    running = StrongroomServer(tmp_path_factory.mktemp("vault") / "data", ROOT).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def client(server: StrongroomServer) -> hvac.Client:
    return hvac.Client(url=server.addr, token=ROOT)


def _as(server: StrongroomServer, token: str) -> hvac.Client:
    return hvac.Client(url=server.addr, token=token)


def _policy_token(client: hvac.Client, name: str, rules: str) -> str:
    client.sys.create_or_update_acl_policy(name, rules)
    token: str = client.auth.token.create(policies=[name], ttl="10m")["auth"]["client_token"]
    return token


# -- KV v1
def test_kv_v1_requests_on_version_2_shaped_paths_are_audited_and_served_as_version_1(
    client: hvac.Client, server: StrongroomServer
) -> None:
    """``<mount>/data/x`` under a version 1 mount matches a version 2 route first; the front
    door hands it to version 1's route once its caller is authenticated, so its audit entries
    name the version 1 operation, and a method version 1 does not serve is refused after the
    caller's rights are checked, as any other route."""
    client.sys.enable_secrets_engine("kv", path="auditv1")
    headers = {"X-Vault-Token": ROOT}
    url = f"{server.addr}/v1/auditv1/data/x"
    assert httpx.put(url, json={"which": "data/x"}, headers=headers).status_code == 204
    assert httpx.get(url, headers=headers).json()["data"] == {"which": "data/x"}
    listed = httpx.request("LIST", f"{server.addr}/v1/auditv1/data/", headers=headers)
    assert listed.json()["data"]["keys"] == ["x"]
    patched = httpx.patch(url, json={"a": "b"}, headers=headers)
    assert patched.status_code == 405, patched.text
    token = _policy_token(client, "auditv1-none", 'path "elsewhere/*" { capabilities = ["read"] }')
    refused = httpx.patch(url, json={"a": "b"}, headers={"X-Vault-Token": token})
    assert refused.status_code == 403
    assert httpx.delete(url, headers=headers).status_code == 204
    entries = audit_entries(server.data_dir / "audit.log")
    operations = {
        (entry["request"]["method"], entry["operation"])
        for entry in entries
        if entry["request"]["path"].startswith("/v1/auditv1/data")
    }
    assert operations == {
        ("PUT", "kv1WritePut"),
        ("GET", "kv1Read"),
        ("LIST", "kv1List"),
        ("PATCH", "kv1Patch"),
        ("DELETE", "kv1Delete"),
    }
    metrics = httpx.get(
        f"{server.addr}/api/v1/sys/metrics", headers={"Authorization": f"Bearer {ROOT}"}
    ).text
    counted = 'strongroom_requests_total{operation="kv1WritePut",status="204",surface="vault"}'
    assert counted in metrics  # counted as the operation it ran as
    # The same paths under a version 2 mount keep version 2's operations.
    client.secrets.kv.v2.create_or_update_secret("y", {"k": "v"}, mount_point="secret")
    version_2 = {
        entry["operation"]
        for entry in audit_entries(server.data_dir / "audit.log")
        if entry["request"]["path"] == "/v1/secret/data/y"
    }
    assert version_2 and not any(name.startswith("kv1") for name in version_2)
    client.sys.disable_secrets_engine("auditv1")


def test_every_method_of_a_version_2_route_has_a_version_1_route() -> None:
    from strongroom.server.vault import _VERSION_1, _VERSIONED, VAULT_ROUTES

    methods = {route.method for route in VAULT_ROUTES if route.operation in _VERSIONED}
    assert methods <= set(_VERSION_1)


def test_kv_v1_policy_paths_are_its_own_and_the_native_api_does_not_serve_it(
    client: hvac.Client, server: StrongroomServer
) -> None:
    """On a version 1 mount ``<mount>/data/x`` is the secret named ``data/x``: a policy written
    for version 2 paths grants that secret, never ``x``; the native API, whose policy paths are
    version 2's, refuses the mount instead of reading it under the wrong rules."""
    client.sys.enable_secrets_engine("kv", path="conf1")
    kv1 = client.secrets.kv.v1
    kv1.create_or_update_secret("x", {"which": "x"}, mount_point="conf1")
    kv1.create_or_update_secret("data/x", {"which": "data/x"}, mount_point="conf1")
    token = _policy_token(client, "conf1-v2", 'path "conf1/data/*" { capabilities = ["read"] }')
    limited = hvac.Client(url=server.addr, token=token)
    assert limited.secrets.kv.v1.read_secret("data/x", mount_point="conf1")["data"] == {
        "which": "data/x"
    }
    assert limited.secrets.kv.v2.read_secret_version("x", mount_point="conf1")["data"] == {
        "which": "data/x"
    }
    with pytest.raises(hvac.exceptions.Forbidden):
        limited.secrets.kv.v1.read_secret("x", mount_point="conf1")
    with pytest.raises(hvac.exceptions.Forbidden):
        limited.secrets.kv.v1.list_secrets("", mount_point="conf1")
    for who in (ROOT, token):
        native = httpx.get(
            f"{server.addr}/api/v1/secrets/conf1/x", headers={"Authorization": f"Bearer {who}"}
        )
        assert native.status_code == 404 and "KV version 1 mount" in native.text
        assert "which" not in native.text
    # Nothing that names a secret ns/path with version 2's policy paths reaches it: rotation.
    rotation = httpx.put(
        f"{server.addr}/api/v1/rotation/config/conf1/x",
        headers={"Authorization": f"Bearer {ROOT}"},
        json={"rotator": "random", "interval": "1h"},
    )
    assert rotation.status_code == 404 and "KV version 1 mount" in rotation.text
    # One value per secret: a write replaces it, and no history is kept.
    kv1.create_or_update_secret("x", {"which": "x2"}, mount_point="conf1")
    assert kv1.read_secret("x", mount_point="conf1")["data"] == {"which": "x2"}
    # Upgraded to version 2 (kv enable-versioning): the secrets stay, version 2's paths rule.
    client.sys.tune_mount_configuration("conf1", options={"version": "2"})
    kv2 = client.secrets.kv.v2
    assert kv2.read_secret_version("x", mount_point="conf1")["data"]["data"] == {"which": "x2"}
    assert client.sys.read_mount_configuration("conf1")["data"]["options"] == {"version": "2"}
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv1.read_secret("x", mount_point="conf1")
    # conf1/data/* now means every secret's data, as in Vault after the upgrade.
    limited_x = limited.secrets.kv.v2.read_secret_version("x", mount_point="conf1")
    assert limited_x["data"]["data"] == {"which": "x2"}
    client.sys.disable_secrets_engine("conf1")


# -- KV v2
def test_kv_v2_versions_cas_patch_delete_undelete_destroy(client: hvac.Client) -> None:
    kv = client.secrets.kv.v2
    first = kv.create_or_update_secret("hv/app", secret={"user": "a", "pw": "1"})
    assert first["data"]["version"] == 1 and first["data"]["deletion_time"] == ""
    kv.create_or_update_secret("hv/app", secret={"user": "a", "pw": "2"}, cas=1)
    with pytest.raises(hvac.exceptions.InvalidRequest) as mismatch:
        kv.create_or_update_secret("hv/app", secret={"pw": "x"}, cas=1)
    assert "check-and-set parameter did not match the current version" in str(mismatch.value)
    assert kv.read_secret_version("hv/app", raise_on_deleted_version=True)["data"]["data"] == {
        "user": "a",
        "pw": "2",
    }
    old = kv.read_secret_version("hv/app", version=1, raise_on_deleted_version=True)
    assert old["data"]["data"]["pw"] == "1" and old["data"]["metadata"]["version"] == 1
    # hvac's patch reads, merges and writes with cas = the version it read.
    kv.patch("hv/app", secret={"pw": "3"})
    patched = kv.read_secret_version("hv/app", raise_on_deleted_version=True)["data"]
    assert patched["data"] == {"user": "a", "pw": "3"} and patched["metadata"]["version"] == 3

    kv.delete_latest_version_of_secret("hv/app")
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret_version("hv/app", raise_on_deleted_version=True)
    deleted = kv.read_secret_version("hv/app", raise_on_deleted_version=False)
    assert deleted["data"]["data"] is None and deleted["data"]["metadata"]["deletion_time"]
    kv.undelete_secret_versions("hv/app", versions=[3])
    assert kv.read_secret_version("hv/app", raise_on_deleted_version=True)["data"]["data"]["pw"]
    kv.delete_secret_versions("hv/app", versions=[1])
    kv.destroy_secret_versions("hv/app", versions=[2])
    versions = kv.read_secret_metadata("hv/app")["data"]["versions"]
    assert versions["1"]["deletion_time"] and not versions["1"]["destroyed"]
    assert versions["2"]["destroyed"] and versions["3"]["deletion_time"] == ""
    # A destroyed version has no deletion time, so hvac raises even when told not to; the
    # 404 still carries the full body (the Go CLI reads it).
    with pytest.raises(hvac.exceptions.InvalidPath) as destroyed:
        kv.read_secret_version("hv/app", version=2, raise_on_deleted_version=False)
    assert destroyed.value.json["data"]["metadata"]["destroyed"] is True


def test_kv_v2_missing_is_404_with_no_errors(server: StrongroomServer) -> None:
    response = httpx.get(f"{server.addr}/v1/secret/data/nowhere", headers={"X-Vault-Token": ROOT})
    assert response.status_code == 404 and response.json() == {"errors": []}
    assert response.headers["content-type"] == "application/json"


def test_kv_v2_metadata_list_subkeys_config(client: hvac.Client) -> None:
    kv = client.secrets.kv.v2
    kv.create_or_update_secret("meta/a", secret={"k": {"deep": {"x": 1}, "flat": 2}})
    kv.create_or_update_secret("meta/dir/b", secret={"k": "v"})
    kv.update_metadata(
        "meta/a",
        max_versions=3,
        cas_required=False,
        custom_metadata={"owner": "team-a"},
        delete_version_after="1h",
    )
    meta = kv.read_secret_metadata("meta/a")["data"]
    assert meta["max_versions"] == 3 and meta["custom_metadata"] == {"owner": "team-a"}
    assert meta["delete_version_after"] == "1h0m0s" and meta["current_version"] == 1
    assert kv.list_secrets("meta")["data"]["keys"] == ["a", "dir/"]
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.list_secrets("meta/none")
    # GET ?list=true is the same as LIST (the Go client and the CLI send that).
    listed = httpx.get(
        f"{client.url}/v1/secret/metadata/meta",
        params={"list": "true"},
        headers={"X-Vault-Token": ROOT},
    )
    assert listed.json()["data"]["keys"] == ["a", "dir/"]
    subkeys = client.adapter.get("/v1/secret/subkeys/meta/a")["data"]["subkeys"]
    assert subkeys == {"k": {"deep": {"x": None}, "flat": None}}
    shallow = client.adapter.get("/v1/secret/subkeys/meta/a", params={"depth": 1})
    assert shallow["data"]["subkeys"] == {"k": None}
    # Metadata PATCH merges custom metadata; null removes a key.
    patch = httpx.patch(
        f"{client.url}/v1/secret/metadata/meta/a",
        json={"custom_metadata": {"owner": None, "tier": "gold"}},
        headers={"X-Vault-Token": ROOT, "Content-Type": "application/merge-patch+json"},
    )
    assert patch.status_code == 204
    assert kv.read_secret_metadata("meta/a")["data"]["custom_metadata"] == {"tier": "gold"}
    kv.delete_metadata_and_all_versions("meta/dir/b")
    assert kv.list_secrets("meta")["data"]["keys"] == ["a"]

    kv.configure(max_versions=5, cas_required=True, delete_version_after="2h")
    config = kv.read_configuration()["data"]
    assert config == {"max_versions": 5, "cas_required": True, "delete_version_after": "2h0m0s"}
    with pytest.raises(hvac.exceptions.InvalidRequest) as no_cas:
        kv.create_or_update_secret("meta/c", secret={"k": "v"})
    assert "check-and-set parameter required for this call" in str(no_cas.value)
    written = kv.create_or_update_secret("meta/c", secret={"k": "v"}, cas=0)["data"]
    assert written["deletion_time"] != ""  # the mount's delete_version_after: 2h from now
    assert kv.read_secret_version("meta/c", raise_on_deleted_version=True)["data"]["data"]
    kv.configure(max_versions=0, cas_required=False, delete_version_after="0s")


def test_kv_patch_needs_merge_patch_content_type(server: StrongroomServer) -> None:
    url = f"{server.addr}/v1/secret/data/p/x"
    headers = {"X-Vault-Token": ROOT}
    httpx.post(url, json={"data": {"a": "1"}}, headers=headers)
    wrong = httpx.patch(url, json={"data": {"b": "2"}}, headers=headers)
    assert wrong.status_code == 415
    assert "application/merge-patch+json" in wrong.json()["errors"][0]
    right = httpx.patch(
        url,
        content=b'{"data": {"b": "2", "a": null}}',
        headers={**headers, "Content-Type": "application/merge-patch+json"},
    )
    assert right.status_code == 200 and right.json()["data"]["version"] == 2
    assert httpx.get(url, headers=headers).json()["data"]["data"] == {"b": "2"}
    missing = httpx.patch(
        f"{server.addr}/v1/secret/data/p/none",
        content=b'{"data": {"b": "2"}}',
        headers={**headers, "Content-Type": "application/merge-patch+json"},
    )
    assert missing.status_code == 404


def test_one_data_model_with_the_native_api(client: hvac.Client, server: StrongroomServer) -> None:
    client.secrets.kv.v2.create_or_update_secret("shared/x", secret={"v": "from-hvac"})
    native = httpx.get(
        f"{server.addr}/api/v1/secrets/secret/shared/x", headers={"Authorization": f"Bearer {ROOT}"}
    )
    assert native.json()["data"] == {"v": "from-hvac"}
    httpx.put(
        f"{server.addr}/api/v1/secrets/secret/shared/x",
        json={"data": {"v": "from-native"}},
        headers={"Authorization": f"Bearer {ROOT}"},
    )
    read = client.secrets.kv.v2.read_secret_version("shared/x", raise_on_deleted_version=True)
    assert read["data"]["data"] == {"v": "from-native"} and read["data"]["metadata"]["version"] == 2


# -- policies written for Vault, on every surface
def test_vault_policies_grant_exactly_what_they_grant_on_vault(
    client: hvac.Client, server: StrongroomServer
) -> None:
    kv = client.secrets.kv.v2
    kv.create_or_update_secret("pol/app/db", secret={"pw": "1"})
    kv.create_or_update_secret("pol/other/db", secret={"pw": "2"})
    reader = _as(
        server,
        _policy_token(
            client, "pol-reader", 'path "secret/data/pol/app/*" { capabilities = ["read"] }'
        ),
    )
    assert reader.secrets.kv.v2.read_secret_version("pol/app/db", raise_on_deleted_version=True)
    denials: tuple[Callable[[], object], ...] = (
        lambda: reader.secrets.kv.v2.read_secret_version(
            "pol/other/db", raise_on_deleted_version=True
        ),
        lambda: reader.secrets.kv.v2.read_secret_metadata("pol/app/db"),
        lambda: reader.secrets.kv.v2.list_secrets("pol/app"),
        lambda: reader.secrets.kv.v2.create_or_update_secret("pol/app/db", secret={"pw": "x"}),
        lambda: reader.secrets.kv.v2.delete_secret_versions("pol/app/db", versions=[1]),
    )
    for denied in denials:
        with pytest.raises(hvac.exceptions.Forbidden):
            denied()
    # The same policy governs the native API.
    token = reader.token
    native = f"{server.addr}/api/v1"
    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{native}/secrets/secret/pol/app/db", headers=bearer).status_code == 200
    assert httpx.get(f"{native}/metadata/secret/pol/app/db", headers=bearer).status_code == 403
    assert httpx.get(f"{native}/list/secret/pol/app", headers=bearer).status_code == 403

    deleter = _as(
        server,
        _policy_token(
            client,
            "pol-deleter",
            'path "secret/delete/pol/*" { capabilities = ["update"] }\n'
            'path "secret/undelete/pol/*" { capabilities = ["update"] }',
        ),
    )
    deleter.secrets.kv.v2.delete_secret_versions("pol/app/db", versions=[1])
    deleter.secrets.kv.v2.undelete_secret_versions("pol/app/db", versions=[1])
    with pytest.raises(hvac.exceptions.Forbidden):
        deleter.secrets.kv.v2.destroy_secret_versions("pol/app/db", versions=[1])
    with pytest.raises(hvac.exceptions.Forbidden):
        deleter.secrets.kv.v2.delete_latest_version_of_secret("pol/app/db")
    lister = _as(
        server,
        _policy_token(
            client, "pol-lister", 'path "secret/metadata/pol/*" { capabilities = ["list"] }'
        ),
    )
    assert lister.secrets.kv.v2.list_secrets("pol")["data"]["keys"] == ["app/", "other/"]
    subkeys = _as(
        server,
        _policy_token(
            client, "pol-subkeys", 'path "secret/subkeys/pol/*" { capabilities = ["read"] }'
        ),
    )
    assert subkeys.adapter.get("/v1/secret/subkeys/pol/app/db")["data"]["subkeys"] == {"pw": None}
    with pytest.raises(hvac.exceptions.Forbidden):
        subkeys.secrets.kv.v2.read_secret_version("pol/app/db", raise_on_deleted_version=True)


def test_no_token_and_a_bad_token_are_403_permission_denied(server: StrongroomServer) -> None:
    for headers in ({}, {"X-Vault-Token": "not-a-token"}, {"Authorization": "Bearer nope"}):
        response = httpx.get(f"{server.addr}/v1/secret/data/x", headers=headers)
        assert response.status_code == 403 and response.json() == {"errors": ["permission denied"]}
    unknown = httpx.get(f"{server.addr}/v1/nope/foo", headers={"X-Vault-Token": ROOT})
    assert unknown.status_code == 404
    assert unknown.json() == {"errors": ['no handler for route "nope/foo". route entry not found.']}
    # An unauthenticated caller learns nothing about which routes exist.
    assert httpx.get(f"{server.addr}/v1/nope/foo").status_code == 403


# -- sys
def test_sys_health_seal_status_leader(client: hvac.Client, server: StrongroomServer) -> None:
    health = client.sys.read_health_status(method="GET")
    assert health["initialized"] is True and health["sealed"] is False
    custom = httpx.get(f"{server.addr}/v1/sys/health", params={"activecode": "299"})
    assert custom.status_code == 299
    assert httpx.head(f"{server.addr}/v1/sys/health").status_code == 200
    status = client.sys.read_seal_status()
    assert status["sealed"] is False and status["initialized"] is True
    assert client.sys.is_sealed() is False
    assert client.sys.read_leader_status()["ha_enabled"] is False
    assert client.sys.read_init_status()["initialized"] is True


def test_sys_mounts_enable_tune_disable(client: hvac.Client, server: StrongroomServer) -> None:
    client.sys.enable_secrets_engine("kv", path="team", options={"version": 2}, description="t")
    mounts = client.sys.list_mounted_secrets_engines()
    assert mounts["team/"]["options"] == {"version": "2"} and mounts["team/"]["type"] == "kv"
    assert mounts["data"]["team/"]["description"] == "t"
    with pytest.raises(hvac.exceptions.InvalidRequest) as in_use:
        client.sys.enable_secrets_engine("kv", path="team", options={"version": 2})
    assert "path is already in use at team/" in str(in_use.value)
    client.sys.enable_secrets_engine("kv", path="v1mount")  # KV version 1, as in Vault
    assert client.sys.list_mounted_secrets_engines()["v1mount/"]["options"] == {"version": "1"}
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.sys.enable_secrets_engine("kv", path="v3mount", options={"version": 3})
    client.sys.disable_secrets_engine("v1mount")
    assert client.sys.read_mount_configuration("team")["data"]["max_lease_ttl"] == 2764800
    client.sys.tune_mount_configuration("team", default_lease_ttl="1h")
    client.secrets.kv.v2.create_or_update_secret("x", secret={"a": "b"}, mount_point="team")
    preflight = httpx.get(
        f"{server.addr}/v1/sys/internal/ui/mounts/team/x", headers={"X-Vault-Token": ROOT}
    ).json()["data"]
    assert preflight["path"] == "team/" and preflight["options"] == {"version": "2"}
    # Disabling deletes the data and the keyring: a new mount of that name starts empty.
    client.sys.disable_secrets_engine("team")
    assert "team/" not in client.sys.list_mounted_secrets_engines()["data"]
    client.sys.enable_secrets_engine("kv-v2", path="team")
    with pytest.raises(hvac.exceptions.InvalidPath):
        client.secrets.kv.v2.read_secret_version(
            "x", mount_point="team", raise_on_deleted_version=True
        )
    client.sys.disable_secrets_engine("team")


def test_sys_auth_methods(client: hvac.Client) -> None:
    methods = client.sys.list_auth_methods()
    assert {"token/", "approle/", "userpass/"} <= set(methods["data"])
    assert methods["approle/"]["type"] == "approle"
    assert client.sys.enable_auth_method("approle").status_code == 204
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.sys.enable_auth_method("ldap")
    assert client.sys.read_auth_method_tuning("userpass")["data"]["max_lease_ttl"] > 0
    client.auth.userpass.create_or_update_user("gone", password="a-long-password-1")
    client.sys.disable_auth_method("userpass")  # wipes its users, as Vault does
    with pytest.raises(hvac.exceptions.InvalidPath):
        client.auth.userpass.read_user("gone")


def test_sys_policies_acl_and_legacy(client: hvac.Client) -> None:
    text = 'path "secret/data/x/*" {\n  capabilities = ["read"]\n}\n'
    client.sys.create_or_update_acl_policy("acl-one", text)
    assert client.sys.read_acl_policy("acl-one")["data"] == {"name": "acl-one", "policy": text}
    assert "acl-one" in client.sys.list_acl_policies()["data"]["keys"]
    legacy = client.sys.read_policy("acl-one")
    assert legacy["rules"] == text and legacy["data"]["name"] == "acl-one"
    listed = client.sys.list_policies()
    assert {"acl-one", "default", "root"} <= set(listed["policies"])
    assert listed["data"]["keys"] == listed["policies"]
    client.sys.create_or_update_policy("legacy-two", 'path "secret/*" { policy = "read" }')
    client.sys.delete_acl_policy("acl-one")
    client.sys.delete_policy("legacy-two")
    with pytest.raises(hvac.exceptions.InvalidPath):
        client.sys.read_acl_policy("acl-one")
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.sys.create_or_update_acl_policy("bad", 'path "x" { capabilities = ["fly"] }')


def test_sys_capabilities(client: hvac.Client, server: StrongroomServer) -> None:
    token = _policy_token(client, "caps", 'path "secret/data/c/*" { capabilities = ["read"] }')
    user = _as(server, token)
    mine = user.sys.get_capabilities(["secret/data/c/x", "secret/data/d"])
    assert mine["secret/data/c/x"] == ["read"] and mine["secret/data/d"] == ["deny"]
    one = user.sys.get_capabilities(["secret/data/c/x"])
    assert one["capabilities"] == ["read"]
    by_token = client.sys.get_capabilities(["secret/data/c/x"], token=token)
    assert by_token["capabilities"] == ["read"]
    accessor = client.auth.token.lookup(token)["data"]["accessor"]
    by_accessor = client.sys.get_capabilities(["secret/data/c/x"], accessor=accessor)
    assert by_accessor["capabilities"] == ["read"]
    with pytest.raises(hvac.exceptions.Forbidden):
        user.sys.get_capabilities(["secret/data/c/x"], token=ROOT)
    assert client.sys.get_capabilities(["anything"])["capabilities"] == ["root"]


def test_sys_tools_random_hash_and_audit(client: hvac.Client) -> None:
    tools = "/v1/sys/tools"
    random = client.adapter.post(f"{tools}/random", json={"bytes": 16})["data"]["random_bytes"]
    assert len(base64.b64decode(random)) == 16
    hexed = client.adapter.post(f"{tools}/random/8", json={"format": "hex"})
    assert len(bytes.fromhex(hexed["data"]["random_bytes"])) == 8
    data = base64.b64encode(b"hello").decode()
    summed = client.adapter.post(f"{tools}/hash/sha2-512", json={"input": data, "format": "hex"})
    assert summed["data"]["sum"] == hashlib.sha512(b"hello").hexdigest()
    default = client.adapter.post(f"{tools}/hash", json={"input": data})["data"]["sum"]
    assert default == hashlib.sha256(b"hello").hexdigest()  # Vault's default format is hex
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.adapter.post(f"{tools}/random", json={"bytes": 10**9})
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.adapter.post(f"{tools}/hash/md5", json={"input": data})
    devices = client.sys.list_enabled_audit_devices()
    assert isinstance(devices["data"], dict)
    # sys/audit-hash: a value as an enabled device writes it; a device not enabled is a 400
    device = next(iter(devices["data"])).rstrip("/")
    hashed = client.sys.calculate_hash(path=device, input_to_hash="hello")["data"]["hash"]
    assert hashed.startswith("hmac-sha256:") and "hello" not in hashed
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.sys.calculate_hash(path="not-enabled", input_to_hash="hello")
    # Deny by default: the default policy grants the hash tool (as Vault's does), not random.
    minted = client.auth.token.create(policies=["default"], ttl="5m")["auth"]["client_token"]
    plain = hvac.Client(url=client.url, token=minted)
    assert plain.adapter.post(f"{tools}/hash", json={"input": data})["data"]["sum"]
    with pytest.raises(hvac.exceptions.Forbidden):
        plain.adapter.post(f"{tools}/random", json={"bytes": 8})


# -- auth: tokens
def test_token_create_lookup_renew_revoke(client: hvac.Client, server: StrongroomServer) -> None:
    tokens = client.auth.token
    created = tokens.create(policies=["default"], ttl="30m", renewable=True, meta={"team": "a"})
    auth = created["auth"]
    assert auth["lease_duration"] == 1800 and auth["renewable"] is True
    token, accessor = auth["client_token"], auth["accessor"]
    looked = tokens.lookup(token)["data"]
    assert (
        looked["id"] == token and looked["accessor"] == accessor and looked["meta"] == {"team": "a"}
    )
    assert looked["type"] == "service" and isinstance(looked["creation_time"], int)
    by_accessor = tokens.lookup_accessor(accessor)["data"]
    assert by_accessor["id"] == "" and by_accessor["accessor"] == accessor
    user = _as(server, token)
    assert user.auth.token.lookup_self()["data"]["id"] == token
    assert user.auth.token.renew_self(increment="20m")["auth"]["client_token"] == token
    assert tokens.renew(token, increment="10m")["auth"]["lease_duration"] > 0
    assert user.is_authenticated()
    tokens.revoke_accessor(accessor)
    assert not user.is_authenticated()

    orphan = tokens.create_orphan(policies=["default"], ttl="5m")["auth"]
    assert orphan["orphan"] is True
    child = tokens.create(policies=["default"], ttl="5m")["auth"]
    tokens.revoke(child["client_token"])
    assert child["accessor"] not in tokens.list_accessors()["data"]["keys"]
    assert orphan["accessor"] in tokens.list_accessors()["data"]["keys"]
    self_revoked = _as(server, orphan["client_token"])
    self_revoked.auth.token.revoke_self()
    assert not self_revoked.is_authenticated()
    with pytest.raises(hvac.exceptions.Forbidden):
        _as(server, "bogus").auth.token.lookup_self()


def test_token_roles(client: hvac.Client) -> None:
    client.sys.create_or_update_acl_policy(
        "role-pol", 'path "secret/data/r/*" { capabilities = ["read"] }'
    )
    tokens = client.auth.token
    tokens.create_or_update_role("ci", allowed_policies=["role-pol"], token_period="1h")
    assert "ci" in tokens.list_roles()["data"]["keys"]
    assert tokens.read_role("ci")["data"]["allowed_policies"] == ["role-pol"]
    issued = tokens.create(role_name="ci", policies=["role-pol"])["auth"]
    assert issued["policies"] == ["default", "role-pol"]
    with pytest.raises(hvac.exceptions.Forbidden):
        tokens.create(role_name="ci", policies=["root"])
    assert tokens.delete_role("ci").status_code == 204
    with pytest.raises(hvac.exceptions.InvalidPath):
        tokens.read_role("ci")


# -- auth: AppRole and userpass
def test_approle_roles_secret_ids_login_tidy(client: hvac.Client, server: StrongroomServer) -> None:
    client.sys.create_or_update_acl_policy(
        "worker", 'path "secret/data/w/*" { capabilities = ["read"] }'
    )
    approle = client.auth.approle
    approle.create_or_update_approle("worker", token_policies=["worker"], token_ttl="10m")
    assert "worker" in approle.list_roles()["data"]["keys"]
    role_id = approle.read_role_id("worker")["data"]["role_id"]
    approle.update_role_id("worker", "custom-role-id-0001")
    assert approle.read_role_id("worker")["data"]["role_id"] == "custom-role-id-0001"
    assert role_id != "custom-role-id-0001"
    generated = approle.generate_secret_id("worker", metadata={"host": "w1"})["data"]
    custom = approle.create_custom_secret_id("worker", "a-custom-secret-id-long-enough")["data"]
    assert custom["secret_id_accessor"]
    accessors = approle.list_secret_id_accessors("worker")["data"]["keys"]
    assert {generated["secret_id_accessor"], custom["secret_id_accessor"]} <= set(accessors)
    looked = approle.read_secret_id("worker", generated["secret_id"])["data"]
    assert looked["metadata"] == {"host": "w1"}
    by_accessor = approle.read_secret_id_accessor("worker", custom["secret_id_accessor"])["data"]
    assert by_accessor["secret_id_accessor"] == custom["secret_id_accessor"]
    login = _as(server, "").auth.approle.login("custom-role-id-0001", generated["secret_id"])
    assert login["auth"]["policies"] == ["default", "worker"]
    assert login["auth"]["metadata"] == {"host": "w1", "role_name": "worker"}  # as on Vault
    custom_login = _as(server, "").auth.approle.login(
        "custom-role-id-0001", "a-custom-secret-id-long-enough"
    )
    assert custom_login["auth"]["client_token"]
    with pytest.raises(hvac.exceptions.InvalidRequest):
        _as(server, "").auth.approle.login("custom-role-id-0001", "wrong")
    approle.destroy_secret_id("worker", generated["secret_id"])
    approle.destroy_secret_id_accessor("worker", custom["secret_id_accessor"])
    tidied = client.adapter.post("/v1/auth/approle/tidy/secret-id")
    assert "removed" in tidied["warnings"][0]
    assert approle.delete_role("worker").status_code == 204


def test_userpass_users_password_policies_login(
    client: hvac.Client, server: StrongroomServer
) -> None:
    userpass = client.auth.userpass
    userpass.create_or_update_user("alice", password="first-password-1", policies=["default"])
    assert "alice" in userpass.list_user()["data"]["keys"]
    assert userpass.read_user("alice")["data"]["token_policies"] == ["default"]
    userpass.update_password_on_user("alice", "second-password-2")
    client.adapter.post("/v1/auth/userpass/users/alice/policies", json={"policies": ["dev"]})
    assert userpass.read_user("alice")["data"]["token_policies"] == ["dev"]
    anonymous = _as(server, "")
    with pytest.raises(hvac.exceptions.InvalidRequest):
        anonymous.auth.userpass.login("alice", "first-password-1")
    login = anonymous.auth.userpass.login("alice", "second-password-2")
    assert login["auth"]["policies"] == ["default", "dev"]
    assert anonymous.is_authenticated()
    userpass.delete_user("alice")


# -- the seed example, in its working form (docs/compat-vault.md)
def test_seed_example_userpass_login_write_and_read(
    client: hvac.Client, server: StrongroomServer, tmp_path: Path
) -> None:
    client.sys.create_or_update_acl_policy(
        "seed", 'path "secret/data/mysecret" { capabilities = ["create", "read", "update"] }'
    )
    client.auth.userpass.create_or_update_user(
        "seed-user", password="seed-password-1", policies=["seed"]
    )
    # The seed's hvac code, as it runs with hvac 2.x.
    seed = hvac.Client(url=server.addr)
    seed.auth.userpass.login(username="seed-user", password="seed-password-1")
    seed.secrets.kv.v2.create_or_update_secret(path="mysecret", secret={"api_key": "abc123"})
    read = seed.secrets.kv.v2.read_secret_version(path="mysecret", raise_on_deleted_version=True)
    assert read["data"]["data"]["api_key"] == "abc123"


# -- response wrapping
def test_response_wrapping_wrap_unwrap_lookup_rewrap(
    client: hvac.Client, server: StrongroomServer
) -> None:
    client.secrets.kv.v2.create_or_update_secret("wrap/me", secret={"k": "wrapped-value"})
    wrapped = client.adapter.get("/v1/secret/data/wrap/me", headers={"X-Vault-Wrap-TTL": "60s"})
    assert wrapped["data"] is None
    info = wrapped["wrap_info"]
    assert info["ttl"] == 60 and info["creation_path"] == "secret/data/wrap/me"
    # Lookup needs no token at all (Vault's rule): it tells only the wrapping's own facts.
    looked = httpx.post(f"{server.addr}/v1/sys/wrapping/lookup", json={"token": info["token"]})
    lookup = looked.json()
    assert lookup["data"]["creation_path"] == "secret/data/wrap/me"
    # The wrapping token itself unwraps, once.
    holder = _as(server, info["token"])
    unwrapped = holder.sys.unwrap()
    assert unwrapped["data"]["data"] == {"k": "wrapped-value"}
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.sys.unwrap(info["token"])
    # Wrapping a new token (a common hand-over), then rewrapping and unwrapping by body.
    created = client.adapter.post(
        "/v1/auth/token/create", json={"policies": ["default"]}, headers={"X-Vault-Wrap-TTL": "5m"}
    )
    first = created["wrap_info"]["token"]
    second = client.adapter.post("/v1/sys/wrapping/rewrap", json={"token": first})["wrap_info"]
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.sys.unwrap(first)
    handed = client.sys.unwrap(second["token"])
    assert _as(server, handed["auth"]["client_token"]).is_authenticated()
    own = client.sys.wrap(payload={"note": "mine"}, ttl="2m")["wrap_info"]
    assert client.sys.unwrap(own["token"])["data"] == {"note": "mine"}
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.adapter.get("/v1/secret/data/wrap/me", headers={"X-Vault-Wrap-TTL": "nope"})
    # A wrapping token can do nothing else.
    other = client.adapter.get("/v1/secret/data/wrap/me", headers={"X-Vault-Wrap-TTL": "1m"})
    with pytest.raises(hvac.exceptions.Forbidden):
        _as(server, other["wrap_info"]["token"]).secrets.kv.v2.read_secret_version(
            "wrap/me", raise_on_deleted_version=True
        )


def test_init_unseal_seal_through_hvac(tmp_path: Path) -> None:
    """A production-style server (Shamir seal) initialized, unsealed and sealed with hvac."""
    port = free_port()
    addr = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "strongroom", "server", "--data-dir", str(tmp_path / "d")]
    command += ["--seal", "shamir", "--port", str(port), "--audit-file", str(tmp_path / "a.log")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    with (tmp_path / "server.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            client = hvac.Client(url=addr)
            deadline = time.monotonic() + 30
            while True:
                try:
                    status = client.sys.read_seal_status()
                    break
                except requests.ConnectionError:
                    assert time.monotonic() < deadline, "the server did not start"
                    time.sleep(0.1)
            assert status["initialized"] is False and status["sealed"] is True
            assert client.sys.is_initialized() is False
            health = httpx.get(f"{addr}/v1/sys/health")
            assert health.status_code == 501 and health.json()["initialized"] is False
            init = client.sys.initialize(secret_shares=3, secret_threshold=2)
            keys, root = init["keys"], init["root_token"]
            assert len(keys) == 3 and root
            assert httpx.get(f"{addr}/v1/sys/health").status_code == 503
            progress = client.sys.submit_unseal_key(keys[0])
            assert progress["sealed"] is True and progress["progress"] == 1 and progress["t"] == 2
            assert client.sys.submit_unseal_key(keys[2])["sealed"] is False
            client.token = root
            assert client.sys.read_health_status(method="GET")["sealed"] is False
            client.sys.seal()
            assert client.sys.is_sealed() is True
            with pytest.raises(hvac.exceptions.VaultDown) as sealed:
                client.auth.token.lookup_self()
            assert "Vault is sealed" in str(sealed.value)
            client.sys.submit_unseal_keys(keys[1:])
            assert client.sys.is_sealed() is False
            assert client.auth.token.lookup_self()["data"]["policies"] == ["root"]
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_the_remaining_system_and_token_endpoints(client: hvac.Client) -> None:
    """The endpoints no other test here reaches, each once through hvac."""
    assert client.sys.step_down().status_code == 204
    assert client.sys.tune_auth_method("userpass", default_lease_ttl="1h").status_code == 204
    mounts_all = client.adapter.get("/v1/sys/mounts-all/secret")["data"]
    assert mounts_all["type"] == "kv" and mounts_all["options"] == {"version": "2"}
    tokens = client.auth.token
    client.sys.create_or_update_acl_policy(
        "minter", 'path "auth/token/create" { capabilities = ["update"] }'
    )
    parent = tokens.create(policies=["minter"], ttl="1h")["auth"]
    child_client = hvac.Client(url=client.url, token=parent["client_token"])
    child = child_client.auth.token.create(policies=["default"], ttl="10m")["auth"]
    renewed = tokens.renew_accessor(parent["accessor"], increment="30m")["auth"]
    assert renewed["accessor"] == parent["accessor"] and renewed["lease_duration"] > 0
    # Revoking the parent as an orphan keeps its child alive (sudo on revoke-orphan: root).
    assert tokens.revoke_and_orphan_children(parent["client_token"]).status_code == 204
    assert not child_client.is_authenticated()
    assert hvac.Client(url=client.url, token=child["client_token"]).is_authenticated()
    assert tokens.lookup_accessor(child["accessor"])["data"]["orphan"] is True
    tidied = tokens.tidy()
    assert tidied.status_code == 202 and "dead tokens" in tidied.json()["warnings"][0]


def test_the_endpoints_listed_as_not_served_answer_vaults_404(server: StrongroomServer) -> None:
    """docs/compat-vault.md lists what Vault clients call that strongroom does not serve; each
    answers Vault's 404 for a path with no handler, whatever the method."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "compat-vault.md").read_text()
    table = doc.split("### What the clients call that is not served", 1)[1].split("\n## ", 1)[0]
    paths = [
        path
        for row in table.splitlines()
        if row.startswith("| `")
        for path in re.findall(r"`([a-z0-9/_-]+)`", row.split("|")[1])
    ]
    assert len(paths) >= 15
    for path in paths:
        for method in ("GET", "PUT", "LIST"):
            answer = httpx.request(
                method, f"{server.addr}/v1/{path}", headers={"X-Vault-Token": ROOT}
            )
            listed = path + "/" if method == "LIST" else path
            assert answer.status_code == 404, (method, path, answer.text)
            assert answer.json() == {
                "errors": [f'no handler for route "{listed}". route entry not found.']
            }, (method, path)


def test_what_hvacs_own_suite_found(client: hvac.Client) -> None:
    """Cases hvac's integration tests found (scripts/hvac_suite.py): a root-policy token with a
    TTL renews, a dead accessor is a 400, ``generic`` is KV version 1, deleting a policy name no
    policy can have is a 204, a negative cas is a mismatch, an AppRole role shows token_type."""
    created = client.auth.token.create(ttl="1h", renewable=True)["auth"]
    assert created["renewable"] is True
    assert client.auth.token.renew(created["client_token"])["auth"]["renewable"] is True
    client.auth.token.revoke_accessor(created["accessor"])
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.auth.token.lookup_accessor(created["accessor"])
    client.sys.enable_secrets_engine(backend_type="generic", path="legacy-generic")
    mounts = client.sys.list_mounted_secrets_engines()["data"]
    assert mounts["legacy-generic/"]["options"] == {"version": "1"}
    client.sys.disable_secrets_engine(path="legacy-generic")
    assert client.adapter.delete("/v1/sys/policy/%5B%27x%27%5D").status_code == 204
    client.secrets.kv.v2.create_or_update_secret(path="cas-minus", secret={"a": "1"})
    with pytest.raises(hvac.exceptions.InvalidRequest, match="did not match the current version"):
        client.secrets.kv.v2.create_or_update_secret(path="cas-minus", secret={"a": "2"}, cas=-1)
    client.sys.enable_auth_method(method_type="approle", path="approle-hvac-found")
    client.auth.approle.create_or_update_approle("r", mount_point="approle-hvac-found")
    role = client.auth.approle.read_role("r", mount_point="approle-hvac-found")
    assert role["data"]["token_type"] == "default"
    client.sys.disable_auth_method(path="approle-hvac-found")
