"""Rate limit quotas (service/quotas.py) on a manual clock: which quota covers a path, how a
client's count refills, what is exempt, the bound on the counts a node keeps, rights before the
body, and a change made through another node's service seen within a second."""

from __future__ import annotations

from typing import Any

import pytest

from strongroom.auth import Identity
from strongroom.clock import ManualClock
from strongroom.errors import AccessDenied, BadRequest, RateLimited
from strongroom.server.runtime import Runtime
from strongroom.server.vault.quotas import config_change_of, quota_of
from strongroom.service import quotas as quotas_module
from strongroom.service.quotas import QuotaService

ROOT = Identity.system("root")


def _quotas(runtime: Runtime) -> QuotaService:
    runtime.namespaces.ensure("app")
    return runtime.services.quotas


def _admitted(quotas: QuotaService, path: str, times: int, address: str = "10.0.0.1") -> int:
    for done in range(times):
        try:
            quotas.admit(path, address)
        except RateLimited:
            return done
    return times


def test_the_most_specific_quota_covers_a_path(dev_runtime: Runtime) -> None:
    quotas = _quotas(dev_runtime)
    quotas.write(ROOT, quota_of("global", {"rate": 50}))
    quotas.write(ROOT, quota_of("mount", {"rate": 20, "path": "app"}))
    quotas.write(ROOT, quota_of("glob", {"rate": 10, "path": "app/data/team*"}))
    quotas.write(ROOT, quota_of("exact", {"rate": 5, "path": "app/data/team/db"}))
    assert _admitted(quotas, "app/data/team/db", 100) == 5
    assert _admitted(quotas, "app/data/team/web", 100) == 10
    assert _admitted(quotas, "app/metadata/other", 100) == 20
    assert _admitted(quotas, "secret/data/x", 100) == 50  # no quota of its own: the global one
    assert _admitted(quotas, "app/data/team/db", 100, address="10.0.0.2") == 5  # per client
    assert quotas.read(ROOT, "mount").path == "app/"
    assert quotas.read(ROOT, "glob").path == "app/data/team*"


def test_a_count_refills_over_the_interval(dev_runtime: Runtime) -> None:
    quotas = _quotas(dev_runtime)
    clock: Any = dev_runtime.services.quotas._clock
    assert isinstance(clock, ManualClock)
    quotas.write(ROOT, quota_of("q", {"rate": 2, "path": "app", "interval": "10s"}))
    assert _admitted(quotas, "app/data/x", 5) == 2
    clock.advance(5)  # half the interval: one request's worth back
    assert _admitted(quotas, "app/data/x", 5) == 1
    with pytest.raises(RateLimited, match='request path "app/data/x": rate limit quota exceeded'):
        quotas.admit("app/data/x", "10.0.0.1")


def test_a_blocked_client_waits_the_block_interval(dev_runtime: Runtime) -> None:
    quotas = _quotas(dev_runtime)
    clock: Any = dev_runtime.services.quotas._clock
    quotas.write(
        ROOT, quota_of("q", {"rate": 1, "path": "app", "interval": "1s", "block_interval": "1m"})
    )
    assert _admitted(quotas, "app/data/x", 3) == 1
    clock.advance(30)
    with pytest.raises(RateLimited) as refused:
        quotas.admit("app/data/x", "10.0.0.1")
    assert refused.value.details["retry_after"] == 30
    clock.advance(31)
    assert _admitted(quotas, "app/data/x", 1) == 1


def test_exempt_paths_are_never_counted(dev_runtime: Runtime) -> None:
    quotas = _quotas(dev_runtime)
    quotas.write(ROOT, quota_of("global", {"rate": 1}))
    assert _admitted(quotas, "sys/health", 10) == 10  # Vault's default exemptions
    quotas.write_config(
        ROOT, config_change_of({"rate_limit_exempt_paths": ["app/data/open", "app/data/pub*"]})
    )
    assert _admitted(quotas, "app/data/open", 10) == 10
    assert _admitted(quotas, "app/data/public/x", 10) == 10  # a trailing "*": a prefix
    assert _admitted(quotas, "sys/health", 10) == 1
    assert quotas.read_config(ROOT).exempt_paths == ("app/data/open", "app/data/pub*")


def test_the_counts_a_node_keeps_are_bounded(
    dev_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(quotas_module, "MAX_CLIENTS", 10)
    quotas = _quotas(dev_runtime)
    quotas.write(ROOT, quota_of("global", {"rate": 1}))
    for client in range(100):
        quotas.admit("app/data/x", f"10.1.0.{client}")
    assert len(quotas._counts) == 10
    # The newest clients are still counted; the oldest were forgotten.
    with pytest.raises(RateLimited):
        quotas.admit("app/data/x", "10.1.0.99")
    quotas.admit("app/data/x", "10.1.0.0")


def test_refusals_change_nothing_and_rights_come_before_the_body(dev_runtime: Runtime) -> None:
    quotas = _quotas(dev_runtime)
    nobody = Identity("nobody", ("default",), dev_runtime.policies.acl(("default",)))
    # The service checks rights before anything it reads; over HTTP, the Vault catalogue refuses
    # such a caller before the body is parsed at all (tests/unit/test_vault_catalogue.py).
    with pytest.raises(AccessDenied):
        quotas.write(nobody, quota_of("q", {"rate": 1, "path": "nowhere"}))
    refused: list[tuple[dict[str, Any], str]] = [
        ({"rate": 0}, "'rate' is invalid"),
        ({"rate": 1, "path": "nowhere"}, 'invalid mount path "nowhere/"'),
        ({"rate": 1, "role": "web", "path": "auth/approle"}, "role-based quotas"),
        ({"rate": 1, "burst": 3}, "unknown rate limit quota field 'burst'"),
    ]
    for body, words in refused:
        with pytest.raises(BadRequest, match=words):
            quotas.write(ROOT, quota_of("q", body))
    quotas.write(ROOT, quota_of("first", {"rate": 1, "path": "app"}))
    with pytest.raises(BadRequest, match='similar properties exists under the name "first"'):
        quotas.write(ROOT, quota_of("second", {"rate": 2, "path": "app/"}))
    assert quotas.names(ROOT) == ["first"]
    quotas.write(ROOT, quota_of("on-auth", {"rate": 1, "path": "auth/approle/login"}))
    assert quotas.read(ROOT, "on-auth").path == "auth/approle/login"
    # Without the right, one answer whether the quota exists or not, and no names.
    for name in ("first", "never-written"):
        with pytest.raises(AccessDenied):
            quotas.read(nobody, name)
        with pytest.raises(AccessDenied):
            quotas.delete(nobody, name)
    with pytest.raises(AccessDenied):
        quotas.names(nobody)
    with pytest.raises(AccessDenied):
        quotas.read_config(nobody)
    assert quotas.names(ROOT) == ["first", "on-auth"]


def test_a_change_on_another_node_is_seen_within_a_second(dev_runtime: Runtime) -> None:
    quotas = _quotas(dev_runtime)
    clock: Any = dev_runtime.services.quotas._clock
    elsewhere = QuotaService(
        dev_runtime.store, clock, dev_runtime.namespaces.kind, lambda path: None
    )
    assert _admitted(quotas, "app/data/x", 3) == 3  # no quota yet, and this node read so
    elsewhere.write(ROOT, quota_of("global", {"rate": 1}))
    assert _admitted(quotas, "app/data/x", 3) == 3  # its copy is still fresh
    clock.advance(1.0)
    assert _admitted(quotas, "app/data/x", 3) == 1
