"""The rotation engine: settings per secret, the four steps, resume after a crash, history.

One record per rotated secret (kind ``rotation``, name ``ns/path``) holds its settings, the run
in progress and its history. A run is claimed with a compare-and-set lease, so two nodes never
run the same rotation; a killed run's lease runs out and the next run resumes it under the same
rotation token, from the step it had reached:

    create  write the new value as a version labelled ``pending`` (reused if already written;
            a rotator that writes it itself, through an API, does so under the run's token)
    set     the rotator makes the target system accept it
    test    the rotator proves it works
    finish  ``pending`` becomes ``current`` in one compare-and-set; the old one ``previous``

Readers get ``current`` throughout, so they see the old value or the tested new one. A step that
keeps failing is retried with back-off; after ``max_attempts`` the run is rolled back (the
rotator undoes ``set``; the pending version is unlabelled and soft-deleted).

One state machine (claim, step, retry, roll back, record); the settings it runs by are
``RotationConfiguration``'s (configuration.py)."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from strongroom.audit.record import AuditRecord
from strongroom.auth import Identity
from strongroom.errors import BadRequest, Conflict, NotFound, RotationFailed, StrongroomError
from strongroom.policy.grants import Grant, system_grant
from strongroom.results import RunResult
from strongroom.rotation.configuration import (
    HISTORY,
    RotationConfiguration,
    safe_error,
)
from strongroom.rotation.rotators import RotationContext
from strongroom.rotation.schedule import Schedule
from strongroom.service.staging import Staging
from strongroom.types import format_time

__all__ = ["STEPS", "RotationService", "RunResult"]

log = logging.getLogger("strongroom.rotation")

STEPS = ("create", "set", "test", "finish")


class RotationService(RotationConfiguration):
    def cancel(self, identity: Identity, namespace: str, path: str) -> bool:
        """Stop a run in progress and roll it back. False when nothing was running."""
        name = self._name(namespace, path)
        identity.require("update", f"sys/rotation/{name}")
        raw, doc = self._load(name)
        if doc is None:
            raise NotFound(f"no rotation is configured for {name}")
        if doc.get("run") is None:
            return False
        self._roll_back(name, raw, doc, "cancelled")
        return True

    # -- running
    def knows(self, rotator: str) -> bool:
        """Whether a rotator of this name is registered with this server."""
        try:
            self._rotators.get(rotator)
        except BadRequest:
            return False
        return True

    def running_token(self, namespace: str, path: str) -> str | None:
        """The token of the run in progress that has not written its pending version yet (a
        rotation function's createSecret sees it as the version to write)."""
        _, doc = self._load(self._name(namespace, path))
        run = (doc or {}).get("run")
        if run is None or run.get("version"):
            return None
        return str(run["token"])

    def rotate_now(
        self, identity: Identity, namespace: str, path: str, token: str | None = None
    ) -> RunResult:
        """Run the rotation now; a new run takes ``token`` as its rotation token (the AWS API's
        ClientRequestToken), a run in progress keeps its own."""
        name = self._name(namespace, path)
        identity.require("update", f"sys/rotation/{name}")
        if self._load(name)[1] is None:
            raise NotFound(f"no rotation is configured for {name}; configure one first")
        return self.run(name, force=True, token=token)

    @staticmethod
    def _busy(namespace: str, path: str, until: float) -> RunResult:
        return RunResult(
            namespace,
            path,
            "busy",
            error=f"another run holds this rotation until {format_time(until)}; if it was cut "
            "short, the scheduler resumes it then (or run this again after that time)",
        )

    def due(self, limit: int = 10) -> list[str]:
        """The rotations due now, oldest first (at most ``limit``: no stampede after downtime)."""
        now = self._clock.now()
        due = []
        for name in self._records.names():
            _, doc = self._load(name)
            if doc is None:
                continue
            run = doc.get("run")
            lease = float(run.get("lease_until", 0)) if run is not None else 0.0
            # A run whose lease ran out was cut short (its node died): resume it now, not at the
            # next slot. A run in back-off has no lease (0) and waits for its next_due.
            interrupted = run is not None and 0 < lease <= now
            if (float(doc["next_due"]) <= now and lease <= now) or interrupted:
                due.append((min(float(doc["next_due"]), lease or now), name))
        return [name for _, name in sorted(due)[:limit]]

    def run_due(self, limit: int = 10) -> list[RunResult]:
        return [self.run(name) for name in self.due(limit)]

    def run(self, name: str, *, force: bool = False, token: str | None = None) -> RunResult:
        """Start or resume the rotation of ``name``; each step's progress is saved before the
        next step starts."""
        namespace, _, path = name.partition("/")
        raw, doc = self._load(name)
        if doc is None:
            raise NotFound(f"no rotation is configured for {name}")
        if not self._secrets.labels(_granted(name)):
            # The secret was deleted: its rotation goes with it, rather than bring it back.
            self._records.delete(name)
            log.info("rotation of %s removed: the secret no longer exists", name)
            return RunResult(namespace, path, "removed")
        now = self._clock.now()
        if not force and float(doc["next_due"]) > now and doc.get("run") is None:
            return RunResult(namespace, path, "not_due")
        run = doc.get("run")
        if (
            run is not None
            and float(run.get("lease_until", 0)) > now
            and run.get("owner") != (self.node_id)
        ):
            return self._busy(namespace, path, float(run["lease_until"]))
        if run is None:
            fresh = token or secrets.token_hex(16)
            run = {"token": fresh, "step": "create", "version": 0, "attempts": 0}
            run["started"] = now
        run.update(owner=self.node_id, lease_until=now + self.lease_seconds)
        doc["run"] = run
        raw = self._save(name, raw, doc)
        if raw is None:
            return self._busy(namespace, path, now + self.lease_seconds)
        rotator = self._rotators.get(doc["rotator"])
        try:
            while run["step"] != "done":
                step = run["step"]
                self._audit_step(name, run, step, "started")
                self._step(rotator, name, doc, run)
                self._audit_step(name, run, step, "done")
                run["step"] = STEPS[STEPS.index(step) + 1] if step != "finish" else "done"
                run["lease_until"] = self._clock.now() + self.lease_seconds
                if run["step"] != "done":
                    raw = self._save(name, raw, doc)
                    if raw is None:
                        raise Conflict("another node took over this rotation")
        except Exception as exc:  # any failure: record it (safely), retry later or roll back
            return self._failed(name, doc, run, exc)
        return self._succeeded(name, raw, doc, run)

    def _context(self, doc: dict[str, Any], name: str, run: dict[str, Any]) -> RotationContext:
        namespace, _, path = name.partition("/")
        grant = _granted(name)

        def read(stage: str) -> dict[str, Any] | None:
            try:
                return self._secrets.read_stage(grant, stage).data
            except NotFound:
                return None

        pending = None
        if run.get("version"):
            pending = self._secrets.read_granted(grant, int(run["version"])).data
        return RotationContext(
            namespace,
            path,
            run["token"],
            dict(doc["params"]),
            read("current"),
            pending,
            self._read_reference,
            self.egress,
        )

    def _read_reference(self, reference: str) -> dict[str, Any]:
        """Another secret a rotator needs (admin credentials, a signing key): ``ns/path``."""
        # The one who configured the rotation was checked for ``read`` on it (configuration.py).
        return self._secrets.read_stage(_granted(reference), "current").data

    def _step(self, rotator: Any, name: str, doc: dict[str, Any], run: dict[str, Any]) -> None:
        grant = _granted(name)
        step = run["step"]
        if step == "create":
            staged = self._secrets.labels(grant) or Staging()
            pending = staged.labels.get("pending")
            if pending is not None and staged.pending_token == run["token"]:
                run["version"] = int(pending)  # written before a crash: reuse it
                return
            value = rotator.create(self._context(doc, name, run))
            if value is None:  # the rotator wrote it (a Lambda's createSecret step)
                staged = self._secrets.labels(grant) or Staging()
                pending = staged.labels.get("pending")
                if pending is None or staged.pending_token != run["token"]:
                    raise RotationFailed(
                        "the rotator wrote no pending version under the run's token "
                        "(a rotation function's createSecret puts one with VersionStages "
                        "[AWSPENDING] and the event's ClientRequestToken)"
                    )
                run["version"] = int(pending)
                return
            written = self._secrets.write_pending(grant, value, run["token"])
            run["version"] = written.version
        elif step == "set":
            rotator.set(self._context(doc, name, run))
        elif step == "test":
            rotator.test(self._context(doc, name, run))
        elif step == "finish":
            self._secrets.promote(grant, int(run["version"]))
            context = self._context(doc, name, run)
            rotator.finish(context)

    def _audit_step(self, name: str, run: dict[str, Any], step: str, outcome: str) -> None:
        """One audit entry per step, joined by the run's token (the entry's ``request_id``)."""
        progress = {"secret": name, "step": step, "outcome": outcome}
        clear = {"rotation": progress, "version": run.get("version", 0)}
        self._audit(AuditRecord(f"rotation.{step}", target=name, clear=clear), run["token"])

    def _succeeded(
        self, name: str, raw: bytes | None, doc: dict[str, Any], run: dict[str, Any]
    ) -> RunResult:
        namespace, _, path = name.partition("/")
        now = self._clock.now()
        entry = {"token": run["token"], "version": run["version"], "result": "success"}
        for _ in range(10):
            doc.update(
                run=None,
                last_rotated=now,
                failures=0,
                next_due=Schedule(**doc["schedule"]).next_after(now, name),
                history=[{**entry, "time": now}, *doc.get("history", [])][:HISTORY],
            )
            if self._save(name, raw, doc) is not None:
                break
            raw, fresh = self._load(name)
            if fresh is None:
                break
            doc = fresh
        self.counters["success"] += 1
        self._notify(doc, {"event": "rotation_succeeded", "secret": name, **entry})
        return RunResult(namespace, path, "success", int(run["version"]), token=run["token"])

    def _failed(
        self, name: str, doc: dict[str, Any], run: dict[str, Any], exc: Exception
    ) -> RunResult:
        namespace, _, path = name.partition("/")
        error = safe_error(exc)
        log.warning("rotation of %s failed at %s: %s", name, run["step"], error)
        self._audit_step(name, run, run["step"], "failed")
        raw, fresh = self._load(name)
        if fresh is None or (fresh.get("run") or {}).get("token") != run["token"]:
            return RunResult(namespace, path, "failed", int(run.get("version", 0)), error)
        run = dict(fresh["run"], attempts=int(fresh["run"].get("attempts", 0)) + 1, error=error)
        fresh["run"] = run
        if run["attempts"] >= self.max_attempts:
            return self._roll_back(name, raw, fresh, error)
        # Try again later, with back-off; the lease ends now so that a node may resume it.
        run["lease_until"] = 0
        fresh["next_due"] = self._clock.now() + 60.0 * 2 ** run["attempts"]
        self._save(name, raw, fresh)
        self.counters["failed"] += 1
        self._notify(fresh, {"event": "rotation_failed", "secret": name, "error": error})
        return RunResult(namespace, path, "failed", int(run.get("version", 0)), error)

    def _roll_back(
        self, name: str, raw: bytes | None, doc: dict[str, Any], reason: str
    ) -> RunResult:
        namespace, _, path = name.partition("/")
        run = doc["run"]
        version = int(run.get("version", 0))
        if version and run["step"] in ("set", "test", "finish"):
            try:
                self._rotators.get(doc["rotator"]).rollback(self._context(doc, name, run))
            except Exception as exc:  # the history says so; an operator must look
                reason = f"{reason}; rollback failed: {safe_error(exc)}"
        staged = self._secrets.labels(_granted(name)) or Staging()
        if version and staged.labels.get("current") != version:
            try:
                self._secrets.drop_pending(_granted(name), version)
            except StrongroomError as exc:
                reason = f"{reason}; could not unlabel version {version}: {safe_error(exc)}"
        now = self._clock.now()
        entry = {"token": run["token"], "version": version, "result": "rolled_back", "time": now}
        doc.update(
            run=None,
            failures=int(doc.get("failures", 0)) + 1,
            next_due=Schedule(**doc["schedule"]).next_after(now, name),
            history=[{**entry, "error": reason}, *doc.get("history", [])][:HISTORY],
        )
        if self._save(name, raw, doc) is None:
            raise Conflict("the rotation changed while it was rolled back; check its status")
        self.counters["rolled_back"] += 1
        self._notify(doc, {"event": "rotation_rolled_back", "secret": name, "error": reason})
        return RunResult(namespace, path, "rolled_back", version, reason)

    def warn_expiring(self, warn_fraction: float = 0.1) -> list[dict[str, Any]]:
        """Notify, once per value, of rotated secrets whose value expires within
        ``warn_fraction`` of its lifetime (or has expired); returns the events sent."""
        now = self._clock.now()
        sent = []
        for name in self._records.names():
            raw, doc = self._load(name)
            if doc is None or not doc.get("expire_after") or doc.get("last_rotated") is None:
                continue
            lifetime = float(doc["expire_after"])
            expires = float(doc["last_rotated"]) + lifetime
            if now < expires - lifetime * warn_fraction:
                continue
            expired = now >= expires
            marker = f"{doc['last_rotated']}:{'expired' if expired else 'expiring'}"
            if doc.get("expiry_warned") == marker:
                continue
            doc["expiry_warned"] = marker
            if self._save(name, raw, doc) is None:
                continue  # another node got there first
            event = {
                "event": "secret_expired" if expired else "secret_expiring",
                "secret": name,
                "expires": expires,
            }
            self._notify(doc, event)
            sent.append(event)
        return sent


def _granted(name: str) -> Grant:
    """The engine's grant on the secret ``ns/path`` it rotates (or a rotator reads)."""
    namespace, _, path = name.partition("/")
    return system_grant(namespace, path, "the rotation engine")
