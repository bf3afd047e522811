"""Vault's KV version 1 API: GET, POST/PUT, DELETE and LIST on ``/v1/<mount>/<path>`` for a
mount of kind ``kv-v1`` (service/kv_v1.py).

These routes match any path under any mount, so they come last. Under a version 1 mount every
path names a secret, ``data/x`` and ``keys/k`` included: a version 2 or Transit route that matched
such a path is rerouted here by the front door once its caller is authenticated
(``version_1_reroute``), so its audit entry names the version 1 operation."""

from __future__ import annotations

from collections.abc import Mapping

from strongroom.server.routes import Answer, Call, Handler, MethodNotAllowed, Route
from strongroom.server.services import Services
from strongroom.server.surface import Reroute, Rerouted
from strongroom.server.vault.wire import envelope, list_answer, writes
from strongroom.service.kv_v1 import VersionedMount

__all__ = [
    "KV_V1_ROUTES",
    "KV_V1_UNSERVED",
    "delete",
    "list_folder",
    "read",
    "version_1_reroute",
    "versioned_answer",
    "write",
]


def _target(call: Call) -> tuple[str, str]:
    return call.params["mount"], call.params.get("path", "")


def read(call: Call) -> Answer:
    mount, path = _target(call)
    value, lease_seconds = call.services.kv_v1.read_leased(call.identity, mount, path)
    answer = envelope(call, value.data)
    answer.doc["lease_duration"] = lease_seconds  # the mount's default lease TTL, as Vault
    return answer


def write(call: Call) -> Answer:
    mount, path = _target(call)
    data = call.json()  # the whole body is the value
    call.services.kv_v1.write(call.identity, mount, path, data)
    return Answer.empty()


def delete(call: Call) -> Answer:
    mount, path = _target(call)
    call.services.kv_v1.delete(call.identity, mount, path)
    return Answer.empty()


def list_folder(call: Call) -> Answer:
    mount, folder = _target(call)
    return list_answer(call, call.services.kv_v1.list(call.identity, mount, folder))


_CLI_VERBS = {"GET": "get", "POST": "put", "PUT": "put", "DELETE": "delete", "LIST": "list"}


def versioned_answer(handler: Handler) -> Handler:
    """A version 1 path on a version 2 mount: 404 with OpenBao's pointer to the right tool."""

    def vault_kv1(call: Call) -> Answer:
        try:
            return handler(call)
        except VersionedMount:
            verb = _CLI_VERBS.get(call.method, "get")
            return envelope(
                call,
                warnings=[
                    "Invalid path for a versioned K/V secrets engine. See the API docs for the "
                    "appropriate API endpoints to use. If using the OpenBao CLI, use "
                    f"'bao kv {verb}' for this operation."
                ],
                status=404,
            )

    vault_kv1.__name__ = handler.__name__
    return vault_kv1


def _refuse_method(call: Call) -> Answer:
    raise MethodNotAllowed(f"method {call.method} is not allowed on a KV version 1 path")


def version_1_reroute(served: Mapping[str, Route], versioned: frozenset[str]) -> Reroute:
    """The front door's reroute for Vault: a request that a version 2 or Transit route
    (``versioned``) matched, under a version 1 mount, goes to the version 1 route ``served``
    for its method, so it is audited, authorized and run as the version 1 request it is."""

    def reroute(
        route: Route, params: Mapping[str, str], path: str, services: Services, may_read: bool
    ) -> Rerouted | None:
        if route.operation not in versioned:
            return None
        mount = params["mount"]
        if services.namespaces.kind(mount, may_read_store=may_read) != "kv-v1":
            return None
        return served[route.method], {"mount": mount, "path": path.removeprefix(f"/v1/{mount}/")}

    return reroute


_M = "/v1/{mount}"

_P = f"{_M}/{{path:path}}"
_LISTED = versioned_answer(list_folder)

KV_V1_ROUTES = (
    Route("GET", _P, versioned_answer(read), "kv1Read", "Read a KV version 1 secret"),
    *writes(_P, versioned_answer(write), "kv1Write", "Write a KV version 1 secret"),
    Route("DELETE", _P, versioned_answer(delete), "kv1Delete", "Delete a KV version 1 secret"),
    Route("LIST", _M, _LISTED, "kv1ListRoot", "List a KV version 1 mount's top level"),
    Route("LIST", _P, _LISTED, "kv1List", "List a KV version 1 folder"),
)
# Reached only through the reroute: a version 2 PATCH under a version 1 mount, refused once the
# catalogue has checked it as any other route.
KV_V1_UNSERVED = (
    Route("PATCH", _P, _refuse_method, "kv1Patch", "No PATCH in KV version 1", documented=False),
)
