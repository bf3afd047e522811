"""Rotation: staging labels, the four steps, resume after a crash at every step, rollback,
schedules, passwords, key lifecycle and metrics."""

from __future__ import annotations

import importlib.metadata
import json
import os
import string
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.auth import Identity
from strongroom.clock import ManualClock
from strongroom.config import ServerSettings
from strongroom.errors import AccessDenied, BadRequest, Conflict, NotFound
from strongroom.keyproviders.provider import KeyProviderBase
from strongroom.policy.grants import system_grant
from strongroom.results import RootKeyRotation
from strongroom.rotation import (
    STEPS,
    CallableRotator,
    PasswordPolicy,
    RotationContext,
    RotationFailed,
    generate_password,
)
from strongroom.rotation.schedule import Schedule
from strongroom.rotation.signing import sign, verify_signature
from strongroom.server.leadership import Leadership
from strongroom.server.metrics import render_metrics
from strongroom.server.node import Node
from strongroom.server.runtime import Runtime
from strongroom.server.scheduler import Scheduler

ROOT = Identity.system("root")
NS = "secret"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def rt(tmp_path: Path, clock: ManualClock) -> Iterator[Runtime]:
    node = Node(ServerSettings(tmp_path, dev=True, root_token="t", rotation_lease=30), clock)
    yield node.require_runtime()
    node.close()


class Recorder:
    """A rotator that remembers what each step saw, and can be told to fail a step."""

    def __init__(self, rt: Runtime, name: str) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.fail_at: str | None = None
        self.counter = 0
        rt.rotators.register(
            CallableRotator(
                name,
                create=self.create,
                set=lambda ctx: self.step("set", ctx),
                test=lambda ctx: self.step("test", ctx),
                finish=lambda ctx: self.step("finish", ctx),
                rollback=lambda ctx: self.step("rollback", ctx),
            )
        )

    def create(self, ctx: RotationContext) -> dict[str, Any]:
        self.step("create", ctx)
        self.counter += 1
        return {"password": f"value-{self.counter}"}

    def step(self, name: str, ctx: RotationContext) -> None:
        self.calls.append((name, (ctx.pending or {}).get("password")))
        if self.fail_at == name:
            raise RotationFailed(f"{name} refused")


def _current(rt: Runtime, path: str = "db") -> Any:
    return rt.secrets.get(ROOT, NS, path).data["password"]


def test_a_rotation_runs_the_four_steps_and_moves_the_labels(rt: Runtime) -> None:
    recorder = Recorder(rt, "rec-basic")
    rt.secrets.put(ROOT, NS, "db", {"password": "initial"})
    rt.rotation.configure(ROOT, NS, "db", rotator="rec-basic", interval=3600)
    result = rt.rotation.rotate_now(ROOT, NS, "db")
    assert (result.result, result.version) == ("success", 2)
    assert [c[0] for c in recorder.calls] == ["create", "set", "test", "finish"]
    assert recorder.calls[1] == ("set", "value-1")
    assert _current(rt) == "value-1"
    status = rt.rotation.status(ROOT, NS, "db")
    assert status.labels == {"current": 2, "previous": 1}
    assert status.history[0]["result"] == "success"
    assert rt.secrets.get_stage(ROOT, NS, "db", "previous").data == {"password": "initial"}


def test_readers_get_the_current_value_while_a_rotation_is_pending(rt: Runtime) -> None:
    seen: list[str] = []
    recorder = Recorder(rt, "rec-readers")
    rt.secrets.put(ROOT, NS, "db", {"password": "initial"})
    rt.rotation.configure(ROOT, NS, "db", rotator="rec-readers", interval=3600)
    original = recorder.step

    def read_during(name: str, ctx: RotationContext) -> None:
        seen.append(_current(rt))
        original(name, ctx)

    recorder.step = read_during  # type: ignore[method-assign]
    rt.rotation.rotate_now(ROOT, NS, "db")
    # set and test ran while value-1 was pending: readers still had "initial" then.
    assert seen[:3] == ["initial", "initial", "initial"]
    assert _current(rt) == "value-1"


