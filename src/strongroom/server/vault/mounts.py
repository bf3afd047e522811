"""Vault's ``sys/mounts`` and ``sys/auth``: secrets engines (a KV mount is a namespace) and auth
methods, enabled, disabled, tuned and listed as Vault does."""

from __future__ import annotations

import contextlib
from typing import Any

from strongroom import __version__
from strongroom.auth.mount_tuning import MountTuning, TuneRequest
from strongroom.errors import BadRequest, Conflict, NotFound
from strongroom.server.bodies import text
from strongroom.server.routes import Answer, Call
from strongroom.server.vault.wire import envelope
from strongroom.service.auth_methods import AUTH_TYPES, MAX_DESCRIPTION, AuthMethod
from strongroom.types import NamespaceInfo

__all__ = [
    "disable_auth",
    "disable_mount",
    "enable_auth",
    "enable_mount",
    "list_auth",
    "list_mounts",
    "mount_entry",
    "preflight",
    "read_auth_tune",
    "read_tune",
    "top_and_data",
    "write_auth_tune",
    "write_tune",
]


# -- mounts
_KV_VERSIONS = {"kv-v2": "2", "kv-v1": "1"}


def mount_entry(info: NamespaceInfo) -> dict[str, Any]:
    version = _KV_VERSIONS.get(info.kind)
    return {
        "type": "kv" if version else info.kind,
        "description": info.description,
        "accessor": f"{'kv' if version else info.kind}_{info.name}",
        "config": {
            "default_lease_ttl": info.default_lease_ttl,
            "max_lease_ttl": info.max_lease_ttl,
            "force_no_cache": False,
        },
        "options": {"version": version} if version else None,
        "local": False,
        "seal_wrap": False,
        "external_entropy_access": False,
        "plugin_version": "",
        "running_plugin_version": f"v{__version__}+builtin.strongroom",
        "uuid": "",
    }


def top_and_data(call: Call, entries: dict[str, Any]) -> Answer:
    """Vault puts mount maps at the top level and under ``data``; clients read either."""
    answer = envelope(call, entries)
    answer.doc = {**entries, **answer.doc}
    return answer


def list_mounts(call: Call) -> Answer:
    call.identity.require("read", "sys/mounts")  # Vault's rule; the native API filters instead
    found = call.services.namespaces.list_namespaces(call.identity)
    return top_and_data(call, {f"{info.name}/": mount_entry(info) for info in found})


def _mount_name(call: Call) -> str:
    name = call.params["path"].strip("/")
    if not name or "/" in name:
        raise BadRequest("a mount path is one segment, such as 'secret'")
    return name


def enable_mount(call: Call) -> Answer:
    name = _mount_name(call)
    doc = call.json()
    kind = doc.get("type")
    options = doc.get("options") or {}
    if not isinstance(options, dict):
        raise BadRequest("options must be an object")
    if kind == "generic":  # Vault's first name for KV version 1, still accepted
        kind = "kv"
    version = str(options.get("version", "1" if kind == "kv" else ""))
    if kind == "kv" and version not in ("1", "2"):
        raise BadRequest(f"KV has versions 1 and 2, not {version!r}: send options.version")
    if kind not in ("kv", "kv-v2", "transit"):
        raise BadRequest(
            f"unsupported mount type {kind!r}: strongroom mounts kv (versions 1 and 2) and transit"
        )
    description = doc.get("description") or ""
    services = call.services
    chosen = "transit" if kind == "transit" else "kv-v1" if version == "1" else "kv-v2"
    try:
        services.namespaces.create(call.identity, name, kind=chosen, description=description)
    except Conflict:
        raise BadRequest(f"path is already in use at {name}/") from None
    return Answer.empty()


def disable_mount(call: Call) -> Answer:
    """Deletes the mount's data and destroys its keyring, as Vault wipes an unmounted path."""
    name = _mount_name(call)
    with contextlib.suppress(NotFound):  # Vault answers 204 for a path with nothing mounted
        call.services.namespaces.delete(call.identity, name)
    return Answer.empty()


