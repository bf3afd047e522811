"""The Kubernetes, JWT and AppRole methods' config and role endpoints as Vault clients call them
(hvac's own suite found the gaps; issue 23, 7), each step run against a real OpenBao and
strongroom and compared: the status, and the fields a client reads back. Where strongroom
refuses what OpenBao takes, the test says why (docs/compat-vault.md)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import hvac
import hvac.exceptions
import pytest

from tests.helpers import OpenBaoServer, StrongroomServer

ROOT = "workload-auth-root"
K8S = "k8s-compat"
JWT = "jwt-compat"
APPROLE = "approle-compat"
# hvac's own placeholder: PEM armour around a body that is no certificate
PLACEHOLDER_CA = "-----BEGIN CERTIFICATE-----\\n.....\\n-----END CERTIFICATE-----"
HOST = "https://192.0.2.10:8443"


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> Iterator[hvac.Client]:
    server = StrongroomServer(tmp_path_factory.mktemp("workload") / "data", ROOT).start()
    try:
        yield hvac.Client(url=server.addr, token=ROOT)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def bao(openbao: OpenBaoServer) -> hvac.Client:
    return hvac.Client(url=openbao.addr, token=openbao.root_token)


@pytest.fixture(scope="module")
def both(ours: hvac.Client, bao: hvac.Client) -> tuple[hvac.Client, hvac.Client]:
    for client in (bao, ours):
        methods = client.sys.list_auth_methods()["data"]
        for path, kind in ((K8S, "kubernetes"), (JWT, "jwt"), (APPROLE, "approle")):
            if f"{path}/" not in methods:
                client.sys.enable_auth_method(kind, path=path)
    return bao, ours


_STATUS = {
    hvac.exceptions.InvalidRequest: 400,
    hvac.exceptions.Forbidden: 403,
    hvac.exceptions.InvalidPath: 404,
    hvac.exceptions.InternalServerError: 500,
}


def _answer(call: Callable[[], Any]) -> tuple[int, Any]:
    """(status, answer or error words) of an hvac call."""
    try:
        result = call()
    except hvac.exceptions.VaultError as exc:
        return _STATUS.get(type(exc), 0), exc.errors
    status = getattr(result, "status_code", 200)
    return status, result if isinstance(result, dict) else None


def _get(client: hvac.Client, path: str) -> Any:
    return client.adapter.get(f"/v1/{path}")  # raises on 404, where client.read answers None


def _write(client: hvac.Client, path: str, data: dict[str, Any]) -> Any:
    return client.write_data(path, data=data)


def _list(client: hvac.Client, path: str) -> Any:
    return client.adapter.request("LIST", f"/v1/{path}")


def _same_status(
    bao: hvac.Client, ours: hvac.Client, step: Callable[[hvac.Client], Any], *, warned: bool = False
) -> Any:
    """The step's answer on strongroom, once its status is OpenBao's; ``warned``: strongroom adds
    a warning, so a 204 of OpenBao's is its 200 with the warning (as Vault answers any)."""
    expected, _ = _answer(lambda: step(bao))
    got, answer = _answer(lambda: step(ours))
    if warned:
        assert (expected, got) == (204, 200) and answer["warnings"], answer
    else:
        assert got == expected, f"openbao {expected}, strongroom {got}: {answer}"
    return answer