@pytest.mark.parametrize("crash_in", STEPS)
def test_a_run_killed_in_any_step_resumes_under_the_same_token(
    rt: Runtime, clock: ManualClock, crash_in: str
) -> None:
    recorder = Recorder(rt, f"rec-crash-{crash_in}")
    rt.secrets.put(ROOT, NS, "db", {"password": "initial"})
    rt.rotation.configure(ROOT, NS, "db", rotator=recorder_name(crash_in), interval=3600)
    real_step = rt.rotation._step
    calls = {"n": 0}

    def crashing(rotator: Any, name: str, doc: dict[str, Any], run: dict[str, Any]) -> None:
        if run["step"] == crash_in and calls["n"] == 0:
            calls["n"] += 1
            real_step(rotator, name, doc, run)  # the step's work is done, then the process dies
            raise SystemExit("killed")
        real_step(rotator, name, doc, run)

    rt.rotation._step = crashing  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        rt.rotation.rotate_now(ROOT, NS, "db")
    running = rt.rotation.status(ROOT, NS, "db").in_progress
    assert running is not None
    token = running.token
    assert _current(rt) == ("value-1" if crash_in == "finish" else "initial")
    # Another process (another node id) resumes once the lease has run out.
    rt.rotation.node_id = "another-node"
    busy = rt.rotation.run(f"{NS}/db")
    assert busy.result == "busy" and "the scheduler resumes it" in busy.error
    assert rt.rotation.due() == []
    clock.advance(31)
    # Issue 9, finding 21: the scheduler resumes it once the lease is over, not at the next
    # slot an interval later.
    assert rt.rotation.due() == [f"{NS}/db"]
    (result,) = rt.rotation.run_due()
    assert result.result == "success"
    status = rt.rotation.status(ROOT, NS, "db")
    assert status.history[0]["token"] == token
    assert status.labels["current"] == 2, "the pending version was reused, not written again"
    assert recorder.counter == 1
    assert _current(rt) == "value-1"


def recorder_name(crash_in: str) -> str:
    return f"rec-crash-{crash_in}"


def test_a_failing_test_step_retries_then_rolls_back(rt: Runtime, clock: ManualClock) -> None:
    recorder = Recorder(rt, "rec-fail")
    recorder.fail_at = "test"
    rt.secrets.put(ROOT, NS, "db", {"password": "initial"})
    rt.rotation.configure(ROOT, NS, "db", rotator="rec-fail", interval=3600)
    first = rt.rotation.rotate_now(ROOT, NS, "db")
    assert (first.result, first.error) == ("failed", "test refused")
    running = rt.rotation.status(ROOT, NS, "db").in_progress
    assert running is not None and running.attempts == 1
    assert rt.rotation.rotate_now(ROOT, NS, "db").result == "failed"
    last = rt.rotation.rotate_now(ROOT, NS, "db")
    assert last.result == "rolled_back"
    assert recorder.calls[-1][0] == "rollback"
    assert _current(rt) == "initial"
    status = rt.rotation.status(ROOT, NS, "db")
    assert status.in_progress is None and status.failures == 1
    assert "pending" not in status.labels
    with pytest.raises(NotFound):
        rt.secrets.get(ROOT, NS, "db", version=2)  # the untested value was soft-deleted


def test_cancel_rolls_back_a_run_in_progress(rt: Runtime) -> None:
    recorder = Recorder(rt, "rec-cancel")
    recorder.fail_at = "set"
    rt.secrets.put(ROOT, NS, "db", {"password": "initial"})
    rt.rotation.configure(ROOT, NS, "db", rotator="rec-cancel", interval=3600)
    rt.rotation.rotate_now(ROOT, NS, "db")
    assert rt.rotation.cancel(ROOT, NS, "db") is True
    assert rt.rotation.cancel(ROOT, NS, "db") is False
    assert rt.rotation.status(ROOT, NS, "db").history[0]["error"] == "cancelled"
    assert _current(rt) == "initial"


def test_a_plain_write_moves_current_and_previous(rt: Runtime) -> None:
    Recorder(rt, "rec-write")
    rt.secrets.put(ROOT, NS, "db", {"password": "initial"})
    rt.rotation.configure(ROOT, NS, "db", rotator="rec-write", interval=3600)
    rt.rotation.rotate_now(ROOT, NS, "db")
    rt.secrets.put(ROOT, NS, "db", {"password": "by-hand"})
    staged = rt.secrets.labels(system_grant(NS, "db", "test"))
    assert staged is not None and staged.labels == {"current": 3, "previous": 2}
    assert _current(rt) == "by-hand"


def test_custom_labels(rt: Runtime) -> None:
    rt.secrets.put(ROOT, NS, "db", {"password": "one"})
    rt.secrets.put(ROOT, NS, "db", {"password": "two"})
    assert rt.secrets.set_label(ROOT, NS, "db", "blue", 1).labels == {"blue": 1}
    assert rt.secrets.get_stage(ROOT, NS, "db", "blue").data == {"password": "one"}
    assert _current(rt) == "two"
    with pytest.raises(BadRequest):
        rt.secrets.set_label(ROOT, NS, "db", "current", 1)
    with pytest.raises(NotFound):
        rt.secrets.set_label(ROOT, NS, "db", "green", 9)