def _effective_ttls(default: float, maximum: float) -> dict[str, Any]:
    """A tune read shows the TTLs in force: the system's 768h where none was tuned."""
    tuning = MountTuning(default, maximum)
    return {
        "default_lease_ttl": int(tuning.default_ttl),
        "max_lease_ttl": int(tuning.max_ttl),
        "force_no_cache": False,
    }


def read_tune(call: Call) -> Answer:
    info = call.services.namespaces.tuning(call.identity, _mount_name(call))
    return top_and_data(
        call,
        {
            **_effective_ttls(info.default_lease_ttl, info.max_lease_ttl),
            "description": info.description,
            "options": mount_entry(info)["options"],
        },
    )


def _tune_request(doc: dict[str, Any]) -> TuneRequest:
    for unsupported in ("audit_non_hmac_request_keys", "audit_non_hmac_response_keys"):
        if doc.get(unsupported):
            raise BadRequest(f"{unsupported} is not supported: strongroom HMACs every value")
    return TuneRequest.parse(doc)


def write_tune(call: Call) -> Answer:
    name = _mount_name(call)
    info = call.services.namespaces.tuning(call.identity, name, "update")
    doc = call.json()
    request = _tune_request(doc)
    options = doc.get("options") or {}
    if not isinstance(options, dict):
        raise BadRequest("options must be an object")
    wanted = str(options.get("version", ""))
    current = _KV_VERSIONS.get(info.kind)
    upgrade = bool(wanted and current and wanted != current)
    if upgrade and wanted != "2":
        raise BadRequest("cannot downgrade mount from version 2")
    if request != TuneRequest():
        call.services.namespaces.tune(call.identity, name, request)
    if upgrade:
        call.services.namespaces.upgrade_to_version_2(call.identity, name)
        # Vault upgrades in the background; strongroom's secrets already are versioned: done.
        return envelope(
            call,
            warnings=[
                "Upgrading mount from version 1 to version 2. This mount will be unavailable "
                "for a brief period and will resume service shortly."
            ],
        )
    return Answer.empty()


def preflight(call: Call) -> Answer:
    """The CLI's KV preflight: which mount holds this path, and which KV version it is. Answered
    to a caller who may do something under the mount; otherwise Vault's 400 ("preflight
    capability check returned 403")."""
    name = call.params.get("path", "").strip("/").split("/", 1)[0]
    info = call.services.namespaces.preflight(call.identity, name)
    return envelope(call, {"path": f"{name}/", **mount_entry(info)})


# -- auth methods
def _auth_entry(method: AuthMethod) -> dict[str, Any]:
    return {
        "type": method.kind,
        "description": method.description,
        "accessor": method.accessor,
        "config": {
            "default_lease_ttl": int(method.tuning.default_lease_ttl),
            "max_lease_ttl": int(method.tuning.max_lease_ttl),
            "force_no_cache": False,
            "token_type": "default-service",
        },
        "options": None,
        "local": False,
        "seal_wrap": False,
        "external_entropy_access": False,
        "plugin_version": "",
        "uuid": "",
    }


def list_auth(call: Call) -> Answer:
    methods = call.services.auth_methods.list_methods(call.identity)
    return top_and_data(call, {f"{m.path}/": _auth_entry(m) for m in methods})


def enable_auth(call: Call) -> Answer:
    doc = call.json()
    kind = text(doc, "type", f"type: an auth method's type is required ({', '.join(AUTH_TYPES)})")
    described = doc.get("description") or ""
    if not isinstance(described, str):
        raise BadRequest(f"description is text of at most {MAX_DESCRIPTION} characters")
    call.services.auth_methods.enable(call.identity, call.params["path"], kind, described)
    return Answer.empty()


def disable_auth(call: Call) -> Answer:
    call.services.auth_methods.disable(call.identity, call.params["path"])
    return Answer.empty()


def read_auth_tune(call: Call) -> Answer:
    method = call.services.auth_methods.read_tune(call.identity, call.params["path"])
    tuning = method.tuning
    return top_and_data(
        call,
        {
            **_effective_ttls(tuning.default_lease_ttl, tuning.max_lease_ttl),
            "description": method.description,
            "token_type": "default-service",
        },
    )


def write_auth_tune(call: Call) -> Answer:
    request = _tune_request(call.json())
    call.services.auth_methods.write_tune(call.identity, call.params["path"], request)
    return Answer.empty()
