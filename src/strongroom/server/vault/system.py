"""Vault's ``sys/`` API: health and seal, ACL policies, capabilities, tools and the audit
devices; mounts and auth methods are in mounts.py, and every ``sys/`` route is listed here."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import time
from collections.abc import Mapping
from typing import Any

from strongroom import __version__
from strongroom.errors import BadRequest
from strongroom.policy.parse import validate_policy_name
from strongroom.server.bodies import string_list, text
from strongroom.server.routes import Answer, Call, Route, parse_query_int
from strongroom.server.vault.audit_devices import (
    audit_hash,
    disable_audit,
    enable_audit,
    list_audit,
)
from strongroom.server.vault.fields import vault_int
from strongroom.server.vault.mounts import (
    disable_auth,
    disable_mount,
    enable_auth,
    enable_mount,
    list_auth,
    list_mounts,
    preflight,
    read_auth_tune,
    read_tune,
    write_auth_tune,
    write_tune,
)
from strongroom.server.vault.wire import envelope, list_answer, writes
from strongroom.service.admin import PATHS_PROBLEM, POLICIES, POLICY_TEXT
from strongroom.service.seal import NONCE_PROBLEM, SHARE_PROBLEM, SealStatus
from strongroom.types import format_time

__all__ = [
    "CLUSTER_NAME",
    "SYSTEM_ROUTES",
    "capabilities_other",
    "capabilities_self",
    "delete_acl_policy",
    "ha_status",
    "hash_answer",
    "health",
    "init_status",
    "initialize",
    "leader",
    "list_acl_policies",
    "list_legacy_policies",
    "random_answer",
    "read_acl_policy",
    "read_legacy_policy",
    "seal",
    "seal_status",
    "step_down",
    "tools_hash",
    "tools_random",
    "unseal",
    "write_acl_policy",
]


CLUSTER_NAME = "strongroom"


_MAX_RANDOM_BYTES = 128 * 1024


_HASHES = {
    "sha2-224": "sha224",
    "sha2-256": "sha256",
    "sha2-384": "sha384",
    "sha2-512": "sha512",
    "sha3-224": "sha3_224",
    "sha3-256": "sha3_256",
    "sha3-384": "sha3_384",
    "sha3-512": "sha3_512",
}


# -- health and seal
def _seal_status(call: Call, status: SealStatus | None = None) -> dict[str, Any]:
    status = status or call.seal.status()
    return {
        "type": status.type,
        "initialized": status.initialized,
        "sealed": status.sealed,
        "t": status.threshold,
        "n": status.shares,
        "progress": status.progress,
        "nonce": status.nonce,
        "version": __version__,
        "build_date": "",
        "migration": False,
        "recovery_seal": False,
        "storage_type": "strongroom",
        "cluster_name": CLUSTER_NAME,
        "cluster_id": "",
    }


def health(call: Call) -> Answer:
    """Unauthenticated, unaudited, answered sealed too; the status code is the answer. From the
    node's memory alone, on the event loop: it answers at once, loaded or not. A node that is
    unsealed but not serving (reconnecting to the database) answers as a sealed one does."""
    status = call.seal.health()
    query = call.query

    def code(name: str, default: int) -> int:
        raw = query.get(name)
        return parse_query_int(raw, name) if raw else default

    if not status.initialized:
        answer_code = code("uninitcode", 501)
    elif status.sealed or not status.serving:
        answer_code = code("sealedcode", 503)
    else:
        answer_code = code("activecode", 200)
    if not 100 <= answer_code <= 599:
        raise BadRequest("status codes are from 100 to 599")
    doc = {
        "initialized": status.initialized,
        "sealed": status.sealed,
        "standby": False,
        "performance_standby": False,
        "replication_performance_mode": "disabled",
        "replication_dr_mode": "disabled",
        "server_time_utc": int(time.time()),
        "version": __version__,
        "cluster_name": CLUSTER_NAME,
        "cluster_id": "",
    }
    return Answer(doc, status=answer_code)


def seal_status(call: Call) -> Answer:
    return Answer(_seal_status(call))


def init_status(call: Call) -> Answer:
    return Answer({"initialized": call.seal.status().initialized})


def initialize(call: Call) -> Answer:
    doc = call.json()
    shares = vault_int(doc, "secret_shares") or 1
    threshold = vault_int(doc, "secret_threshold") or 1
    keys, token = call.seal.initialize(shares, threshold)
    return Answer({"keys": keys, "keys_base64": keys, "root_token": token})


def unseal(call: Call) -> Answer:
    """Vault has one unseal progress; strongroom one per attempt, so that nobody can spoil
    another's (seal/progress.py). A share sent without a nonce, as Vault's clients send them,
    joins the newest attempt started from the same address; operators elsewhere pass its nonce."""
    doc = call.json()
    nonce = text(doc, "nonce", NONCE_PROBLEM, "") or call.seal.latest_attempt(call.address)
    if doc.get("reset") is True:
        return Answer(_seal_status(call))
    status = call.seal.unseal(text(doc, "key", SHARE_PROBLEM), nonce, call.address)
    return Answer(_seal_status(call, status))


def seal(call: Call) -> Answer:
    call.seal.seal(call.identity)
    return Answer.empty()


def step_down(call: Call) -> Answer:
    call.seal.step_down(call.identity)
    return Answer.empty()


def ha_status(call: Call) -> Answer:
    """Vault's sys/ha-status: every node heard from in the last seconds. Every node is active
    (each serves every request); ``active_node`` marks the scheduler's leader."""
    nodes = call.seal.nodes(call.identity)
    return Answer(
        {
            "nodes": [
                {
                    "hostname": node.name,
                    "api_address": node.api_address,
                    "cluster_address": "",
                    "active_node": node.leader,
                    "last_echo": format_time(node.last_seen),
                    "version": __version__,
                }
                for node in nodes
            ]
        }
    )