def test_the_scheduler_runs_due_rotations_once_after_downtime(
    rt: Runtime, clock: ManualClock
) -> None:
    recorder = Recorder(rt, "rec-sched")
    for i in range(15):
        rt.secrets.put(ROOT, NS, f"s{i}", {"password": "initial"})
        rt.rotation.configure(ROOT, NS, f"s{i}", rotator="rec-sched", interval=3600)
    scheduler = Scheduler(rt, 1, Leadership(rt.store, shared=False))
    assert scheduler.tick() and recorder.counter == 0
    clock.advance(30 * 86400)  # a month down: 720 missed slots each
    scheduler.tick()
    assert recorder.counter == 10, "at most one batch per tick"
    scheduler.tick()
    assert recorder.counter == 15, "each secret rotated once, not once per missed slot"
    scheduler.tick()
    assert recorder.counter == 15
    due = [rt.rotation.status(ROOT, NS, f"s{i}").next_due for i in range(15)]
    assert all(clock.now() + 3600 <= d <= clock.now() + 3600 + 180 for d in due)
    assert len(set(due)) > 1, "next times are spread, not all in one second"


def test_keyring_terms_rotate_on_a_schedule(tmp_path: Path, clock: ManualClock) -> None:
    settings = ServerSettings(tmp_path, dev=True, root_token="t", rotate_keys_every=86400)
    node = Node(settings, clock)
    runtime = node.require_runtime()
    scheduler = Scheduler(runtime, 1, node.leadership)
    scheduler.tick()
    assert len(runtime.keyrings.get(NS).terms) == 1
    clock.advance(86401)
    scheduler.tick()
    assert len(runtime.keyrings.get(NS).terms) == 2
    node.close()


def test_retire_only_an_inactive_term_nobody_uses(rt: Runtime) -> None:
    rt.secrets.put(ROOT, NS, "a", {"v": 1})
    rt.namespaces.rotate(ROOT, NS)
    with pytest.raises(Conflict, match="rewrap"):
        rt.namespaces.retire(ROOT, NS, 1)
    with pytest.raises(Conflict, match="active"):
        rt.namespaces.retire(ROOT, NS, 2)
    while not rt.namespaces.rewrap(ROOT, NS).done:
        pass
    rt.namespaces.retire(ROOT, NS, 1)
    assert [t.term for t in rt.namespaces.status(ROOT, NS)] == [2]
    assert rt.secrets.get(ROOT, NS, "a").data == {"v": 1}


class CountingProvider(KeyProviderBase):
    def __init__(self, inner: Any) -> None:
        self.inner, self.calls = inner, 0

    @property
    def key_ref(self) -> str:
        return str(self.inner.key_ref)

    def wrap(self, plaintext_key: bytes, *, context: Any) -> bytes:
        self.calls += 1
        return bytes(self.inner.wrap(plaintext_key, context=context))

    def unwrap(self, wrapped: bytes, *, context: Any) -> bytes:
        self.calls += 1
        return bytes(self.inner.unwrap(wrapped, context=context))

    def rotate(self) -> int:
        return int(self.inner.rotate())


def test_root_key_rotation_rewraps_keyrings_not_data(rt: Runtime) -> None:
    for ns in ("alpha", "beta"):
        rt.namespaces.create(ROOT, ns)
    for i in range(300):
        rt.secrets.put(ROOT, "alpha", f"k{i}", {"v": i})
    counting = CountingProvider(rt.provider.current)  # type: ignore[attr-defined]
    rt.keyrings._provider = counting
    result = rt.namespaces.rotate_root(ROOT, counting)
    assert result == RootKeyRotation(keyrings=3, root_key_version=2)
    assert counting.calls == 2 * 3, "one unwrap and one wrap per keyring, whatever the data"
    rt.keyrings.get("alpha", reload=True)
    assert rt.secrets.get(ROOT, "alpha", "k299").data == {"v": 299}


def test_metrics(rt: Runtime) -> None:
    Recorder(rt, "rec-metrics")
    rt.secrets.put(ROOT, NS, 'odd"path', {"password": "x"})
    rt.rotation.configure(ROOT, NS, 'odd"path', rotator="rec-metrics", interval=3600)
    rt.rotation.rotate_now(ROOT, NS, 'odd"path')
    text = render_metrics(rt)
    assert 'strongroom_rotations_total{result="success"} 1.0' in text
    assert 'strongroom_rotation_seconds_since_success{secret="secret/odd\\"path"} 0.0' in text
    assert 'strongroom_keyring_terms{namespace="secret"} 1.0' in text


