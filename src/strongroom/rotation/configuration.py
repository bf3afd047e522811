"""A rotated secret's settings: configure, remove, status, the list and cancel, in one record per
secret (kind ``rotation``, name ``ns/path``) that the engine (engine.py) also keeps its runs in."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from strongroom.audit.record import AuditRecord
from strongroom.auth import Identity
from strongroom.clock import Clock
from strongroom.egress import EgressPolicy, check_url
from strongroom.errors import BadRequest, Conflict, NotFound, RotationFailed
from strongroom.paths import check_namespace, check_path
from strongroom.policy.grants import system_grant
from strongroom.policy.kv import kv_data_path
from strongroom.results import RotationStatus
from strongroom.rotation.registry import RotatorRegistry
from strongroom.rotation.schedule import Schedule
from strongroom.service.staging import StagedVersions
from strongroom.store.protocol import Store
from strongroom.store.records import Records

__all__ = ["HISTORY", "RECORD_KIND", "RotationConfiguration", "safe_error"]

log = logging.getLogger("strongroom.rotation")

RECORD_KIND = "rotation"
HISTORY = 50
_MAX_PARAMS_BYTES = 16 * 1024


def safe_error(exc: Exception) -> str:
    """What a failure may say in history and logs: a rotator's own message, else the type."""
    if isinstance(exc, RotationFailed | BadRequest | NotFound | Conflict):
        return str(exc)[:300]
    return f"{type(exc).__name__} (details withheld; they may contain a secret)"


