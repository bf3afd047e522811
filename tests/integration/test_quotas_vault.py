"""Vault's rate limit quotas, through hvac against strongroom and a real OpenBao side by side:
a mount's quota refuses the request past its rate with Vault's 429 and words, a quota on a path
below the mount wins over the mount's, another mount is not counted, a client over a quota with
a block interval stays refused after the interval, refusals change nothing, the config reads
back, and deleting the quotas lets requests through again. Every step's outcome is the same on
both servers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import hvac
import hvac.exceptions
import pytest

from tests.helpers import OpenBaoServer, StrongroomServer

ROOT = "quotas-root"
MOUNT = "quota-kv"
QUOTAS = ("q-mount", "q-path", "q-block", "q-login")


@pytest.fixture(scope="module")
def pair(
    tmp_path_factory: pytest.TempPathFactory, openbao: OpenBaoServer
) -> Iterator[tuple[hvac.Client, hvac.Client]]:
    ours = StrongroomServer(tmp_path_factory.mktemp("quotas") / "data", ROOT).start()
    clients = (
        hvac.Client(url=openbao.addr, token=openbao.root_token),
        hvac.Client(url=ours.addr, token=ROOT),
    )
    try:
        for client in clients:
            if f"{MOUNT}/" not in client.sys.list_mounted_secrets_engines()["data"]:
                client.sys.enable_secrets_engine("kv", path=MOUNT, options={"version": "2"})
            if "quota-approle/" not in client.sys.list_auth_methods()["data"]:
                client.sys.enable_auth_method("approle", path="quota-approle")
            for name in "abc":
                client.secrets.kv.v2.create_or_update_secret(name, {"v": name}, mount_point=MOUNT)
        yield clients
    finally:
        for client in clients:  # OpenBao serves the whole session: leave nothing behind
            for name in QUOTAS:
                client.sys.delete_quota(name)
        clients[0].sys.disable_secrets_engine(MOUNT)
        clients[0].sys.disable_auth_method("quota-approle")
        ours.stop()


def _outcome(step: Callable[[], Any]) -> Any:
    try:
        answer = step()
    except hvac.exceptions.VaultError as exc:
        return type(exc).__name__, exc.errors
    if isinstance(answer, dict) and "data" in answer:
        return answer["data"]
    return "ok"


def _steps(c: hvac.Client) -> list[tuple[str, Callable[[], Any]]]:
    kv = c.secrets.kv.v2
    quota = c.sys.create_or_update_quota

    def read(name: str) -> Callable[[], Any]:
        return lambda: kv.read_secret(name, mount_point=MOUNT)["data"]["data"]

    def login() -> Any:
        approle = hvac.Client(url=c.url).auth.approle
        return approle.login("nobody", "nothing", mount_point="quota-approle")

    def pause() -> str:
        time.sleep(1.2)
        return "ok"

    return [
        ("mount quota", lambda: quota("q-mount", rate=3, path=f"{MOUNT}/", interval="1m")),
        ("read it back", lambda: c.sys.read_quota("q-mount")),
        ("listed", lambda: sorted(c.sys.list_quotas()["data"]["keys"])),
        ("1st read", read("a")),
        ("2nd read", read("a")),
        ("3rd read", read("a")),
        ("4th read: over", read("a")),
        ("a write: over too", lambda: kv.create_or_update_secret("a", {"v": 2}, mount_point=MOUNT)),
        ("another mount", lambda: sorted(c.sys.list_mounted_secrets_engines()["data"])[:1]),
        ("same path, other name", lambda: quota("q-dup", rate=5, path=f"{MOUNT}/")),
        ("no such mount", lambda: quota("q-bad", rate=5, path="/not-exist")),
        ("no rate", lambda: quota("q-bad", rate=0, path=f"{MOUNT}/")),
        (
            "a path's quota wins",
            lambda: quota("q-path", rate=1, path=f"{MOUNT}/data/b*", interval="1m"),
        ),
        ("read it back", lambda: c.sys.read_quota("q-path")),
        ("b: 1st", read("b")),
        ("b: 2nd, over", read("b")),
        (
            "block interval",
            lambda: quota(
                "q-block", rate=1, path=f"{MOUNT}/data/c", interval="1s", block_interval="1m"
            ),
        ),
        ("c: 1st", read("c")),
        ("c: 2nd, over", read("c")),
        ("past the interval", pause),
        ("c: still blocked", read("c")),
        (
            "a login path's quota, on a second AppRole mount",
            lambda: quota("q-login", rate=1, path="auth/quota-approle/login", interval="1m"),
        ),
        ("login: 1st, refused", login),
        ("login: 2nd, over", login),
        ("config", lambda: c.read("sys/quotas/config")),
        (
            "config written",
            lambda: c.write("sys/quotas/config", rate_limit_exempt_paths=["sys/health"]),
        ),
        ("config read back", lambda: c.read("sys/quotas/config")),
        ("drop the quotas", lambda: [c.sys.delete_quota(name) for name in QUOTAS] and "ok"),
        ("listed after", lambda: c.sys.list_quotas()),
        ("a: through again", read("a")),
        ("a's value unchanged", read("a")),
        ("c: through again", read("c")),
    ]


def test_quotas_answer_as_openbao_does(pair: tuple[hvac.Client, hvac.Client]) -> None:
    bao, ours = pair
    differing = []
    outcomes = []
    for (step, on_bao), (_, on_ours) in zip(_steps(bao), _steps(ours), strict=True):
        expected, got = _outcome(on_bao), _outcome(on_ours)
        outcomes.append((step, got))
        if expected != got:
            differing.append(f"{step}:\n  openbao:    {expected}\n  strongroom: {got}")
    assert not differing, "\n".join(differing)
    refused = [
        step for step, got in outcomes if isinstance(got, tuple) and got[0] == "RateLimitExceeded"
    ]
    assert refused == [
        "4th read: over",
        "a write: over too",
        "b: 2nd, over",
        "c: 2nd, over",
        "c: still blocked",
        "login: 2nd, over",
    ]