def leader(call: Call) -> Answer:
    """Every node serves every request; the leader is the node that runs the scheduler (one at
    a time across nodes on PostgreSQL: ha_enabled)."""
    health = call.seal.health()
    return Answer(
        {
            "ha_enabled": health.shared,
            "is_self": health.leader or not health.shared,
            "active_time": "0001-01-01T00:00:00Z",
            "leader_address": "",
            "leader_cluster_address": "",
            "performance_standby": False,
            "performance_standby_last_remote_wal": 0,
        }
    )


# -- policies
def _policy_name(call: Call) -> str:
    """Vault lower-cases a policy's name on every policy route (``MixedCase`` is
    ``mixedcase``); the name must then be one strongroom takes (policy/parse.py)."""
    return call.params["name"].lower()


def _under(call: Call) -> str:
    """The policy path a policy route is checked on: Vault checks each route's own, so the older
    ``sys/policy`` routes are governed by ``sys/policy/<name>``."""
    legacy = call.path == f"{_Y}/policy" or call.path.startswith(f"{_Y}/policy/")
    return "sys/policy" if legacy else POLICIES


def list_acl_policies(call: Call) -> Answer:
    return list_answer(call, call.services.admin.list_policies(call.identity))


def read_acl_policy(call: Call) -> Answer:
    policy = call.services.admin.read_policy(call.identity, _policy_name(call), under=_under(call))
    return envelope(call, {"name": policy.name, "policy": policy.text})


def write_acl_policy(call: Call) -> Answer:
    doc = call.json()
    field = "policy" if "policy" in doc else "rules"  # Vault's older name
    policy = text(doc, field, POLICY_TEXT)
    call.services.admin.write_policy(call.identity, _policy_name(call), policy, under=_under(call))
    return Answer.empty()


def delete_acl_policy(call: Call) -> Answer:
    name = _policy_name(call)
    try:
        call.services.admin.delete_policy(call.identity, name, under=_under(call))
    except BadRequest:
        try:
            validate_policy_name(name)
        except BadRequest:  # a name no policy can have (the caller may delete it): Vault's 204
            return Answer.empty()
        raise
    return Answer.empty()


def list_legacy_policies(call: Call) -> Answer:
    names = call.services.admin.list_policies(
        call.identity, under=_under(call), reading=call.method == "GET"
    )
    if "root" not in names:
        names = [*names, "root"]
    answer = envelope(call, {"keys": names, "policies": names})
    answer.doc = {"keys": names, "policies": names, **answer.doc}
    return answer


