"""Namespaces (the isolation unit, a Vault mount) and their keys: rotate, rewrap, status."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Collection, Mapping
from typing import TypedDict, cast

from strongroom.auth import Identity
from strongroom.auth.authenticators import NotRemembered
from strongroom.auth.mount_tuning import MountTunings, TuneRequest, secrets_mount_key
from strongroom.clock import Clock
from strongroom.errors import BadRequest, Conflict, NoSuchNamespace, NotFound
from strongroom.keyproviders.provider import KeyProvider, RotatableKeyProvider
from strongroom.keyproviders.registry import configured_provider
from strongroom.keyproviders.root import RootKey
from strongroom.keys import Keyrings
from strongroom.keys.term import term_ref
from strongroom.limits import Limits
from strongroom.paths import check_namespace
from strongroom.results import RootKeyRotation
from strongroom.service.kv_config import kv_configs
from strongroom.service.named_keys import NamedKeyStore
from strongroom.service.secret_core import encoded_version_context
from strongroom.store.protocol import Store
from strongroom.store.records import Records
from strongroom.types import KeyTermStatus, NamespaceInfo, RewrapProgress, time_of

__all__ = [
    "AWS_PREFIX",
    "KINDS",
    "MAX_DESCRIPTION_CHARS",
    "MAX_OPTIONS",
    "MAX_OPTION_CHARS",
    "MAX_REWRAP_BATCH",
    "SYSTEM_KINDS",
    "NamespaceService",
]

_NAMESPACE_KIND = "namespace"
_REWRAP_KIND = "rewrap-cursor"
MAX_REWRAP_BATCH = 5000
_WORK_SLICE = 0.0005  # seconds of rewrap work between two chances to pause


KINDS = ("kv-v2", "kv-v1", "transit")  # what callers may create (kv-v1: the Vault API only)
SYSTEM_KINDS = ("aws-kms",)  # made by the AWS surface, one per region, on first use
AWS_PREFIX = "aws-"
MAX_DESCRIPTION_CHARS = 1024
MAX_OPTIONS = 16
MAX_OPTION_CHARS = 256


class _Mount(TypedDict, total=False):
    """A namespace's record: when it was made, the kind it mounts, Vault's mount fields."""

    created: float
    kind: str  # absent: kv-v2, as namespaces made before kinds were
    description: str
    options: dict[str, str]


def _decode_mount(raw: bytes) -> _Mount:
    return cast(_Mount, json.loads(raw))


def _encode_mount(mount: _Mount) -> bytes:
    return json.dumps(mount).encode()  # as Records.of_json wrote it


def _settings(
    kind: object,
    description: object,
    options: object,
    provider: object,
    providers: Collection[str],
) -> _Mount:
    """A namespace's settings, checked: a precise 400 for each bad one."""
    if kind not in KINDS:
        raise BadRequest(f"unknown namespace kind {kind!r}; use one of: {', '.join(KINDS)}")
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION_CHARS:
        raise BadRequest(f"description is a string of at most {MAX_DESCRIPTION_CHARS} characters")
    if (
        not isinstance(options, Mapping)
        or len(options) > MAX_OPTIONS
        or not all(
            isinstance(k, str)
            and isinstance(v, str)
            and 0 < len(k) <= MAX_OPTION_CHARS
            and len(v) <= MAX_OPTION_CHARS
            for k, v in options.items()
        )
    ):
        raise BadRequest(
            f"options is an object of at most {MAX_OPTIONS} string values, keys and values of "
            f"at most {MAX_OPTION_CHARS} characters"
        )
    if not isinstance(provider, str) or (provider and provider not in providers):
        known = ", ".join(sorted(providers)) or "none"
        raise BadRequest(
            f"no key provider named {provider!r}; this server was started with: {known} "
            "(--key-provider NAME=URI)"
        )
    doc: _Mount = {"kind": str(kind)}
    if description:
        doc["description"] = description
    if options:
        doc["options"] = dict(options)
    return doc


def _may_mount(identity: Identity, capability: str, name: str) -> bool:
    """strongroom's ``sys/namespaces/<ns>`` or Vault's ``sys/mounts/<ns>``: a namespace is a
    mount, so either policy path governs it."""
    return identity.allows(capability, f"sys/namespaces/{name}") or identity.allows(
        capability, f"sys/mounts/{name}"
    )


def _require_mount(identity: Identity, capability: str, name: str) -> None:
    if not _may_mount(identity, capability, name):
        identity.require(capability, f"sys/namespaces/{name}")  # raises, naming the path


