"""A role write changes the fields it names and keeps the others, as Vault's do: AppRole, token,
JWT and Kubernetes roles and userpass users, through hvac against strongroom and a real OpenBao
side by side. Each kind is created with some fields, updated with one other, then sent an
update that would leave the whole role invalid: the fields read back after each step, and the
refusal's kind, are the same on both servers, and the refused update changed nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import hvac
import hvac.exceptions
import pytest

from tests.helpers import OpenBaoServer, StrongroomServer

ROOT = "role-updates-root"

Step = tuple[str, Callable[[], Any]]


@pytest.fixture(scope="module")
def pair(
    tmp_path_factory: pytest.TempPathFactory, openbao: OpenBaoServer
) -> Iterator[tuple[hvac.Client, hvac.Client]]:
    ours = StrongroomServer(tmp_path_factory.mktemp("role-updates") / "data", ROOT).start()
    try:
        clients = (
            hvac.Client(url=openbao.addr, token=openbao.root_token),
            hvac.Client(url=ours.addr, token=ROOT),
        )
        for client in clients:
            enabled = client.sys.list_auth_methods()["data"]
            for kind in ("approle", "userpass", "jwt", "kubernetes"):
                if f"ru-{kind}/" not in enabled:
                    client.sys.enable_auth_method(kind, path=f"ru-{kind}")
        yield clients
    finally:
        # OpenBao serves the whole session: leave nothing behind for the other tests
        bao = hvac.Client(url=openbao.addr, token=openbao.root_token)
        bao.auth.token.delete_role("ru-ci")
        for kind in ("approle", "userpass", "jwt", "kubernetes"):
            bao.sys.disable_auth_method(f"ru-{kind}")
        ours.stop()


def _read(c: hvac.Client, path: str, fields: tuple[str, ...]) -> Callable[[], Any]:
    def read() -> Any:
        data = c.read(path)["data"]
        return {name: data.get(name, "<missing>") for name in fields}

    return read


def _approle(c: hvac.Client) -> list[Step]:
    path = "auth/ru-approle/role/web"
    fields = (
        "token_policies",
        "token_ttl",
        "token_max_ttl",
        "secret_id_num_uses",
        "secret_id_bound_cidrs",
        "bind_secret_id",
    )
    read = _read(c, path, fields)
    return [
        ("create", lambda: c.write(path, token_policies=["web"], token_ttl="1h")),
        ("read created", read),
        ("update one field", lambda: c.write(path, secret_id_num_uses=3)),
        ("read updated", read),
        ("update to no constraint", lambda: c.write(path, bind_secret_id=False)),
        ("read after refusal", read),
        ("cidr and no secret id", lambda: c.write(path, bind_secret_id=False, **_CIDRS)),
        ("read both", read),
    ]


_CIDRS = {"secret_id_bound_cidrs": ["10.0.0.0/8"]}


def _token_role(c: hvac.Client) -> list[Step]:
    path = "auth/token/roles/ru-ci"
    fields = ("allowed_policies", "orphan", "renewable", "token_explicit_max_ttl", "token_period")
    read = _read(c, path, fields)
    return [
        ("create", lambda: c.write(path, allowed_policies=["ci"], orphan=True)),
        ("read created", read),
        ("update one field", lambda: c.write(path, token_explicit_max_ttl="2h")),
        ("read updated", read),
        ("update with a bad period", lambda: c.write(path, token_period="soon")),
        ("read after refusal", read),
        ("renewable off", lambda: c.write(path, renewable=False)),
        ("read renewable off", read),
    ]


def _userpass(c: hvac.Client) -> list[Step]:
    path = "auth/ru-userpass/users/alice"
    read = _read(c, path, ("token_policies", "token_ttl", "token_max_ttl"))

    def login(password: str) -> Callable[[], Any]:
        def log_in() -> Any:
            answer = hvac.Client(url=c.url).write("auth/ru-userpass/login/alice", password=password)
            return sorted(answer["auth"]["token_policies"])

        return log_in

    return [
        ("create", lambda: c.write(path, password="first-pass", token_policies=["team"])),
        ("update one field", lambda: c.write(path, token_ttl="30m")),
        ("read updated", read),
        ("the password stayed", login("first-pass")),
        ("new password", lambda: c.write(f"{path}/password", password="second-pass")),
        ("read after the password", read),
        ("new password logs in", login("second-pass")),
        ("update with a bad ttl", lambda: c.write(path, token_max_ttl="never")),
        ("read after refusal", read),
    ]


def _jwt(c: hvac.Client) -> list[Step]:
    path = "auth/ru-jwt/role/ci"
    fields = ("bound_audiences", "bound_subject", "user_claim", "token_policies", "groups_claim")
    read = _read(c, path, fields)
    return [
        (
            "create",
            lambda: c.write(
                path, role_type="jwt", bound_audiences=["ci"], user_claim="sub", token_ttl="1h"
            ),
        ),
        # OpenBao takes an update without role_type as one of an OIDC role: each names it.
        ("update one field", lambda: c.write(path, role_type="jwt", token_policies=["deploy"])),
        ("read updated", read),
        (
            "another field",
            lambda: c.write(path, role_type="jwt", groups_claim="groups", bound_subject="runner"),
        ),
        ("read again", read),
        (
            "no binding left",
            lambda: c.write(path, role_type="jwt", bound_audiences=[], bound_subject=""),
        ),
        ("read after refusal", read),
    ]


def _kubernetes(c: hvac.Client) -> list[Step]:
    path = "auth/ru-kubernetes/role/app"
    fields = (
        "bound_service_account_names",
        "bound_service_account_namespaces",
        "audience",
        "token_policies",
        "alias_name_source",
    )
    read = _read(c, path, fields)
    return [
        (
            "create",
            lambda: c.write(
                path,
                bound_service_account_names=["app"],
                bound_service_account_namespaces=["prod"],
                token_policies=["app"],
            ),
        ),
        ("update one field", lambda: c.write(path, audience="vault")),
        ("read updated", read),
        (
            "another field",
            lambda: c.write(path, bound_service_account_namespaces=["prod", "staging"]),
        ),
        ("read again", read),
        ("bad alias source", lambda: c.write(path, alias_name_source="pod_name")),
        ("read after refusal", read),
    ]


KINDS: dict[str, Callable[[hvac.Client], list[Step]]] = {
    "approle": _approle,
    "token role": _token_role,
    "userpass": _userpass,
    "jwt": _jwt,
    "kubernetes": _kubernetes,
}


# OpenBao answers 500 to an AppRole role left with no constraint; strongroom's 400 says which.
_OPENBAO_500 = {("approle", "update to no constraint")}


def _outcome(step: Callable[[], Any]) -> Any:
    try:
        answer = step()
    except hvac.exceptions.InternalServerError:
        return "InternalServerError"
    except hvac.exceptions.VaultError as exc:
        return type(exc).__name__
    if isinstance(answer, dict) and answer.get("secret_id_bound_cidrs", ()) is None:
        answer = {**answer, "secret_id_bound_cidrs": []}  # OpenBao's null for none
    return "ok" if answer is None or hasattr(answer, "status_code") else answer


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_an_update_keeps_the_fields_it_does_not_name(
    pair: tuple[hvac.Client, hvac.Client], kind: str
) -> None:
    bao, ours = pair
    steps = zip(KINDS[kind](bao), KINDS[kind](ours), strict=True)
    outcomes = []
    for (name, on_bao), (_, on_ours) in steps:
        expected = _outcome(on_bao)
        if (kind, name) in _OPENBAO_500 and expected == "InternalServerError":
            expected = "InvalidRequest"
        outcomes.append((name, expected, _outcome(on_ours)))
    differing = [f"{name}: openbao {a!r}, strongroom {b!r}" for name, a, b in outcomes if a != b]
    assert not differing, "\n".join(differing)
    refused = [name for name, outcome, _ in outcomes if outcome == "InvalidRequest"]
    assert len(refused) == 1  # the bad update, and only it
