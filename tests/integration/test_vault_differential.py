"""The same hvac call sequences against a real OpenBao dev server and against strongroom: status,
shape and error text must agree, once ids and times are normalized.

Where strongroom differs on purpose, the difference is named here (``OPENBAO_ONLY_KEYS``,
``SAME_KIND``, ``REFUSED``, ``NOT_COPIED``) and explained in docs/compat-vault.md."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import hvac
import hvac.exceptions
import pytest
import requests

from tests.helpers import OpenBaoServer, StrongroomServer

ROOT = "diff-root-token"

# Fields OpenBao adds that Vault's API documents do not (or that describe OpenBao's plugin
# system): strongroom does not send them. docs/compat-vault.md, "Known differences".
OPENBAO_ONLY_KEYS = {
    "current_metadata_version",
    "metadata_cas_required",
    "deprecation_status",
    "running_sha256",
    "running_plugin_version",
    "plugin_version",
    "uuid",
    "passthrough_request_headers",
    "identity_policies",
    "external_entropy_access",
    "seal_wrap",
    "local",
    "listing_visibility",
    "token_type",
    "commit_date",
    "build_date",
    "storage_type",
    "migration",
    "recovery_seal",
    "mfa_requirement",
    "entity_id",
    "ha_enabled",
    "last_wal",
    "echo_duration_ms",
    "clock_skew_ms",
    "enterprise",
    "replication_performance_mode",
    "replication_dr_mode",
    "performance_standby",
    "cluster_name",
    "cluster_id",
    "version",
    "server_time_utc",
    "removed_from_cluster",
    "options",
    "mount_type",
    # OpenBao's policy check-and-set and identity-template switches (not in Vault's API):
    "allow_slashes_in_identity_templates",
    "allow_wildcards_in_identity_templates",
    "modified",
}
# Per scenario, OpenBao-only fields whose name is also a field elsewhere (KV's cas_required).
SCENARIO_ONLY_KEYS = {"policies": {"cas_required"}, "policy names": {"cas_required"}}
_VOLATILE = {
    "request_id",
    "created_time",
    "creation_time",
    "updated_time",
    "issue_time",
    "expire_time",
    "accessor",
    "client_token",
    "id",
    "secret_id",
    "secret_id_accessor",
    "ttl",
    "lease_duration",
    "creation_ttl",
    "nonce",
}
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT")


def _normal(value: Any, key: str = "", ignored: frozenset[str] = frozenset()) -> Any:
    if isinstance(value, dict):
        skip = OPENBAO_ONLY_KEYS | ignored
        return {k: _normal(v, k, ignored) for k, v in sorted(value.items()) if k not in skip}
    if isinstance(value, list):
        return [_normal(v, "", ignored) for v in value]
    if isinstance(value, str) and value.startswith("vault:v"):
        return re.sub(r"^(vault:v\d+:).*$", r"\1<base64>", value)
    if key in ("public_key", "random_bytes") or (key.isdigit() and isinstance(value, int)):
        return "<volatile>"
    if key == "explicit_max_ttl":
        return "<ttl>"  # strongroom reports the effective maximum (docs/compat-vault.md)
    if key == "deletion_time":
        return "<time>" if value else ""
    if key in _VOLATILE or (isinstance(value, str) and _TIME.match(value)):
        return "<volatile>" if value not in ("", None, 0) else value
    return value


def _outcome(call: Callable[[], Any], ignored: frozenset[str]) -> Any:
    """What a call did: its answer normalized, or its error class and text."""
    try:
        result = call()
    except hvac.exceptions.VaultError as error:
        return {"error": type(error).__name__, "errors": error.errors}
    if isinstance(result, requests.Response):
        return {"status": result.status_code}
    return _normal(result, "", ignored)


@pytest.fixture(scope="module")
def pair(
    tmp_path_factory: pytest.TempPathFactory, openbao: OpenBaoServer
) -> Iterator[tuple[hvac.Client, hvac.Client]]:
    ours = StrongroomServer(tmp_path_factory.mktemp("diff") / "data", ROOT).start()
    try:
        bao = hvac.Client(url=openbao.addr, token=openbao.root_token)
        for method in ("userpass", "approle"):
            if f"{method}/" not in bao.sys.list_auth_methods()["data"]:
                bao.sys.enable_auth_method(method)
        for client in (bao, hvac.Client(url=ours.addr, token=ROOT)):
            if "transit/" not in client.sys.list_mounted_secrets_engines()["data"]:
                client.sys.enable_secrets_engine("transit")
        yield bao, hvac.Client(url=ours.addr, token=ROOT)
    finally:
        ours.stop()


Scenario = Callable[[hvac.Client], list[tuple[str, Callable[[], Any]]]]


def _kv_lifecycle(c: hvac.Client) -> list[tuple[str, Callable[[], Any]]]:
    kv = c.secrets.kv.v2
    p = "diff/kv/app"
    return [
        ("write", lambda: kv.create_or_update_secret(p, secret={"a": "1"})),
        ("read", lambda: kv.read_secret_version(p, raise_on_deleted_version=True)),
        ("cas mismatch", lambda: kv.create_or_update_secret(p, secret={"a": "2"}, cas=0)),
        ("cas ok", lambda: kv.create_or_update_secret(p, secret={"a": "2"}, cas=1)),
        ("read v1", lambda: kv.read_secret_version(p, version=1, raise_on_deleted_version=True)),
        ("patch", lambda: kv.patch(p, secret={"b": "3"})),
        ("delete latest", lambda: kv.delete_latest_version_of_secret(p)),
        ("read deleted", lambda: kv.read_secret_version(p, raise_on_deleted_version=False)),
        ("read deleted, raise", lambda: kv.read_secret_version(p, raise_on_deleted_version=True)),
        ("undelete", lambda: kv.undelete_secret_versions(p, versions=[3])),
        ("destroy", lambda: kv.destroy_secret_versions(p, versions=[1])),
        (
            "read destroyed",
            lambda: kv.read_secret_version(p, version=1, raise_on_deleted_version=False),
        ),
        ("metadata", lambda: kv.read_secret_metadata(p)),
        (
            "update metadata",
            lambda: kv.update_metadata(p, max_versions=5, custom_metadata={"o": "t"}),
        ),
        ("metadata after", lambda: kv.read_secret_metadata(p)),
        ("list", lambda: kv.list_secrets("diff/kv")),
        ("list missing", lambda: kv.list_secrets("diff/none")),
        (
            "read missing",
            lambda: kv.read_secret_version("diff/none", raise_on_deleted_version=True),
        ),
        ("delete all", lambda: kv.delete_metadata_and_all_versions(p)),
        ("read after delete all", lambda: kv.read_secret_version(p, raise_on_deleted_version=True)),
        ("subkeys", lambda: c.adapter.get("/v1/secret/subkeys/diff/none")),
    ]


def _policies(c: hvac.Client) -> list[tuple[str, Callable[[], Any]]]:
    text = 'path "secret/data/diff/*" {\n  capabilities = ["read"]\n}\n'
    return [
        ("write", lambda: c.sys.create_or_update_acl_policy("diff-pol", text)),
        ("read", lambda: c.sys.read_acl_policy("diff-pol")),
        ("legacy read", lambda: c.sys.read_policy("diff-pol")),
        ("delete", lambda: c.sys.delete_acl_policy("diff-pol")),
        ("read deleted", lambda: c.sys.read_acl_policy("diff-pol")),
        ("bad policy", lambda: c.sys.create_or_update_acl_policy("diff-bad", "path {")),
    ]


def _tokens(c: hvac.Client) -> list[tuple[str, Callable[[], Any]]]:
    holder: dict[str, str] = {}

    def create() -> Any:
        answer = c.auth.token.create(policies=["default"], ttl="1h", meta={"k": "v"})
        holder["token"] = answer["auth"]["client_token"]
        return answer

    return [
        ("create", create),
        ("lookup", lambda: c.auth.token.lookup(holder["token"])),
        ("revoke", lambda: c.auth.token.revoke(holder["token"])),
        ("lookup revoked", lambda: c.auth.token.lookup(holder["token"])),
        ("create bad policy", lambda: c.auth.token.create(policies=["default"], ttl="nope")),
    ]


def _errors(c: hvac.Client) -> list[tuple[str, Callable[[], Any]]]:
    anonymous = hvac.Client(url=c.url)
    bogus = hvac.Client(url=c.url, token="not-a-token")
    return [
        (
            "no token",
            lambda: anonymous.secrets.kv.v2.read_secret_version("x", raise_on_deleted_version=True),
        ),
        (
            "bad token",
            lambda: bogus.secrets.kv.v2.read_secret_version("x", raise_on_deleted_version=True),
        ),
        ("unknown path", lambda: c.adapter.get("/v1/nope/foo")),
        ("userpass bad login", lambda: anonymous.auth.userpass.login("nobody", "wrong-password-1")),
    ]


def _mounts(c: hvac.Client) -> list[tuple[str, Callable[[], Any]]]:
    def listed() -> Any:
        mounts = c.sys.list_mounted_secrets_engines()["data"]
        return {"diffmount/": _normal(mounts.get("diffmount/"))}

    return [
        (
            "enable",
            lambda: c.sys.enable_secrets_engine("kv", path="diffmount", options={"version": 2}),
        ),
        (
            "enable again",
            lambda: c.sys.enable_secrets_engine("kv", path="diffmount", options={"version": 2}),
        ),
        ("listed", listed),
        (
            "write",
            lambda: c.secrets.kv.v2.create_or_update_secret(
                "a", {"b": "c"}, mount_point="diffmount"
            ),
        ),
        ("disable", lambda: c.sys.disable_secrets_engine("diffmount")),
    ]


def _tuning(c: hvac.Client) -> list[tuple[str, Callable[[], Any]]]:
    """Mount and auth method tuning read back, the "system" reset, and a refused tune."""
    sys = c.sys

    def listed() -> Any:
        return _normal(sys.list_mounted_secrets_engines()["data"]["difftune/"]["config"])

    def auth_listed() -> Any:
        return _normal(sys.list_auth_methods()["data"]["difftune-ar/"]["config"])

    return [
        ("enable", lambda: sys.enable_secrets_engine("kv", path="difftune")),
        ("read fresh", lambda: sys.read_mount_configuration("difftune")),
        (
            "tune",
            lambda: sys.tune_mount_configuration(
                "difftune", default_lease_ttl="1h", max_lease_ttl="2h", description="tuned"
            ),
        ),
        ("read tuned", lambda: sys.read_mount_configuration("difftune")),
        ("listed", listed),
        (
            "default over max",
            lambda: sys.tune_mount_configuration("difftune", default_lease_ttl="3h"),
        ),
        ("read after refusal", lambda: sys.read_mount_configuration("difftune")),
        ("reset", lambda: sys.tune_mount_configuration("difftune", max_lease_ttl="system")),
        ("read reset", lambda: sys.read_mount_configuration("difftune")),
        ("disable", lambda: sys.disable_secrets_engine("difftune")),
        ("enable again", lambda: sys.enable_secrets_engine("kv", path="difftune")),
        ("read forgotten", lambda: sys.read_mount_configuration("difftune")),
        ("disable again", lambda: sys.disable_secrets_engine("difftune")),
        ("enable auth", lambda: sys.enable_auth_method("approle", path="difftune-ar")),
        (
            "tune auth",
            lambda: sys.tune_auth_method(
                "difftune-ar", default_lease_ttl=600, max_lease_ttl=12345678
            ),
        ),
        ("read auth", lambda: sys.read_auth_method_tuning("difftune-ar")),
        ("auth listed", auth_listed),
        ("disable auth", lambda: sys.disable_auth_method("difftune-ar")),
    ]


def _missing_mount(c: hvac.Client) -> list[tuple[str, Callable[[], Any]]]:
    """A path under a mount that is not there has no handler: Vault's 404 words, whatever the
    method (issue 23)."""
    kv, transit = c.secrets.kv.v2, c.secrets.transit
    return [
        ("read", lambda: kv.read_secret_version("x", mount_point="nomount")),
        ("write", lambda: kv.create_or_update_secret("x", {"a": "b"}, mount_point="nomount")),
        ("metadata", lambda: kv.read_secret_metadata("x", mount_point="nomount")),
        ("list", lambda: kv.list_secrets("", mount_point="nomount")),
        ("delete versions", lambda: kv.delete_secret_versions("x", [1], mount_point="nomount")),
        ("transit key", lambda: transit.read_key("k", mount_point="notransit")),
        ("transit encrypt", lambda: transit.encrypt_data("k", "aGk=", mount_point="notransit")),
        ("after disable", lambda: _read_after_disable(c)),
    ]


def _kv_version_1(c: hvac.Client) -> list[tuple[str, Callable[[], Any]]]:
    """KV version 1 mounts (issue 23, 7): one value per secret, policy paths <mount>/<path>,
    and every path under the mount a secret name (data/x too)."""
    kv1 = c.secrets.kv.v1
    rules = (
        'path "diffkv1/app/*" {\n  capabilities = ["read", "list"]\n}\n'
        'path "diffkv1/app/" {\n  capabilities = ["list"]\n}\n'
    )

    def limited() -> hvac.Client:
        c.sys.create_or_update_acl_policy("diff-kv1", rules)
        token = c.auth.token.create(policies=["diff-kv1"])["auth"]["client_token"]
        return hvac.Client(url=c.url, token=token)

    def listed() -> Any:
        mounts = c.sys.list_mounted_secrets_engines()["data"]
        return {name: _normal(mounts.get(name)) for name in ("diffkv1/", "diffkv1b/")}

    return [
        ("enable", lambda: c.sys.enable_secrets_engine("kv", path="diffkv1")),
        (
            "enable with version 1",
            lambda: c.sys.enable_secrets_engine("kv", path="diffkv1b", options={"version": "1"}),
        ),
        ("listed", listed),
        ("preflight", lambda: c.adapter.get("/v1/sys/internal/ui/mounts/diffkv1/app/db")),
        (
            "write",
            lambda: kv1.create_or_update_secret("app/db", {"pw": "one"}, mount_point="diffkv1"),
        ),
        ("read", lambda: kv1.read_secret("app/db", mount_point="diffkv1")),
        (
            "overwrite",
            lambda: kv1.create_or_update_secret("app/db", {"user": "u"}, mount_point="diffkv1"),
        ),
        ("read again", lambda: kv1.read_secret("app/db", mount_point="diffkv1")),
        (
            "write data/x",
            lambda: kv1.create_or_update_secret("data/x", {"a": "b"}, mount_point="diffkv1"),
        ),
        ("read data/x", lambda: kv1.read_secret("data/x", mount_point="diffkv1")),
        ("read v2 style", lambda: c.secrets.kv.v2.read_secret_version("x", mount_point="diffkv1")),
        ("list root", lambda: kv1.list_secrets("", mount_point="diffkv1")),
        ("list folder", lambda: kv1.list_secrets("app", mount_point="diffkv1")),
        ("list missing", lambda: kv1.list_secrets("nothing", mount_point="diffkv1")),
        ("read missing", lambda: kv1.read_secret("app/none", mount_point="diffkv1")),
        (
            "limited read",
            lambda: limited().secrets.kv.v1.read_secret("app/db", mount_point="diffkv1"),
        ),
        (
            "limited list",
            lambda: limited().secrets.kv.v1.list_secrets("app", mount_point="diffkv1"),
        ),
        (
            "limited write",
            lambda: limited().adapter.post("/v1/diffkv1/app/db", json={"a": "b"}),
        ),
        (
            "limited other",
            lambda: limited().secrets.kv.v1.read_secret("data/x", mount_point="diffkv1"),
        ),
        ("v1 path on a v2 mount", lambda: kv1.read_secret("x", mount_point="secret")),
        ("delete", lambda: kv1.delete_secret("app/db", mount_point="diffkv1")),
        ("read deleted", lambda: kv1.read_secret("app/db", mount_point="diffkv1")),
        ("delete again", lambda: kv1.delete_secret("app/db", mount_point="diffkv1")),
        (
            "downgrade a version 2 mount",
            lambda: c.sys.tune_mount_configuration("secret", options={"version": "1"}),
        ),
        ("upgrade", lambda: c.sys.tune_mount_configuration("diffkv1b", options={"version": "2"})),
        ("upgraded", lambda: c.sys.read_mount_configuration("diffkv1b")["data"]["options"]),
        ("disable", lambda: c.sys.disable_secrets_engine("diffkv1")),
        ("disable b", lambda: c.sys.disable_secrets_engine("diffkv1b")),
    ]


def _denied(c: hvac.Client) -> list[tuple[str, Callable[[], Any]]]:
    """A valid token without the capability: Vault's ACL check answers in its multi-error form,
    on every kind of path; a token that is not valid gets the plain words."""

    def limited() -> hvac.Client:
        c.sys.create_or_update_acl_policy(
            "diff-denied", 'path "x/*" {\n  capabilities = ["read"]\n}\n'
        )
        token = c.auth.token.create(policies=["diff-denied"])["auth"]["client_token"]
        return hvac.Client(url=c.url, token=token)

    return [
        ("kv read", lambda: limited().secrets.kv.v2.read_secret_version("nope")),
        ("kv write", lambda: limited().secrets.kv.v2.create_or_update_secret("nope", {"a": "b"})),
        ("policy list", lambda: limited().sys.list_acl_policies()),
        ("mounts", lambda: limited().sys.list_mounted_secrets_engines()),
        ("token create", lambda: limited().auth.token.create(policies=["default"])),
        ("transit encrypt", lambda: limited().secrets.transit.encrypt_data("k", "aGk=")),
    ]


def _read_after_disable(c: hvac.Client) -> Any:
    c.sys.enable_secrets_engine("kv", path="gonemount", options={"version": 2})
    c.secrets.kv.v2.create_or_update_secret("x", {"a": "b"}, mount_point="gonemount")
    c.sys.disable_secrets_engine("gonemount")
    return c.secrets.kv.v2.read_secret_version("x", mount_point="gonemount")


def _auth_methods(c: hvac.Client) -> list[tuple[str, Callable[[], Any]]]:
    return [
        ("user", lambda: c.auth.userpass.create_or_update_user("dana", password="pw-dana-123456")),
        ("login", lambda: hvac.Client(url=c.url).auth.userpass.login("dana", "pw-dana-123456")),
        (
            "user with Vault's older ttl names",
            lambda: c.auth.userpass.create_or_update_user("dana", ttl="10s", max_ttl="20s"),
        ),
        (
            "login with them",
            lambda: hvac.Client(url=c.url).auth.userpass.login("dana", "pw-dana-123456")["auth"][
                "lease_duration"
            ],
        ),
        (
            "role",
            lambda: c.auth.approle.create_or_update_approle(
                "diff-role", token_policies=["default"]
            ),
        ),
        ("read role missing", lambda: c.auth.approle.read_role_id("no-such-role")),
        ("delete role", lambda: c.auth.approle.delete_role("diff-role")),
        ("delete user", lambda: c.auth.userpass.delete_user("dana")),
    ]


def _transit(c: hvac.Client) -> list[tuple[str, Callable[[], Any]]]:
    t = c.secrets.transit
    hello = "aGVsbG8="
    held: dict[str, str] = {}

    def encrypt() -> Any:
        answer = t.encrypt_data("diff-key", hello)
        held["ciphertext"] = answer["data"]["ciphertext"]
        return answer

    def sign() -> Any:
        answer = t.sign_data("diff-ed", hello)
        held["signature"] = answer["data"]["signature"]
        return answer

    def datakey() -> Any:
        answer = t.generate_data_key("diff-key", key_type="plaintext")["data"]
        return sorted(answer)

    return [
        ("create", lambda: t.create_key("diff-key")),
        ("read", lambda: t.read_key("diff-key")),
        ("list", lambda: t.list_keys()),
        ("encrypt", encrypt),
        ("decrypt", lambda: t.decrypt_data("diff-key", held["ciphertext"])),
        ("bad ciphertext", lambda: t.decrypt_data("diff-key", "vault:v1:AAAA")),
        ("no prefix", lambda: t.decrypt_data("diff-key", "AAAA")),
        ("bad base64", lambda: t.encrypt_data("diff-key", "!!")),
        ("delete not allowed", lambda: t.delete_key("diff-key")),
        ("rotate", lambda: t.rotate_key("diff-key")),
        ("rewrap", lambda: t.rewrap_data("diff-key", held["ciphertext"])),
        ("datakey", datakey),
        ("hmac", lambda: t.generate_hmac("diff-key", hello)),
        ("config", lambda: t.update_key_configuration("diff-key", min_decryption_version=2)),
        ("too old", lambda: t.decrypt_data("diff-key", held["ciphertext"])),
        ("allow delete", lambda: t.update_key_configuration("diff-key", deletion_allowed=True)),
        ("delete", lambda: t.delete_key("diff-key")),
        ("read deleted", lambda: t.read_key("diff-key")),
        ("ed25519", lambda: t.create_key("diff-ed", key_type="ed25519")),
        ("sign", sign),
        ("verify", lambda: t.verify_signed_data("diff-ed", hello, signature=held["signature"])),
        ("encrypt with ed25519", lambda: t.encrypt_data("diff-ed", hello)),
        ("unknown type", lambda: c.adapter.post("/v1/transit/keys/x", json={"type": "nope"})),
        ("hash", lambda: t.hash_data(hello)),
        ("nonce", lambda: t.encrypt_data("diff-ed2", hello, nonce="AAAAAAAAAAAAAAAA")),
        ("convergent", lambda: t.create_key("diff-conv", derived=True, convergent_encryption=True)),
    ]


def _kv_settings(c: hvac.Client) -> list[tuple[str, Callable[[], Any]]]:
    kv = c.secrets.kv.v2
    p = "diff/settings/app"
    return [
        ("configure", lambda: kv.configure(max_versions=4, cas_required=False)),
        ("read configuration", lambda: kv.read_configuration()),
        ("write", lambda: kv.create_or_update_secret(p, secret={"a": {"b": "c"}, "d": "e"})),
        ("subkeys", lambda: c.adapter.get(f"/v1/secret/subkeys/{p}")),
        ("subkeys depth 1", lambda: c.adapter.get(f"/v1/secret/subkeys/{p}", params={"depth": 1})),
        ("metadata cas_required", lambda: kv.update_metadata(p, cas_required=True)),
        ("write without cas", lambda: kv.create_or_update_secret(p, secret={"x": "y"})),
        ("write with cas", lambda: kv.create_or_update_secret(p, secret={"x": "y"}, cas=1)),
        ("delete versions", lambda: kv.delete_secret_versions(p, versions=[1])),
        ("undelete missing", lambda: kv.undelete_secret_versions("diff/none", versions=[1])),
        ("destroy", lambda: kv.destroy_secret_versions(p, versions=[2])),
        ("metadata", lambda: kv.read_secret_metadata(p)),
        ("delete all", lambda: kv.delete_metadata_and_all_versions(p)),
        ("reset configuration", lambda: kv.configure(max_versions=0, cas_required=False)),
    ]


def _capabilities_and_wrapping(c: hvac.Client) -> list[tuple[str, Callable[[], Any]]]:
    held: dict[str, str] = {}

    def wrapped() -> Any:
        answer = c.adapter.get("/v1/secret/data/diff/wrapme", headers={"X-Vault-Wrap-TTL": "60"})
        held["token"] = answer["wrap_info"]["token"]
        return {"wrap_info": sorted(answer["wrap_info"]), "data": answer["data"]}

    def unwrapped() -> Any:
        return c.sys.unwrap(held["token"])

    return [
        ("capabilities", lambda: c.sys.get_capabilities(["secret/data/x", "sys/mounts"])),
        ("write", lambda: c.secrets.kv.v2.create_or_update_secret("diff/wrapme", {"k": "v"})),
        ("wrapped read", wrapped),
        (
            "lookup",
            lambda: c.adapter.post("/v1/sys/wrapping/lookup", json={"token": held["token"]}),
        ),
        ("unwrap", unwrapped),
        ("unwrap again", unwrapped),
        ("wrap data", lambda: sorted(c.sys.wrap(payload={"a": "b"}, ttl="60s")["wrap_info"])),
    ]


def _approle_flows(c: hvac.Client) -> list[tuple[str, Callable[[], Any]]]:
    a = c.auth.approle
    held: dict[str, str] = {}

    def secret_id() -> Any:
        answer = a.generate_secret_id("diff-flow", metadata={"host": "h1"})
        held["secret_id"] = answer["data"]["secret_id"]
        held["accessor"] = answer["data"]["secret_id_accessor"]
        return answer

    return [
        ("role", lambda: a.create_or_update_approle("diff-flow", token_policies=["default"])),
        ("list roles", lambda: a.list_roles()),
        ("role id", lambda: sorted(a.read_role_id("diff-flow")["data"])),
        ("set role id", lambda: a.update_role_id("diff-flow", "diff-role-id-12345")),
        ("secret id", secret_id),
        ("read secret id", lambda: a.read_secret_id("diff-flow", held["secret_id"])),
        ("list accessors", lambda: len(a.list_secret_id_accessors("diff-flow")["data"]["keys"])),
        (
            "login",
            lambda: hvac.Client(url=c.url).auth.approle.login(
                "diff-role-id-12345", held["secret_id"]
            ),
        ),
        (
            "bad login",
            lambda: hvac.Client(url=c.url).auth.approle.login("diff-role-id-12345", "nope"),
        ),
        (
            "destroy by accessor",
            lambda: a.destroy_secret_id_accessor("diff-flow", held["accessor"]),
        ),
        ("read destroyed secret id", lambda: a.read_secret_id("diff-flow", held["secret_id"])),
        (
            "login destroyed",
            lambda: hvac.Client(url=c.url).auth.approle.login(
                "diff-role-id-12345", held["secret_id"]
            ),
        ),
        ("delete role", lambda: a.delete_role("diff-flow")),
    ]


def _token_roles(c: hvac.Client) -> list[tuple[str, Callable[[], Any]]]:
    t = c.auth.token
    return [
        (
            "policy",
            lambda: c.sys.create_or_update_acl_policy(
                "diff-role-pol", 'path "x" {\n  capabilities = ["read"]\n}\n'
            ),
        ),
        ("role", lambda: t.create_or_update_role("diff-ci", allowed_policies=["diff-role-pol"])),
        ("list roles", lambda: t.list_roles()),
        ("create from role", lambda: t.create(role_name="diff-ci", policies=["diff-role-pol"])),
        ("create from role, too much", lambda: t.create(role_name="diff-ci", policies=["root"])),
        ("delete role", lambda: t.delete_role("diff-ci")),
        ("read deleted role", lambda: t.read_role("diff-ci")),
    ]


def _policy_names(c: hvac.Client) -> list[tuple[str, Callable[[], Any]]]:
    """Vault lower-cases a policy's name on every policy route (issue 23, 7)."""
    rules = 'path "diff/names/*" {\n  capabilities = ["read"]\n}\n'
    return [
        ("write mixed case", lambda: c.sys.create_or_update_acl_policy("Diff-Mixed", rules)),
        ("read lower case", lambda: c.sys.read_acl_policy("diff-mixed")),
        ("read mixed case", lambda: c.sys.read_acl_policy("DIFF-MIXED")),
        ("listed lower case", lambda: "diff-mixed" in c.sys.list_acl_policies()["data"]["keys"]),
        ("delete mixed case", lambda: c.sys.delete_acl_policy("Diff-MIXED")),
        ("gone", lambda: "diff-mixed" in c.sys.list_acl_policies()["data"]["keys"]),
    ]