def read_legacy_policy(call: Call) -> Answer:
    policy = call.services.admin.read_policy(call.identity, _policy_name(call), under=_under(call))
    body = {"name": policy.name, "rules": policy.text}
    answer = envelope(call, body)
    answer.doc = {**body, **answer.doc}
    return answer


# -- capabilities
def _paths(doc: dict[str, Any]) -> list[str]:
    paths = doc.get("paths", doc.get("path"))
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list) or not paths:
        raise BadRequest("paths: name at least one path")
    return string_list({"paths": paths}, "paths", PATHS_PROBLEM)


def _capabilities_answer(call: Call, result: Mapping[str, list[str]]) -> Answer:
    body: dict[str, Any] = dict(result)
    if len(result) == 1:
        body["capabilities"] = next(iter(result.values()))
    answer = envelope(call, body)
    answer.doc = {**body, **answer.doc}
    return answer


def capabilities_self(call: Call) -> Answer:
    result = call.services.admin.capabilities(call.identity, _paths(call.json()))
    return _capabilities_answer(call, result)


def capabilities_other(call: Call) -> Answer:
    doc = call.json()
    who = call.services.tokens.identity_of(call.identity, doc.get("token"), doc.get("accessor"))
    result = call.services.admin.capabilities(who, _paths(doc), checked=True)
    return _capabilities_answer(call, result)


# -- tools
def _format(doc: dict[str, Any], default: str = "base64") -> str:
    chosen = doc.get("format") or default
    if chosen not in ("base64", "hex"):
        raise BadRequest('format must be "base64" or "hex"')
    return str(chosen)


def _encode(raw: bytes, chosen: str) -> str:
    return raw.hex() if chosen == "hex" else base64.b64encode(raw).decode()


def tools_random(call: Call) -> Answer:
    call.services.admin.use_tool(call.identity, call.path.removeprefix("/v1/"))
    return random_answer(call)


def tools_hash(call: Call) -> Answer:
    call.services.admin.use_tool(call.identity, call.path.removeprefix("/v1/"))
    return hash_answer(call)


def random_answer(call: Call) -> Answer:
    """Random bytes (sys/tools/random and Transit's random), once the caller was checked."""
    doc = call.json()
    raw_count = call.params.get("bytes") or doc.get("bytes", 32)
    if isinstance(raw_count, str):
        raw_count = parse_query_int(raw_count, "bytes")
    if isinstance(raw_count, bool) or not isinstance(raw_count, int):
        raise BadRequest("bytes must be an integer")
    if raw_count >= _MAX_RANDOM_BYTES:
        raise BadRequest(f"'bytes' should be less than {_MAX_RANDOM_BYTES}")
    if raw_count < 1:
        raise BadRequest("'bytes' must be positive")
    return envelope(call, {"random_bytes": _encode(os.urandom(raw_count), _format(doc))})


def hash_answer(call: Call) -> Answer:
    """A digest (sys/tools/hash and Transit's hash), once the caller was checked."""
    doc = call.json()
    algorithm = call.params.get("algorithm") or doc.get("algorithm", "sha2-256")
    if not isinstance(algorithm, str) or algorithm not in _HASHES:
        raise BadRequest(f"unsupported algorithm {algorithm}")
    raw = doc.get("input")
    if not isinstance(raw, str):
        raise BadRequest("missing input to process")
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("unable to decode input as base64") from None
    digest = hashlib.new(_HASHES[algorithm], data).digest()
    return envelope(call, {"sum": _encode(digest, _format(doc, "hex"))})


# -- audit devices


_OPEN: dict[str, Any] = {"public": True, "open_while_sealed": True}
_Y = "/v1/sys"


