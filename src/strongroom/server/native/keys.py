"""Native routes of namespaces, their keyrings, the root key, and keys as a service (data keys
for the app-token library)."""

from __future__ import annotations

import base64

from strongroom.errors import BadRequest
from strongroom.server.bodies import base64_field, body_int, string_map
from strongroom.server.native.schemas import STR
from strongroom.server.routes import Answer, Call, Route

__all__ = [
    "KEY_ROUTES",
    "create_namespace",
    "decrypt_data_key",
    "delete_namespace",
    "generate_data_key",
    "key_status",
    "list_namespaces",
    "migrate_keys",
    "read_namespace",
    "retire_term",
    "rewrap_keys",
    "rotate_keys",
    "rotate_root",
]

_CONTEXT = {"type": "object", "additionalProperties": STR}


def list_namespaces(call: Call) -> Answer:
    items = call.services.namespaces.list_namespaces(call.identity)
    return Answer({"namespaces": [n.to_json() for n in items]})


def create_namespace(call: Call) -> Answer:
    doc = call.json()
    name = doc.get("name")
    if not isinstance(name, str):
        raise BadRequest('body must be {"name": "..."}')
    info = call.services.namespaces.create(
        call.identity,
        name,
        kind=doc.get("kind", "kv-v2"),
        description=doc.get("description", ""),
        options=doc.get("options") or {},
        provider=doc.get("provider", ""),
    )
    return Answer(info.to_json(), status=201)


def read_namespace(call: Call) -> Answer:
    info = call.services.namespaces.get(call.identity, call.params["namespace"])
    return Answer(info.to_json())


def delete_namespace(call: Call) -> Answer:
    call.services.namespaces.delete(call.identity, call.params["namespace"])
    return Answer.empty()


def key_status(call: Call) -> Answer:
    ns = call.params["namespace"]
    terms = call.services.namespaces.status(call.identity, ns)
    return Answer({"namespace": ns, "terms": [t.to_json() for t in terms]})


def rotate_keys(call: Call) -> Answer:
    info = call.services.namespaces.rotate(call.identity, call.params["namespace"])
    return Answer(info.to_json())


def rewrap_keys(call: Call) -> Answer:
    services = call.services
    progress = services.namespaces.rewrap(
        call.identity,
        call.params["namespace"],
        batch_size=body_int(call.json(), "batch_size") or 500,
        pause=services.pause_if_busy,
    )
    return Answer(progress.to_json())


def retire_term(call: Call) -> Answer:
    number = body_int(call.json(), "term")
    if number is None:
        raise BadRequest('body must be {"term": N}')
    info = call.services.namespaces.retire(call.identity, call.params["namespace"], number)
    return Answer({"data": info.to_json()})


def migrate_keys(call: Call) -> Answer:
    to = call.json().get("to")
    if not isinstance(to, str) or not to:
        raise BadRequest('body must be {"to": "<provider name or URI>"}')
    info = call.services.namespaces.move(call.identity, call.params["namespace"], to)
    return Answer({"data": info.to_json()})


def rotate_root(call: Call) -> Answer:
    namespaces = call.services.namespaces
    body = call.json()
    if body.get("rewrap_only"):
        return Answer({"data": namespaces.rewrap_root(call.identity).to_json()})
    name = body.get("provider", "")
    if not isinstance(name, str):
        raise BadRequest("provider is the name of a --key-provider of the server's")
    return Answer({"data": namespaces.rotate_root(call.identity, name=name).to_json()})


def generate_data_key(call: Call) -> Answer:
    key = call.services.keys.generate(
        call.identity, call.params["namespace"], string_map(call.json(), "context")
    )
    return Answer(
        {
            "key_ref": key.key_ref,
            "wrapped": base64.b64encode(key.wrapped).decode(),
            "plaintext": base64.b64encode(key.plaintext).decode(),
        }
    )


def decrypt_data_key(call: Call) -> Answer:
    doc = call.json()
    key_ref = doc.get("key_ref")
    if not isinstance(key_ref, str):
        raise BadRequest('body must be {"key_ref": str, "wrapped": base64, "context": {...}}')
    plaintext = call.services.keys.decrypt(
        call.identity,
        call.params["namespace"],
        key_ref,
        base64_field(doc, "wrapped"),
        string_map(doc, "context"),
    )
    return Answer({"plaintext": base64.b64encode(plaintext).decode()})


_N = "/api/v1/namespaces"

KEY_ROUTES = (
    Route("GET", _N, list_namespaces, "listNamespaces", "List namespaces"),
    Route(
        "POST",
        _N,
        create_namespace,
        "createNamespace",
        "Create a namespace with its own keyring",
        body={
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": STR,
                "kind": {"type": "string", "enum": ["kv-v2"]},
                "description": STR,
                "options": {"type": "object", "additionalProperties": STR},
                "provider": {"type": "string", "description": "a --key-provider name"},
            },
        },
        status=201,
    ),
    Route("GET", f"{_N}/{{namespace}}", read_namespace, "readNamespace", "Read a namespace"),
    Route(
        "DELETE",
        f"{_N}/{{namespace}}",
        delete_namespace,
        "deleteNamespace",
        "Delete a namespace and shred its keyring",
        status=204,
    ),
    Route("GET", f"{_N}/{{namespace}}/keys", key_status, "keyStatus", "Keyring terms and use"),
    Route(
        "POST", f"{_N}/{{namespace}}/keys/rotate", rotate_keys, "rotateKeys", "Add a keyring term"
    ),
    Route(
        "POST",
        f"{_N}/{{namespace}}/keys/rewrap",
        rewrap_keys,
        "rewrapKeys",
        "Re-seal one batch of old versions under the active term",
        body={
            "type": "object",
            "properties": {"batch_size": {"type": "integer", "minimum": 1, "maximum": 5000}},
        },
    ),
    Route(
        "POST",
        f"{_N}/{{namespace}}/keys/retire",
        retire_term,
        "retireKeyTerm",
        "Remove an unused, inactive key term",
        body={"type": "object", "required": ["term"], "properties": {"term": {"type": "integer"}}},
    ),
    Route(
        "POST",
        "/api/v1/sys/kms/rotate-root",
        rotate_root,
        "rotateRootKey",
        "New root key version; re-wrap the keyrings (sudo)",
        body={
            "type": "object",
            "properties": {"rewrap_only": {"type": "boolean"}, "provider": STR},
        },
    ),
    Route(
        "POST",
        f"{_N}/{{namespace}}/keys/migrate",
        migrate_keys,
        "migrateKeys",
        "Wrap the keyring under another key provider of the server's (sudo)",
        body={"type": "object", "required": ["to"], "properties": {"to": STR}},
    ),
    Route(
        "POST",
        f"{_N}/{{namespace}}/datakey",
        generate_data_key,
        "generateDataKey",
        "A new data key bound to a context (needs encrypt)",
        body={"type": "object", "properties": {"context": _CONTEXT}},
    ),
    Route(
        "POST",
        f"{_N}/{{namespace}}/datakey/decrypt",
        decrypt_data_key,
        "decryptDataKey",
        "Unwrap a data key with its context (needs decrypt)",
        body={
            "type": "object",
            "required": ["key_ref", "wrapped"],
            "properties": {"key_ref": STR, "wrapped": STR, "context": _CONTEXT},
        },
    ),
)