def test_kubernetes_config_and_roles_as_openbao(both: tuple[hvac.Client, hvac.Client]) -> None:
    bao, ours = both
    k8s = "auth/" + K8S

    def config(client: hvac.Client, **fields: Any) -> Any:
        return client.write_data(f"{k8s}/config", data={"kubernetes_host": HOST, **fields})

    assert _same_status(bao, ours, lambda c: _get(c, f"{k8s}/config")) is not None  # 404
    assert _same_status(bao, ours, lambda c: _list(c, f"{k8s}/role")) is not None  # no roles
    refused = _same_status(bao, ours, lambda c: config(c, disable_local_ca_jwt=True))
    assert "kubernetes_ca_cert must be given when disable_local_ca_jwt is true" in refused[0]

    written = _same_status(
        bao, ours, lambda c: config(c, kubernetes_ca_cert=PLACEHOLDER_CA), warned=True
    )
    # kept as written, as OpenBao keeps it, and the caller told at once that it does not parse
    assert written is not None and "does not parse" in written["warnings"][0]
    shown = [c.read(f"{k8s}/config")["data"] for c in (bao, ours)]
    for field in ("kubernetes_host", "kubernetes_ca_cert", "disable_local_ca_jwt"):
        assert shown[0][field] == shown[1][field], field
    assert shown[1]["kubernetes_ca_cert"] == PLACEHOLDER_CA

    bound = {"bound_service_account_names": ["app"], "bound_service_account_namespaces": ["web"]}
    steps: list[tuple[str, dict[str, Any]]] = [
        ("every-account", {"bound_service_account_names": ["*"], **_namespaces("*")}),
        ("by-name", {**bound, "token_type": "service", "alias_name_source": "serviceaccount_name"}),
        ("default-type", {**bound, "token_type": "default"}),
        ("mount-only-type", {**bound, "token_type": "default-service"}),  # a mount's, not a role's
        ("bad-type", {**bound, "token_type": "neither"}),
        ("bad-source", {**bound, "alias_name_source": "neither"}),
    ]
    for name, fields in steps:
        write_role = functools.partial(_write, path=f"{k8s}/role/{name}", data=fields)
        answer = _same_status(bao, ours, write_role, warned=name == "every-account")
        if name == "every-account":
            assert "any pod of the cluster" in answer["warnings"][0]
    read = [c.read(f"{k8s}/role/by-name")["data"] for c in (bao, ours)]
    for field in ("token_type", "alias_name_source", "bound_service_account_names"):
        assert read[0][field] == read[1][field], field
    listed = [sorted(c.list(f"{k8s}/role")["data"]["keys"]) for c in (bao, ours)]
    assert listed[0] == listed[1] == ["by-name", "default-type", "every-account"]


def _namespaces(*names: str) -> dict[str, list[str]]:
    return {"bound_service_account_namespaces": list(names)}


def test_batch_tokens_are_refused_where_openbao_makes_them(
    both: tuple[hvac.Client, hvac.Client],
) -> None:
    """strongroom issues service tokens only: a role asking for batch tokens is refused rather
    than kept and answered with another kind of token."""
    bao, ours = both
    fields = {"bound_service_account_names": ["a"], **_namespaces("b"), "token_type": "batch"}
    assert _answer(lambda: bao.write_data(f"auth/{K8S}/role/batch", data=fields))[0] == 204
    status, words = _answer(lambda: ours.write_data(f"auth/{K8S}/role/batch", data=fields))
    assert status == 400 and "service tokens only" in words[0]
    status, _ = _answer(
        lambda: ours.write_data(f"auth/{APPROLE}/role/batch", data={"token_type": "batch"})
    )
    assert status == 400


def test_jwt_roles_as_hvac_writes_them(both: tuple[hvac.Client, hvac.Client]) -> None:
    """hvac's create_role sends the OIDC flow's fields and the role's name in the body too."""
    bao, ours = both
    for client in (bao, ours):
        client.auth.jwt.create_role(
            name="ci",
            role_type="jwt",
            allowed_redirect_uris=["https://ci.example/callback"],
            user_claim="https://vault/user",
            bound_audiences=["ci"],
            bound_claims={"ref": "refs/heads/*"},
            bound_claims_type="glob",
            token_type="service",
            path=JWT,
        )
    read = [c.auth.jwt.read_role("ci", path=JWT)["data"] for c in (bao, ours)]
    for field in (
        "user_claim",
        "allowed_redirect_uris",
        "bound_claims_type",
        "bound_claims",
        "verbose_oidc_logging",
        "token_type",
    ):
        assert read[0][field] == read[1][field], field
    other = {"name": "not-ci", "user_claim": "sub", "bound_audiences": ["ci"]}
    status, words = _answer(lambda: ours.write_data(f"auth/{JWT}/role/ci", data=other))
    assert status == 400 and "not the path's" in words[0]
    bad = {"user_claim": "sub", "bound_audiences": ["ci"], "bound_claims_type": "regex"}
    _same_status(bao, ours, lambda c: c.write_data(f"auth/{JWT}/role/bad", data=bad))


def test_approle_token_type_is_kept(both: tuple[hvac.Client, hvac.Client]) -> None:
    bao, ours = both
    for client in (bao, ours):
        client.auth.approle.create_or_update_approle(
            "typed", token_policies=["default"], token_type="service", mount_point=APPROLE
        )
    read = [c.auth.approle.read_role("typed", mount_point=APPROLE)["data"] for c in (bao, ours)]
    assert read[0]["token_type"] == read[1]["token_type"] == "service"