def _deleting_what_is_not_there(c: hvac.Client) -> list[tuple[str, Callable[[], Any]]]:
    """Vault answers these 204, as if the thing had just been deleted (issue 23, 7)."""
    kv = c.secrets.kv.v2
    return [
        ("policy", lambda: c.sys.delete_acl_policy("diff-never-there")),
        ("token role", lambda: c.auth.token.delete_role("diff-never-there")),
        ("approle role", lambda: c.auth.approle.delete_role("diff-never-there")),
        ("userpass user", lambda: c.auth.userpass.delete_user("diff-never-there")),
        ("secret, latest version", lambda: kv.delete_latest_version_of_secret("diff/never")),
        ("secret, metadata", lambda: kv.delete_metadata_and_all_versions("diff/never")),
        ("audit device", lambda: c.sys.disable_audit_device("diff-never-there")),
        ("transit key", lambda: c.secrets.transit.delete_key("diff-never-there")),
        ("secret on a mount that is not there", lambda: c.adapter.delete("/v1/nomount/data/x")),
    ]


def _encryption_key(c: hvac.Client) -> list[tuple[str, Callable[[], Any]]]:
    held: dict[str, int] = {}

    def term() -> int:
        held["term"] = c.sys.get_encryption_key_status()["data"]["term"]
        return held["term"]

    return [
        ("key status fields", lambda: sorted(c.sys.get_encryption_key_status()["data"])),
        ("term", lambda: term() > 0),
        ("a secret before", lambda: c.secrets.kv.v2.create_or_update_secret("diff/rot", {"a": 1})),
        ("rotate", lambda: c.sys.rotate_encryption_key()),
        (
            "the term moved by one",
            lambda: c.sys.get_encryption_key_status()["data"]["term"] - held["term"],
        ),
        ("the secret still opens", lambda: c.secrets.kv.v2.read_secret("diff/rot")["data"]["data"]),
        ("no backed-up unseal keys", lambda: c.sys.read_backup_keys()),
        ("their deletion", lambda: c.adapter.delete("/v1/sys/rekey/backup")),
    ]


