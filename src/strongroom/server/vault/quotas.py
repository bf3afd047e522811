"""Vault's rate limit quotas (service/quotas.py): ``sys/quotas/rate-limit/:name``,
``sys/quotas/config``, and the check of every Vault API request against them."""

from __future__ import annotations

from strongroom.server.routes import Answer, Call, Handler, Route
from strongroom.server.vault.wire import envelope, list_answer, writes

__all__ = [
    "QUOTA_ROUTES",
    "delete_quota",
    "list_quotas",
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


def write_quota(call: Call) -> Answer:
    call.services.quotas.write(call.identity, call.params["name"], call.json())
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
    call.services.quotas.write_config(call.identity, call.json())
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
