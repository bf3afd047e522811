"""Response wrapping on the Vault surface: ``X-Vault-Wrap-TTL`` on any request, and the
``sys/wrapping/*`` endpoints."""

from __future__ import annotations

from typing import Any

from strongroom.durations import parse_duration
from strongroom.errors import BadRequest
from strongroom.server.routes import Answer, Call, Handler
from strongroom.server.vault.wire import envelope, writes
from strongroom.service.wrapping import WrapInfo
from strongroom.types import format_time

__all__ = [
    "WRAPPING_ROUTES",
    "lookup",
    "rewrap",
    "unwrap",
    "with_wrapping",
    "wrap",
]

_WRAP_HEADER = "x-vault-wrap-ttl"


def _ttl(call: Call) -> float | None:
    raw = call.header(_WRAP_HEADER)
    if raw is None or raw == "":
        return None
    seconds = parse_duration(raw, "X-Vault-Wrap-TTL")
    if not seconds:
        raise BadRequest("X-Vault-Wrap-TTL must be a positive duration such as 60s or 5m")
    return seconds


def _wrap_info(info: WrapInfo) -> dict[str, Any]:
    return {
        "token": info.token,
        "accessor": info.accessor,
        "ttl": info.ttl,
        "creation_time": format_time(info.creation_time),
        "creation_path": info.creation_path,
    }


def _response(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in ("data", "auth", "warnings") if doc.get(k) is not None}


def with_wrapping(handler: Handler) -> Handler:
    """The route's handler, whose answer is wrapped when the request asks for it."""

    def wrapping(call: Call) -> Answer:
        ttl = _ttl(call)
        if ttl is None:
            return handler(call)
        call.must_not_block()  # wrapping writes a record
        answer = handler(call)
        if answer.status != 200 or answer.raw is not None or not isinstance(answer.doc, dict):
            return answer
        path = call.wire_path.removeprefix("/v1/")  # the mount as sent (auth/approle-ci/…)
        info = call.services.wrapping.wrap(_response(answer.doc), ttl, path)
        return envelope(call, None, wrap_info=_wrap_info(info))

    wrapping.__name__ = handler.__name__
    return wrapping


def _token(call: Call) -> tuple[str | None, bool]:
    """The wrapping token: the body's, or the request's own credential. A token that is not a
    string is "" (not valid): the service says so once it has checked the caller's rights."""
    given = call.json().get("token") if call.body else None
    if given:
        chosen = given if isinstance(given, str) else ""
        return chosen, chosen == call.credential
    return call.credential, True


def wrap(call: Call) -> Answer:
    ttl = _ttl(call)
    if ttl is None:
        raise BadRequest("wrapping requires the X-Vault-Wrap-TTL header")
    info = call.services.wrapping.wrap_data(call.identity, call.json(), ttl)
    return envelope(call, None, wrap_info=_wrap_info(info))


def unwrap(call: Call) -> Answer:
    token, own = _token(call)
    response = call.services.wrapping.unwrap(call.identity_or_none, token, own)
    answer = envelope(call, response.get("data"), auth=response.get("auth"))
    answer.doc["warnings"] = response.get("warnings")
    return answer


def lookup(call: Call) -> Answer:
    found = call.services.wrapping.lookup(_token(call)[0])
    data = {
        "creation_path": found.creation_path,
        "creation_time": format_time(found.creation_time),
        "creation_ttl": found.creation_ttl,
    }
    return envelope(call, data)


def rewrap(call: Call) -> Answer:
    token, own = _token(call)
    info = call.services.wrapping.rewrap(call.identity_or_none, token, own)
    return envelope(call, None, wrap_info=_wrap_info(info))


_W = "/v1/sys/wrapping"

WRAPPING_ROUTES = (
    *writes(f"{_W}/wrap", wrap, "sysWrap"),
    *writes(f"{_W}/unwrap", unwrap, "sysUnwrap"),
    *writes(f"{_W}/lookup", lookup, "sysWrapLookup", public=True),
    *writes(f"{_W}/rewrap", rewrap, "sysRewrap"),
)
