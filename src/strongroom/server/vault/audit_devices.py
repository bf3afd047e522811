"""Vault's audit devices: ``sys/audit`` (list, enable, disable) and ``sys/audit-hash``."""

from __future__ import annotations

from strongroom.errors import BadRequest, NotFound
from strongroom.server.bodies import text
from strongroom.server.routes import Answer, Call
from strongroom.server.vault.mounts import (
    top_and_data,
)
from strongroom.server.vault.wire import envelope
from strongroom.service.admin import HASH_INPUT_PROBLEM

__all__ = ["audit_hash", "disable_audit", "enable_audit", "list_audit"]


# -- audit devices
def enable_audit(call: Call) -> Answer:
    """As OpenBao 2: audit devices are not enabled through this API. strongroom's own are, with
    the native API (``PUT /api/v1/sys/audit/<name>``, file sinks in the server's audit
    directory only) or the server's ``--audit-file``."""
    call.identity.require("sudo", f"sys/audit/{call.params['path']}")
    raise BadRequest(
        "cannot enable audit device via API; use declarative, config-based audit device "
        "management instead (strongroom: PUT /api/v1/sys/audit/<name> or --audit-file)"
    )


def disable_audit(call: Call) -> Answer:
    call.services.admin.disable_audit(call.identity, call.params["path"])
    return Answer.empty()


def list_audit(call: Call) -> Answer:
    sinks = call.services.admin.audit_sinks(call.identity)
    entries = {
        f"{sink.name}/": {
            "type": sink.type,
            "description": "",
            "options": {},
            "local": False,
            "path": f"{sink.name}/",
        }
        for sink in sinks
    }
    return top_and_data(call, entries)


def audit_hash(call: Call) -> Answer:
    """``sys/audit-hash/:path``: ``input`` as the device writes it (HMAC-SHA256 under its key);
    ``update`` on the path. A device that is not enabled is Vault's 400."""
    name = call.params["path"]
    try:
        value = text(call.json(), "input", HASH_INPUT_PROBLEM)
        digest = call.services.admin.audit_hash(call.identity, name, value)
    except NotFound:
        raise BadRequest(f"unknown audit backend {name}") from None
    return envelope(call, {"hash": digest})