class RotationConfiguration:
    def __init__(
        self,
        store: Store,
        secrets_service: StagedVersions,
        clock: Clock,
        *,
        lease_seconds: float = 60.0,
        max_attempts: int = 3,
        audit: Callable[[AuditRecord, str], None] | None = None,
        notify: Callable[[dict[str, Any], dict[str, Any]], None] | None = None,
        node_id: str | None = None,
        egress: EgressPolicy | None = None,
        rotators: RotatorRegistry | None = None,
    ) -> None:
        self.egress = egress or EgressPolicy()
        self._rotators = rotators or RotatorRegistry()
        self._store = store
        self._records = Records(store, RECORD_KIND, json.loads, _encode)
        self._secrets = secrets_service
        self.clock = clock
        self._clock = clock
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self._audit = audit or (lambda record, run_token: None)
        self._notify = notify or (lambda doc, event: None)
        self.node_id = node_id or secrets.token_hex(8)
        self.counters: dict[str, int] = {"success": 0, "failed": 0, "rolled_back": 0}

    # -- records
    def _load(self, name: str) -> tuple[bytes | None, dict[str, Any] | None]:
        found: tuple[bytes | None, dict[str, Any] | None] = self._records.read(name)
        return found

    def _save(self, name: str, old: bytes | None, doc: dict[str, Any]) -> bytes | None:
        """Compare-and-set; returns the new raw value, or None when someone else wrote first."""
        return self._records.swap(name, old, doc)

    # -- settings
    def configure(
        self,
        identity: Identity,
        namespace: str,
        path: str,
        *,
        rotator: str,
        params: Mapping[str, Any] | None = None,
        interval: float | None = None,
        cron: str | None = None,
        expire_after: float | None = None,
        notify_url: str | None = None,
        notify_secret: str | None = None,
    ) -> RotationStatus:
        name = self._name(namespace, path)
        identity.require("update", f"sys/rotation/{name}")
        # A rotation writes the secret's new versions, and a rotator (a webhook) may send its
        # current value elsewhere: the configurer must be able to do both themselves.
        identity.require("update", kv_data_path(name))
        identity.require("read", kv_data_path(name))
        if not isinstance(params or {}, Mapping):
            raise BadRequest("params must be a JSON object")
        params = dict(params or {})
        if len(json.dumps(params)) > _MAX_PARAMS_BYTES:
            raise BadRequest(f"params are larger than {_MAX_PARAMS_BYTES} bytes")
        chosen = self._rotators.get(rotator)
        chosen.validate(params)
        # The rotator reads these as the server: the one configuring it must be able to read
        # them too, or a rotation would be a way to send any secret to a host of one's choice.
        for reference in [*chosen.references(params), *([notify_secret] if notify_secret else [])]:
            identity.require("read", kv_data_path(reference))
        # The caller was checked above; the engine's grant reads the secret's labels.
        if not self._secrets.labels(system_grant(namespace, path, "the rotation engine")):
            raise NotFound(
                f"no secret at {name}; write its first value (strongroom kv put {name} …), "
                "then configure its rotation"
            )
        schedule = Schedule(interval, cron)
        if expire_after is not None and expire_after <= 0:
            raise BadRequest("expire_after must be a positive duration")
        if notify_url is not None:
            check_url(notify_url, "notify_url")
        if (notify_url is None) != (notify_secret is None):
            raise BadRequest("notify_url needs notify_secret (ns/path of the signing key)")

        def configured(doc: dict[str, Any] | None) -> dict[str, Any]:
            doc = doc or {"history": [], "run": None, "last_rotated": None, "failures": 0}
            return {
                **doc,
                "rotator": rotator,
                "params": params,
                "schedule": schedule.to_json(),
                "expire_after": expire_after,
                "notify_url": notify_url,
                "notify_secret": notify_secret,
                "next_due": schedule.next_after(self._clock.now(), name),
            }

        saved = self._records.change(name, configured, attempts=10, gave_up=_settings_busy)
        return self._describe(name, saved)

    def remove(self, identity: Identity, namespace: str, path: str) -> None:
        name = self._name(namespace, path)
        identity.require("delete", f"sys/rotation/{name}")
        if not self._records.delete(name):
            raise NotFound(f"no rotation is configured for {name}")

    def status(self, identity: Identity, namespace: str, path: str) -> RotationStatus:
        name = self._name(namespace, path)
        identity.require("read", f"sys/rotation/{name}")
        _, doc = self._load(name)
        if doc is None:
            raise NotFound(f"no rotation is configured for {name}")
        return self._describe(name, doc)

    def configured(self, identity: Identity | None = None) -> list[RotationStatus]:
        """The configured rotations ``identity`` may see, without history; with no identity,
        all of them (the server's own use: metrics)."""
        found = []
        for name in sorted(self._records.names()):
            if identity is not None and not identity.can_see(f"sys/rotation/{name}"):
                continue
            _, doc = self._load(name)
            if doc is not None:
                found.append(self._describe(name, doc, history=False))
        return found

    def _describe(self, name: str, doc: dict[str, Any], history: bool = True) -> RotationStatus:
        namespace, _, path = name.partition("/")
        grant = system_grant(namespace, path, "the rotation engine")
        staged = self._secrets.labels(grant)
        labels = staged.labels if staged is not None else {}
        run = doc.get("run")
        described = {
            "namespace": namespace,
            "path": path,
            "rotator": doc["rotator"],
            "params": doc["params"],
            "schedule": doc["schedule"],
            "expire_after": doc.get("expire_after"),
            "notify_url": doc.get("notify_url"),
            "notify_secret": doc.get("notify_secret"),
            "next_due": doc["next_due"],
            "last_rotated": doc.get("last_rotated"),
            "failures": doc.get("failures", 0),
            "labels": labels,
            "in_progress": None
            if run is None
            else {k: run.get(k) for k in ("token", "step", "version", "attempts", "error")},
        }
        if history:
            described["history"] = list(doc.get("history", []))
        return RotationStatus.from_json(described)

    def _name(self, namespace: str, path: str) -> str:
        check_namespace(namespace, self._secrets.limits)
        check_path(path, self._secrets.limits)
        return f"{namespace}/{path}"


def _encode(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True).encode()


def _settings_busy() -> Conflict:
    return Conflict("the rotation settings changed concurrently; retry")