class NamespaceService:
    def __init__(
        self,
        store: Store,
        keyrings: Keyrings,
        clock: Clock,
        limits: Limits,
        providers: Mapping[str, str] | None = None,
        named_keys: NamedKeyStore | None = None,
    ) -> None:
        # Transit keys are sealed under their mount's keyring: a term they use is in use.
        self._named = named_keys or NamedKeyStore(store, keyrings)
        self._providers = dict(providers or {})  # the server's --key-provider NAME=URI flags
        self._store = store
        self._namespaces = Records(store, _NAMESPACE_KIND, _decode_mount, _encode_mount)
        self._cursors = Records.of_json(store, _REWRAP_KIND)  # a rewrap job's progress
        self._keyrings = keyrings
        self._clock = clock
        self._limits = limits
        self._tunings = MountTunings(store)
        self._kinds: dict[str, str | None] = {}  # a namespace's kind never changes while it lives

    def kind(self, name: str, *, may_read_store: bool = True) -> str | None:
        """The kind of a namespace (None: there is none), for the services that serve one kind
        only, for the rate limit quota a Vault request is counted against (as Vault finds a
        request's mount before its token) and for the Vault route that serves a path under it.
        No policy check: the services ask it after the caller's own check; the quota count and
        the route choice never show what it says. Without ``may_read_store``, NotRemembered
        where the store would be read."""
        known = self._kinds.get(name, "")
        if known != "":
            return known
        if not may_read_store:
            raise NotRemembered()
        doc = self._namespaces.get(name)
        found = None if doc is None else str(doc.get("kind", "kv-v2"))
        if len(self._kinds) >= 10_000:
            self._kinds.clear()
        self._kinds[name] = found
        return found

    def forget_kinds(self) -> None:
        """Another node created or deleted a namespace."""
        self._kinds.clear()

    def _info(self, name: str) -> NamespaceInfo:
        doc = self._namespaces.get(name)
        if doc is None:
            raise NotFound(
                f"no namespace {name!r}; create it with: strongroom namespace create {name}"
            )
        keyring = self._keyrings.get(name)
        tuning = self._tunings.of(secrets_mount_key(name))
        return NamespaceInfo(
            name,
            time_of(doc["created"]),
            keyring.provider_ref,
            keyring.active.number,
            doc.get("kind", "kv-v2"),
            doc.get("description", "") if tuning.description is None else tuning.description,
            doc.get("options", {}),
            keyring.provider,
            int(tuning.default_lease_ttl),
            int(tuning.max_lease_ttl),
        )

    def tune(self, identity: Identity, name: str, request: TuneRequest) -> NamespaceInfo:
        """Vault's mount tune: the lease TTLs (what KV version 1 reads report) and description."""
        check_namespace(name, self._limits)
        identity.require("update", f"sys/mounts/{name}/tune")
        self._info(name)  # a 404 for a mount that does not exist, before anything is written
        self._tunings.tune(secrets_mount_key(name), request)
        return self._info(name)

    def create(
        self,
        identity: Identity,
        name: str,
        *,
        kind: str = "kv-v2",
        description: str = "",
        options: Mapping[str, str] | None = None,
        provider: str = "",
    ) -> NamespaceInfo:
        """A namespace with a fresh keyring, wrapped by the root key or, with ``provider``, by a
        key provider the server was started with (``--key-provider NAME=URI``)."""
        check_namespace(name, self._limits)
        _require_mount(identity, "create", name)
        settings = _settings(kind, description, options or {}, provider, self._providers)
        if name.startswith(AWS_PREFIX):
            raise BadRequest(
                f"namespace names beginning with {AWS_PREFIX!r} are kept for the AWS API's "
                "regions (docs/compat-aws.md)"
            )
        return self._make(name, settings, provider)

    def _make(self, name: str, settings: _Mount, provider: str) -> NamespaceInfo:
        if self._namespaces.get(name) is not None:
            raise Conflict(f"namespace {name!r} already exists")
        if not self._keyrings.exists(name):
            self._keyrings.create(name, provider)
        made = settings.copy()
        made["created"] = self._clock.now()
        if not self._namespaces.create(name, made):
            raise Conflict(f"namespace {name!r} already exists")
        self._kinds.pop(name, None)
        return self._info(name)

    def ensure(self, name: str, kind: str = "kv-v2") -> None:
        """Create a namespace if it does not exist: dev mode's ``secret`` at startup, an AWS
        region's ``aws-kms-<region>`` on its first key (a kind no caller may create)."""
        if self._namespaces.get(name) is None:
            if kind not in (*KINDS, *SYSTEM_KINDS):
                raise BadRequest(f"unknown namespace kind {kind!r}")
            check_namespace(name, self._limits)
            with contextlib.suppress(Conflict):  # made meanwhile by another request or node
                self._make(name, {"kind": kind}, "")

    def get(self, identity: Identity, name: str) -> NamespaceInfo:
        check_namespace(name, self._limits)
        _require_mount(identity, "read", name)
        return self._info(name)

    def tuning(self, identity: Identity, name: str, capability: str = "read") -> NamespaceInfo:
        """A mount as its tune endpoint shows it (Vault's ``sys/mounts/<name>/tune``, whose own
        policy path governs it: ``read`` to read it, ``update`` before tuning it)."""
        check_namespace(name, self._limits)
        identity.require(capability, f"sys/mounts/{name}/tune")
        return self._info(name)

    def preflight(self, identity: Identity, name: str) -> NamespaceInfo:
        """Vault's KV preflight (which mount holds a path, and of which kind): answered to a
        caller who may do something under the mount, whatever it is; a 400 in Vault's words
        otherwise, as Vault answers it."""
        check_namespace(name, self._limits)
        if not identity.acl.grants_under(f"{name}/"):
            raise BadRequest(
                "preflight capability check returned 403, please ensure client's policies grant "
                f'access to path "{name}/"'
            )
        return self._info(name)

    def list_namespaces(self, identity: Identity) -> list[NamespaceInfo]:
        names = self._namespaces.names()
        every = identity.allows("read", "sys/mounts")  # Vault's list of mounts
        return [self._info(n) for n in names if every or _may_mount(identity, "read", n)]

    def delete(self, identity: Identity, name: str) -> None:
        """Crypto-shredding: the keyring is destroyed first, then the (now unreadable) data."""
        check_namespace(name, self._limits)
        _require_mount(identity, "delete", name)
        if self._namespaces.get(name) is None:
            raise NotFound(f"no namespace {name!r}")
        self._keyrings.destroy(name)
        self._store.delete_namespace_data(name)
        self._cursors.delete(name)
        kv_configs(self._store).delete(name)
        self._tunings.forget(secrets_mount_key(name))
        self._named.delete_mount(name)
        self._namespaces.delete(name)
        self._kinds.pop(name, None)

    def upgrade_to_version_2(self, identity: Identity, name: str) -> bool:
        """A KV version 1 mount becomes version 2 (Vault's ``kv enable-versioning``): its secrets
        stay, and from now on version 2's policy paths govern them. False when it already was
        version 2; a 400 for any other kind."""
        check_namespace(name, self._limits)
        if not identity.allows("update", f"sys/mounts/{name}/tune"):
            _require_mount(identity, "update", name)
        upgraded = False

        def upgrade(doc: _Mount | None) -> _Mount:
            nonlocal upgraded
            if doc is None:
                raise NoSuchNamespace(f"no namespace {name!r}")
            kind = doc.get("kind", "kv-v2")
            upgraded = kind == "kv-v1"
            if kind not in ("kv-v1", "kv-v2"):
                raise BadRequest(f"{name} is a {kind} mount, not KV: it has no versions")
            if not upgraded:
                return doc
            changed = doc.copy()
            changed["kind"] = "kv-v2"
            return changed

        self._namespaces.change(name, upgrade)
        if upgraded:
            self._kinds.pop(name, None)
            self._store.publish("keyring", name)  # every node forgets the old kind
        return upgraded

    # -- keys
    def rotate(self, identity: Identity, name: str) -> NamespaceInfo:
        check_namespace(name, self._limits)
        identity.require("update", f"sys/namespaces/{name}/keys")
        self._info(name)
        self._keyrings.rotate(name)
        return self._info(name)

    def retire(self, identity: Identity, name: str, number: int) -> NamespaceInfo:
        check_namespace(name, self._limits)
        identity.require("update", f"sys/namespaces/{name}/keys")
        self._info(name)
        ref = term_ref(name, number)
        keys = self._named.terms_in_use(name).get(ref, 0)
        if keys:
            raise Conflict(
                f"{keys} Transit keys still use term {number}; run: strongroom keys rewrap {name}"
            )
        self._keyrings.retire(name, number)
        return self._info(name)

    def move(self, identity: Identity, name: str, to: str) -> NamespaceInfo:
        """Wrap a namespace's keyring under another key provider of the server's: ``to`` is a
        ``--key-provider`` name, that provider's exact URI, or ``root`` (the seal's root key).
        Only configured providers: a caller who could pass any URI would choose where the
        server connects and to whom it hands the keyring. Needs sudo on the namespace's keys."""
        check_namespace(name, self._limits)
        identity.require("sudo", f"sys/namespaces/{name}/keys")
        self._info(name)
        self._keyrings.move(name, self._provider_name(to))
        return self._info(name)

    def _provider_name(self, to: object) -> str:
        return configured_provider(to, self._providers, allow_root=True)

    def rotate_root(
        self, identity: Identity, provider: KeyProvider | None = None, *, name: str = ""
    ) -> RootKeyRotation:
        """A new root key version (of the seal's provider, or of the ``--key-provider`` called
        ``name``), then every keyring re-wrapped under its provider's newest version (not the
        data)."""
        identity.require("sudo", "sys/kms/rotate-root")
        if name:
            self._provider_name(name)  # a configured one, or a precise 400
        provider = provider or self._keyrings.provider_for(name)
        if isinstance(provider, RootKey):
            provider = provider.current
        if not isinstance(provider, RotatableKeyProvider):
            raise BadRequest(
                "this key provider rotates its root key itself; strongroom re-wraps the "
                "keyrings when you run: strongroom keys rotate-root --rewrap-only"
            )
        version = provider.rotate()
        return RootKeyRotation(self._keyrings.rewrap_under_root(), version)

    def rewrap_root(self, identity: Identity) -> RootKeyRotation:
        identity.require("sudo", "sys/kms/rotate-root")
        return RootKeyRotation(self._keyrings.rewrap_under_root())

    def status(self, identity: Identity, name: str) -> list[KeyTermStatus]:
        check_namespace(name, self._limits)
        identity.require("read", f"sys/namespaces/{name}/keys")
        self._info(name)
        named = self._named.terms_in_use(name)  # a Transit mount's keys use its terms too
        return [
            KeyTermStatus(
                s.number,
                s.key_ref,
                time_of(s.created),
                s.active,
                s.encryptions,
                s.versions_in_use + named.get(s.key_ref, 0),
            )
            for s in self._keyrings.status(name)
        ]

    def _remaining(self, name: str, active_ref: str) -> int:
        counts = self._store.count_by_key_ref(name)
        for ref, n in self._named.terms_in_use(name).items():
            counts[ref] = counts.get(ref, 0) + n
        return sum(n for ref, n in counts.items() if ref != active_ref)

    def rewrap(
        self,
        identity: Identity,
        name: str,
        *,
        batch_size: int = 500,
        pause: Callable[[], None] | None = None,
    ) -> RewrapProgress:
        """Re-seal one batch of versions under the active term. Call until ``done``; the cursor
        is kept in the store, so an interrupted job resumes where it stopped. ``pause`` is
        called after every half millisecond of work (the server passes one that yields the GIL to
        waiting requests)."""
        check_namespace(name, self._limits)
        identity.require("update", f"sys/namespaces/{name}/keys")
        self._info(name)
        if not 1 <= batch_size <= MAX_REWRAP_BATCH:
            raise BadRequest(f"batch_size must be 1-{MAX_REWRAP_BATCH}")
        active = self._keyrings.get(name, reload=True).active
        saved = self._cursors.get(name)
        cursor: tuple[str, int] = ("", 0)
        left: int | None = None
        if saved is not None and saved["key_ref"] == active.key_ref:
            cursor = (saved["path"], int(saved["version"]))
            left = saved.get("left")
        if left is None:  # counted once per job, not per batch: a count scans the namespace
            left = self._remaining(name, active.key_ref)
            # A mount's Transit keys are few: all re-sealed when a job starts.
            left -= self._named.reseal(name, active.key_ref)
        batch = self._store.scan_versions_not_under(name, active.key_ref, cursor, batch_size)
        resealed = []
        slice_started = time.perf_counter()
        for record in batch:
            if pause is not None and time.perf_counter() - slice_started >= _WORK_SLICE:
                pause()  # the server lets waiting requests have the GIL (server/gauge.py)
                slice_started = time.perf_counter()
            assert record.envelope is not None
            encoded = encoded_version_context(name, record.path, record.version)
            fresh, key_ref = self._keyrings.rewrap_envelope(name, record.envelope, encoded)
            resealed.append((record, fresh, key_ref))
            cursor = (record.path, record.version)
        # One transaction per batch; a version written meanwhile keeps its new envelope.
        done = self._store.replace_envelopes(resealed) if resealed else 0
        finished = len(batch) < batch_size
        if finished:
            self._cursors.delete(name)
            remaining = self._remaining(name, active.key_ref)
        else:
            remaining = max(0, left - len(batch))
            doc = {"key_ref": active.key_ref, "path": cursor[0], "version": cursor[1]}
            self._cursors.put(name, {**doc, "left": remaining})
        return RewrapProgress(name, active.number, done, remaining, finished)