SYSTEM_ROUTES = (
    Route(
        "GET",
        f"{_Y}/health",
        health,
        "sysHealth",
        query=tuple(
            {"name": name, "in": "query", "schema": {"type": "integer"}}
            for name in ("activecode", "sealedcode", "uninitcode")
        ),
        public=True,
        audited=False,
        fast=True,
    ),
    Route("GET", f"{_Y}/seal-status", seal_status, "sysSealStatus", **_OPEN),
    Route("GET", f"{_Y}/init", init_status, "sysInitStatus", **_OPEN),
    *writes(f"{_Y}/init", initialize, "sysInit", **_OPEN),
    *writes(f"{_Y}/unseal", unseal, "sysUnseal", **_OPEN),
    *writes(f"{_Y}/seal", seal, "sysSeal"),
    *writes(f"{_Y}/step-down", step_down, "sysStepDown"),
    Route("GET", f"{_Y}/leader", leader, "sysLeader", public=True),
    Route("GET", f"{_Y}/ha-status", ha_status, "sysHaStatus"),
    Route("GET", f"{_Y}/mounts", list_mounts, "sysListMounts"),
    Route("GET", f"{_Y}/mounts/{{path:path}}/tune", read_tune, "sysReadMountTune"),
    *writes(f"{_Y}/mounts/{{path:path}}/tune", write_tune, "sysTuneMount"),
    *writes(f"{_Y}/mounts/{{path:path}}", enable_mount, "sysEnableMount"),
    Route("DELETE", f"{_Y}/mounts/{{path:path}}", disable_mount, "sysDisableMount"),
    Route("GET", f"{_Y}/internal/ui/mounts/{{path:path}}", preflight, "sysPreflight"),
    Route("GET", f"{_Y}/mounts-all/{{path:path}}", preflight, "sysMountsAll"),
    Route("GET", f"{_Y}/auth", list_auth, "sysListAuth"),
    Route("GET", f"{_Y}/auth/{{path:path}}/tune", read_auth_tune, "sysReadAuthTune"),
    *writes(f"{_Y}/auth/{{path:path}}/tune", write_auth_tune, "sysTuneAuth"),
    *writes(f"{_Y}/auth/{{path:path}}", enable_auth, "sysEnableAuth"),
    Route("DELETE", f"{_Y}/auth/{{path:path}}", disable_auth, "sysDisableAuth"),
    Route("LIST", f"{_Y}/policies/acl", list_acl_policies, "sysListPolicies"),
    Route("GET", f"{_Y}/policies/acl/{{name}}", read_acl_policy, "sysReadPolicy"),
    *writes(f"{_Y}/policies/acl/{{name}}", write_acl_policy, "sysWritePolicy"),
    Route("DELETE", f"{_Y}/policies/acl/{{name}}", delete_acl_policy, "sysDeletePolicy"),
    Route("GET", f"{_Y}/policy", list_legacy_policies, "sysListPoliciesLegacy"),
    Route("LIST", f"{_Y}/policy", list_legacy_policies, "sysListPoliciesLegacyList"),
    Route("GET", f"{_Y}/policy/{{name}}", read_legacy_policy, "sysReadPolicyLegacy"),
    *writes(f"{_Y}/policy/{{name}}", write_acl_policy, "sysWritePolicyLegacy"),
    Route("DELETE", f"{_Y}/policy/{{name}}", delete_acl_policy, "sysDeletePolicyLegacy"),
    *writes(f"{_Y}/capabilities-self", capabilities_self, "sysCapabilitiesSelf"),
    *writes(f"{_Y}/capabilities", capabilities_other, "sysCapabilities"),
    *writes(f"{_Y}/capabilities-accessor", capabilities_other, "sysCapabilitiesAccessor"),
    *writes(f"{_Y}/tools/random", tools_random, "sysToolsRandom"),
    *writes(f"{_Y}/tools/random/{{bytes}}", tools_random, "sysToolsRandomBytes"),
    *writes(f"{_Y}/tools/hash", tools_hash, "sysToolsHash"),
    *writes(f"{_Y}/tools/hash/{{algorithm}}", tools_hash, "sysToolsHashAlgorithm"),
    Route("GET", f"{_Y}/audit", list_audit, "sysListAudit"),
    *writes(f"{_Y}/audit-hash/{{path}}", audit_hash, "sysAuditHash"),
    *writes(f"{_Y}/audit/{{path}}", enable_audit, "sysEnableAudit"),
    Route("DELETE", f"{_Y}/audit/{{path}}", disable_audit, "sysDisableAudit"),
)