def test_schedules() -> None:
    week = Schedule(cron="30 2 * * 1").next_after(1_700_000_000, "k")  # a Tuesday
    tm = time.gmtime(week)
    assert (tm.tm_wday, tm.tm_hour, tm.tm_min) == (0, 2, 30)
    with pytest.raises(BadRequest, match="never matches"):
        Schedule(cron="0 0 31 2 *").next_after(0, "k")
    for bad in ("* * *", "61 * * * *", "a * * * *"):
        with pytest.raises(BadRequest):
            Schedule(cron=bad)
    with pytest.raises(BadRequest):
        Schedule(interval=10)
    with pytest.raises(BadRequest):
        Schedule()


@settings(max_examples=200, deadline=None)
@given(
    length=st.integers(4, 64),
    classes=st.sets(st.sampled_from(["lower", "upper", "digits", "symbols"]), min_size=1),
    exclude=st.text(alphabet=string.ascii_letters + string.digits, max_size=8),
)
def test_passwords_follow_their_policy(length: int, classes: set[str], exclude: str) -> None:
    policy = PasswordPolicy(length, tuple(sorted(classes)), exclude)
    password = generate_password(policy)
    assert len(password) == length
    assert not set(password) & set(exclude)
    assert set(password) <= set(policy.alphabet)
    for name in classes:
        from strongroom.password_generation import CLASSES

        assert set(password) & set(CLASSES[name]), name


def test_password_policy_errors_say_what_is_wrong() -> None:
    with pytest.raises(BadRequest, match="length"):
        PasswordPolicy(0)
    with pytest.raises(BadRequest, match="classes"):
        PasswordPolicy(8, ("emoji",))
    with pytest.raises(BadRequest, match="nothing of class"):
        PasswordPolicy(8, ("lower", "digits"), exclude="0123456789")
    assert PasswordPolicy(32, ("lower", "upper", "digits")).entropy_bits > 190


def test_webhook_signatures() -> None:
    body = b'{"step":"set"}'
    header = sign(b"k", body, now=1000)
    assert verify_signature(b"k", body, header, now=1100)
    assert not verify_signature(b"k", body + b" ", header, now=1100)
    assert not verify_signature(b"other", body, header, now=1100)
    assert not verify_signature(b"k", body, header, now=2000), "too old"
    assert not verify_signature(b"k", body, "garbage", now=1000)


def test_expiry_warnings_are_sent_once_per_value(rt: Runtime, clock: ManualClock) -> None:
    sent: list[dict[str, Any]] = []
    rt.rotation._notify = lambda doc, event: sent.append(event)
    Recorder(rt, "rec-expiry")
    rt.secrets.put(ROOT, NS, "db", {"password": "initial"})
    rt.rotation.configure(
        ROOT, NS, "db", rotator="rec-expiry", interval=30 * 86400, expire_after=10 * 86400
    )
    rt.rotation.rotate_now(ROOT, NS, "db")
    sent.clear()
    assert rt.rotation.warn_expiring() == []
    clock.advance(9.5 * 86400)  # within the last 10% of the value's lifetime
    assert [e["event"] for e in rt.rotation.warn_expiring()] == ["secret_expiring"]
    assert rt.rotation.warn_expiring() == [], "once per value"
    clock.advance(86400)
    assert [e["event"] for e in rt.rotation.warn_expiring()] == ["secret_expired"]
    assert [e["event"] for e in sent] == ["secret_expiring", "secret_expired"]
    rt.rotation.rotate_now(ROOT, NS, "db")
    assert rt.rotation.warn_expiring() == [], "a new value starts a new lifetime"


def test_rotators_from_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    from strongroom.rotation import registry, rotators

    class FromPlugin(rotators.Rotator):
        def create(self, ctx: RotationContext) -> dict[str, Any]:
            return {"v": "plugin"}

    class EntryPoint:
        name = "from-plugin"

        def load(self) -> type[rotators.Rotator]:
            return FromPlugin

    def entry_points(group: str) -> list[EntryPoint]:
        assert group == registry.ENTRY_POINT_GROUP
        return [EntryPoint()]

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    known = registry.RotatorRegistry()
    with pytest.raises(BadRequest, match="unknown rotator 'from-plugin'"):
        known.get("from-plugin")  # entry points are read only when the server asks
    known.load_entry_points()
    plugin = known.get("from-plugin")
    assert isinstance(plugin, FromPlugin) and plugin.name == "from-plugin"
    with pytest.raises(BadRequest, match=r"unknown rotator 'nope'; known: .*random"):
        known.get("nope")
    assert isinstance(registry.RotatorRegistry().get("random"), rotators.RandomRotator)