SCENARIOS: dict[str, Scenario] = {
    "encryption key": _encryption_key,
    "deleting what is not there": _deleting_what_is_not_there,
    "missing mount": _missing_mount,
    "kv version 1": _kv_version_1,
    "denied": _denied,
    "policy names": _policy_names,
    "kv settings": _kv_settings,
    "capabilities and wrapping": _capabilities_and_wrapping,
    "approle flows": _approle_flows,
    "token roles": _token_roles,
    "transit": _transit,
    "kv lifecycle": _kv_lifecycle,
    "policies": _policies,
    "tokens": _tokens,
    "errors": _errors,
    "mounts": _mounts,
    "tuning": _tuning,
    "auth methods": _auth_methods,
}

# Where strongroom answers differently on purpose (docs/compat-vault.md, "Known differences"):
# only the kind of answer (error class, or success) must agree ...
SAME_KIND: dict[tuple[str, str], str] = {
    ("policies", "bad policy"): "strongroom's parse error names the line; OpenBao's text differs",
    ("tokens", "create bad policy"): "strongroom names the field; the status and class agree",
    ("transit", "bad ciphertext"): "a too-short ciphertext: both 400, OpenBao's text differs",
    ("kv version 1", "upgrade"): (
        "both succeed with a warning; OpenBao's names the versions '1 to 0', strongroom's '1 to 2'"
    ),
}
# ... strongroom refuses (400) what OpenBao accepts ...
REFUSED: dict[tuple[str, str], str] = {
    ("transit", "nonce"): "OpenBao ignores a caller's nonce with a warning; strongroom refuses it",
    ("transit", "convergent"): "OpenBao makes convergent keys; strongroom refuses them",
}
# ... or OpenBao's answer is a quirk not worth copying.
NOT_COPIED: dict[tuple[str, str], str] = {
    ("token roles", "create from role, too much"): (
        "a policy outside the role's allowed set: strongroom 403 (rights the role does not give), "
        "OpenBao 400"
    ),
    ("auth methods", "read role missing"): "OpenBao answers 200 with data null; strongroom 404",
}
# OpenBao's generic warnings about parameters it ignored or overrode (hvac sends a few).
_GENERIC_WARNINGS = (
    "Endpoint ignored these unrecognized parameters",
    "Endpoint replaced the value",
)


