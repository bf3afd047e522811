"""Vault's rate limit quotas (service/quotas.py): ``sys/quotas/rate-limit/:name``,
``sys/quotas/config``, and the check of every Vault API request against them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strongroom.durations import parse_duration
from strongroom.errors import BadRequest
from strongroom.server.routes import Answer, Call, Handler, Route
from strongroom.server.vault.wire import envelope, list_answer, writes
from strongroom.service.quotas import QuotaConfigChange, RateLimitQuota

__all__ = [
    "QUOTA_ROUTES",
    "config_change_of",
    "delete_quota",
    "list_quotas",
    "quota_of",
    "read_config",
    "read_quota",
    "with_quota",
    "write_config",
    "write_quota",
]


def with_quota(handler: Handler) -> Handler:
    """The route's handler, once the request is within the quota that covers its path (429
    otherwise: Vault's words, the wait in ``retry_after``)."""

    def quota_checked(call: Call) -> Answer:
        services = call.services_or_none  # None while sealed: no quotas to read
        if services is not None and not call.admitted:
            services.quotas.admit(call.wire_path.removeprefix("/v1/").strip("/"), call.address)
            call.admitted = True
        return handler(call)

    quota_checked.__name__ = handler.__name__
    return quota_checked


_FIELDS = {"path", "rate", "interval", "block_interval", "role", "type", "name", "inheritable"}


def quota_of(name: str, doc: Mapping[str, Any]) -> RateLimitQuota:
    """A quota as the request describes it (its path as given: the service finds its mount)."""
    unknown = sorted(set(doc) - _FIELDS)
    if unknown:
        raise BadRequest(f"unknown rate limit quota field {unknown[0]!r}")
    if doc.get("type", "rate-limit") != "rate-limit":
        raise BadRequest("type: only rate-limit quotas are served")
    if doc.get("role"):
        raise BadRequest("role-based quotas are not served: give the auth mount's path")
    rate = doc.get("rate")
    if isinstance(rate, str):
        try:
            rate = float(rate)
        except ValueError:
            rate = None
    if isinstance(rate, bool) or not isinstance(rate, int | float):
        raise BadRequest("'rate' is invalid")
    interval = parse_duration(doc.get("interval"), "interval") or 1.0
    block = parse_duration(doc.get("block_interval"), "block_interval") or 0.0
    path = doc.get("path") or ""
    if not isinstance(path, str):
        raise BadRequest("path: the mount (and path below it) the quota covers")
    return RateLimitQuota(name, path, float(rate), interval, block)


def config_change_of(doc: Mapping[str, Any]) -> QuotaConfigChange:
    paths = doc.get("rate_limit_exempt_paths")
    if "rate_limit_exempt_paths" in doc and (
        not isinstance(paths, list) or not all(isinstance(p, str) for p in paths)
    ):
        raise BadRequest("rate_limit_exempt_paths: a list of paths")
    flags: dict[str, bool | None] = {}
    for wire in ("enable_rate_limit_audit_logging", "enable_rate_limit_response_headers"):
        flags[wire] = doc.get(wire)
        if wire in doc and not isinstance(doc[wire], bool):
            raise BadRequest(f"{wire} must be true or false")
    return QuotaConfigChange(
        tuple(paths) if isinstance(paths, list) else None,
        flags["enable_rate_limit_audit_logging"],
        flags["enable_rate_limit_response_headers"],
    )


def write_quota(call: Call) -> Answer:
    call.services.quotas.write(call.identity, quota_of(call.params["name"], call.json()))
    return Answer.empty()


def read_quota(call: Call) -> Answer:
    quota = call.services.quotas.read(call.identity, call.params["name"])
    shown = {
        "type": "rate-limit",
        "name": quota.name,
        "path": quota.path,
        "role": "",
        "rate": int(quota.rate) if quota.rate.is_integer() else quota.rate,
        "interval": int(quota.interval),
        "block_interval": int(quota.block_interval),
        # Vault's namespaces (Enterprise) are not served: the global quota is the inherited one
        "inheritable": quota.path == "",
    }
    return envelope(call, shown)


def delete_quota(call: Call) -> Answer:
    call.services.quotas.delete(call.identity, call.params["name"])
    return Answer.empty()


def list_quotas(call: Call) -> Answer:
    return list_answer(call, call.services.quotas.names(call.identity))


def read_config(call: Call) -> Answer:
    config = call.services.quotas.read_config(call.identity)
    shown = {
        "enable_rate_limit_audit_logging": config.audit_logging,
        "enable_rate_limit_response_headers": config.response_headers,
        "rate_limit_exempt_paths": list(config.exempt_paths),
    }
    return envelope(call, shown)


def write_config(call: Call) -> Answer:
    call.services.quotas.write_config(call.identity, config_change_of(call.json()))
    return Answer.empty()


_Q = "/v1/sys/quotas"

QUOTA_ROUTES = (
    Route("GET", f"{_Q}/config", read_config, "sysReadQuotasConfig"),
    *writes(f"{_Q}/config", write_config, "sysWriteQuotasConfig"),
    Route("LIST", f"{_Q}/rate-limit", list_quotas, "sysListRateLimitQuotas"),
    Route("GET", f"{_Q}/rate-limit/{{name}}", read_quota, "sysReadRateLimitQuota"),
    *writes(f"{_Q}/rate-limit/{{name}}", write_quota, "sysWriteRateLimitQuota"),
    Route("DELETE", f"{_Q}/rate-limit/{{name}}", delete_quota, "sysDeleteRateLimitQuota"),
)