def test_no_rotated_value_reaches_disk_logs_or_the_audit_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.canary import find_canaries

    canaries = [f"canary-rotated-{i}-{os.urandom(6).hex()}" for i in range(3)]
    values = iter(canaries)

    def failing_test(ctx: RotationContext) -> None:
        if ctx.pending and ctx.pending["password"] == canaries[1]:
            raise ValueError(f"rejected {ctx.pending['password']}")  # a careless rotator

    canary = CallableRotator("canary", lambda ctx: {"password": next(values)}, test=failing_test)
    settings = ServerSettings(
        tmp_path / "data", dev=True, root_token="t", audit_file=tmp_path / "audit.log"
    )
    node = Node(settings, rotators=[canary])
    runtime = node.require_runtime()
    runtime.secrets.put(ROOT, NS, "db", {"password": "initial"})
    runtime.rotation.configure(ROOT, NS, "db", rotator="canary", interval=3600)
    with caplog.at_level("DEBUG"):
        assert runtime.rotation.rotate_now(ROOT, NS, "db").result == "success"
        failed = runtime.rotation.rotate_now(ROOT, NS, "db")
    assert failed.result == "failed" and "details withheld" in failed.error
    status = runtime.rotation.status(ROOT, NS, "db")
    node.close()
    files = {str(p): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    files["log"] = caplog.text.encode()
    files["status"] = json.dumps(status.to_json()).encode()
    assert find_canaries(files, canaries) == []


def test_a_rotation_needs_its_secret_and_goes_with_it(rt: Runtime) -> None:
    Recorder(rt, "rec-gone")
    with pytest.raises(NotFound, match="write its first value"):
        rt.rotation.configure(ROOT, NS, "missing", rotator="rec-gone", interval=3600)
    rt.secrets.put(ROOT, NS, "db", {"password": "initial"})
    rt.rotation.configure(ROOT, NS, "db", rotator="rec-gone", interval=3600)
    rt.secrets.delete_all(ROOT, NS, "db")
    assert rt.rotation.run(f"{NS}/db", force=True).result == "removed"
    with pytest.raises(NotFound):
        rt.secrets.get(ROOT, NS, "db")  # not brought back by a rotation
    with pytest.raises(NotFound):
        rt.rotation.status(ROOT, NS, "db")


def test_configuring_a_rotation_cannot_reach_secrets_one_may_not_read(rt: Runtime) -> None:
    rt.secrets.put(ROOT, NS, "app/db", {"username": "app", "password": "initial"})
    rt.secrets.put(ROOT, NS, "prod/admin", {"username": "admin", "password": "top-secret"})
    rt.secrets.put(ROOT, NS, "app/admin", {"username": "admin", "password": "app-admin"})
    rt.policies.write(
        "rotator",
        """
        path "sys/rotation/secret/app/*" { capabilities = ["update", "read"] }
        path "secret/data/app/*" { capabilities = ["update", "read"] }
        path "sys/rotation/secret/ro/*" { capabilities = ["update"] }
        path "secret/data/ro/*" { capabilities = ["read"] }
        path "sys/rotation/secret/wo/*" { capabilities = ["update"] }
        path "secret/data/wo/*" { capabilities = ["create", "update"] }
        """,
    )
    token, _ = rt.tokens.create(("rotator",), display_name="ops")
    ops = rt.tokens.authenticate(token)
    params = {"strategy": "single", "username": "app", "host": "db.example"}
    with pytest.raises(AccessDenied):  # the admin credentials would go to a host of ops' choice
        rt.rotation.configure(
            ops,
            NS,
            "app/db",
            rotator="postgres",
            params={**params, "admin": "secret/prod/admin"},
            interval=3600,
        )
    with pytest.raises(AccessDenied):
        rt.rotation.configure(
            ops,
            NS,
            "app/db",
            rotator="random",
            interval=3600,
            notify_url="https://hooks.example",
            notify_secret="secret/prod/admin",
        )
    with pytest.raises(AccessDenied):  # no write access to the rotated secret itself
        rt.rotation.configure(ops, NS, "ro/x", rotator="random", interval=3600)
    with pytest.raises(AccessDenied):  # write-only: a webhook rotator would leak the value
        rt.rotation.configure(ops, NS, "wo/x", rotator="random", interval=3600)
    configured = rt.rotation.configure(
        ops,
        NS,
        "app/db",
        rotator="postgres",
        params={**params, "admin": "secret/app/admin"},
        interval=3600,
    )
    assert configured.params["admin"] == "secret/app/admin"