def _without_generic_warnings(outcome: Any) -> Any:
    if isinstance(outcome, dict) and outcome.get("warnings"):
        kept = [w for w in outcome["warnings"] if not w.startswith(_GENERIC_WARNINGS)]
        return {**outcome, "warnings": kept or None}
    return outcome


def _kind(outcome: Any) -> Any:
    if isinstance(outcome, dict) and "error" in outcome:
        return {"error": outcome["error"]}
    return "success"


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_strongroom_answers_as_openbao_does(
    pair: tuple[hvac.Client, hvac.Client], scenario: str
) -> None:
    bao, ours = pair
    mismatches = []
    for (step, on_bao), (_, on_ours) in zip(
        SCENARIOS[scenario](bao), SCENARIOS[scenario](ours), strict=True
    ):
        ignored = frozenset(SCENARIO_ONLY_KEYS.get(scenario, ()))
        expected = _without_generic_warnings(_outcome(on_bao, ignored))
        got = _outcome(on_ours, ignored)
        where = (scenario, step)
        if where in NOT_COPIED:
            continue
        if where in REFUSED:
            same = _kind(got) == {"error": "InvalidRequest"}
        elif where in SAME_KIND:
            same = _kind(expected) == _kind(got)
        else:
            same = expected == got
        if not same:
            mismatches.append(f"{step}:\n  openbao:    {expected}\n  strongroom: {got}")
    assert not mismatches, "\n".join(mismatches)
