"""Native routes under /api/v1/sys: policies, capabilities, audit sinks, the seal, passwords."""

from __future__ import annotations

import json
from typing import Any

from strongroom.errors import BadRequest
from strongroom.password_generation import PasswordPolicy, generate_password
from strongroom.policy.model import Policy
from strongroom.server.bodies import body_int, string_list, text
from strongroom.server.native.resources import named_resource
from strongroom.server.native.schemas import INT, STR, STRS, object_schema
from strongroom.server.routes import Answer, Call, Route, parse_query_int
from strongroom.service.admin import (
    HASH_INPUT_PROBLEM,
    PATHS_PROBLEM,
    POLICY_TEXT,
    SINK_TYPE_PROBLEM,
)
from strongroom.service.seal import NONCE_PROBLEM, SHARE_PROBLEM

RECENT_PAGE = 100  # entries per answer of sys/audit/<name>/recent

__all__ = [
    "RECENT_PAGE",
    "SYSTEM_ROUTES",
    "audit_hash",
    "backup",
    "capabilities_self",
    "create_aws_credentials",
    "create_aws_lambda",
    "delete_aws_lambda",
    "dev_reset",
    "init",
    "list_audit",
    "list_aws_credentials",
    "list_aws_lambdas",
    "list_policies",
    "migrate_seal",
    "random_password",
    "recent_audit",
    "rekey",
    "rekey_cancel",
    "rekey_verify",
    "revoke_aws_credentials",
    "seal",
    "seal_status",
    "unseal",
    "verify_audit",
]


def _policy_text(policy: Policy) -> dict[str, str]:
    return {"name": policy.name, "policy": policy.text}


def list_policies(call: Call) -> Answer:
    return Answer({"keys": call.services.admin.list_policies(call.identity)})


def capabilities_self(call: Call) -> Answer:
    doc = call.json()
    paths = doc.get("paths", [doc["path"]] if isinstance(doc.get("path"), str) else None)
    if not isinstance(paths, list):
        raise BadRequest('body must be {"paths": ["secret/app/db", ...]}')
    named = string_list({"paths": paths}, "paths", PATHS_PROBLEM)
    return Answer({"data": call.services.admin.capabilities(call.identity, named)})


def list_audit(call: Call) -> Answer:
    sinks = call.services.admin.audit_sinks(call.identity)
    # a store sink has no path: the key is left out rather than null
    return Answer({"sinks": [_present(sink.to_json()) for sink in sinks]})


def _present(doc: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in doc.items() if value is not None}


def verify_audit(call: Call) -> Answer:
    result = call.services.admin.verify_audit(call.identity, call.params["name"])
    return Answer({"data": result.to_json()})


def recent_audit(call: Call) -> Answer:
    after = parse_query_int(call.query.get("after", "0"), "after")
    limit = min(parse_query_int(call.query.get("limit", str(RECENT_PAGE)), "limit"), RECENT_PAGE)
    entries, last = call.services.admin.recent_audit(
        call.identity, call.params["name"], after, limit
    )
    doc = {"entries": [{"seq": seq, "entry": entry} for seq, entry in entries], "last": last}
    # Sent as raw bytes, so the response is not copied into the log it came from (the request
    # entry records who read it); every entry is already HMAC'd as written.
    return Answer(raw=json.dumps(doc, separators=(",", ":")).encode())


def audit_hash(call: Call) -> Answer:
    value = text(call.json(), "input", HASH_INPUT_PROBLEM)
    digest = call.services.admin.audit_hash(call.identity, call.params["name"], value)
    return Answer({"data": {"hash": digest}})


def _sink_type(doc: dict[str, Any]) -> str:
    return text(doc, "type", SINK_TYPE_PROBLEM)


def seal_status(call: Call) -> Answer:
    return Answer({"data": call.seal.status().to_json()})


def init(call: Call) -> Answer:
    doc = call.json()
    shares = body_int(doc, "shares") or 1
    threshold = body_int(doc, "threshold") or 1
    keys, token = call.seal.initialize(shares, threshold)
    return Answer({"data": {"keys": keys, "root_token": token}})


def unseal(call: Call) -> Answer:
    doc = call.json()
    share = text(doc, "key", SHARE_PROBLEM)
    status = call.seal.unseal(share, text(doc, "nonce", NONCE_PROBLEM, ""), call.address)
    return Answer({"data": status.to_json()})


def seal(call: Call) -> Answer:
    call.seal.seal(call.identity)
    return Answer.empty()


def rekey(call: Call) -> Answer:
    doc = call.json()
    result = call.seal.rekey(
        call.identity,
        string_list(doc, "keys", "the current unseal shares must be a list"),
        body_int(doc, "shares") or 1,
        body_int(doc, "threshold") or 1,
    )
    data = {"keys": result.keys, "nonce": result.nonce, "verification_required": bool(result.nonce)}
    return Answer({"data": data})


def migrate_seal(call: Call) -> Answer:
    to = text(call.json(), "to", 'body must be {"to": "<a --key-provider name or its URI>"}')
    moved = call.seal.migrate_seal(call.identity, to)
    return Answer({"data": moved.to_json()})


def create_aws_credentials(call: Call) -> Answer:
    doc = call.json()
    if not isinstance(doc.get("policies"), list):
        raise BadRequest("policies is a list of policy names")
    policies = string_list(doc, "policies", "policies is a list of policy names")
    named = text(doc, "display_name", "display_name is a string", default="")
    key = call.services.aws_credentials.create(call.identity, policies, named)
    return Answer({"data": key.to_json()}, clear=("data.access_key_id",))


def list_aws_credentials(call: Call) -> Answer:
    keys = call.services.aws_credentials.list(call.identity)
    return Answer({"data": {"keys": [k.to_json() for k in keys]}})


def revoke_aws_credentials(call: Call) -> Answer:
    call.services.aws_credentials.revoke(call.identity, call.params["access_key_id"])
    return Answer.empty()


def create_aws_lambda(call: Call) -> Answer:
    doc = call.json()
    function = call.services.aws_lambdas.create(
        call.identity,
        doc.get("name"),
        doc.get("url"),
        doc.get("signing_secret"),
        doc.get("timeout", 10.0),
        doc.get("retries", 3),
    )
    return Answer({"data": function.to_json()}, clear=("data.name",))


def list_aws_lambdas(call: Call) -> Answer:
    functions = call.services.aws_lambdas.list(call.identity)
    return Answer({"data": {"functions": [f.to_json() for f in functions]}})


def delete_aws_lambda(call: Call) -> Answer:
    call.services.aws_lambdas.delete(call.identity, call.params["name"])
    return Answer.empty()


def dev_reset(call: Call) -> Answer:
    counts = call.services.dev_reset.reset(call.identity)
    return Answer({"data": {"namespaces": counts.namespaces, "records": counts.records}})


def rekey_cancel(call: Call) -> Answer:
    call.seal.cancel_rekey(call.identity)
    return Answer.empty()


def backup(call: Call) -> Answer:
    snapshot = call.services.backup.snapshot(call.identity)
    return Answer(raw=snapshot, media_type="application/octet-stream")


def rekey_verify(call: Call) -> Answer:
    doc = call.json()
    problem = "a rekey verification needs the rekey's nonce and a list of new shares"
    if not isinstance(doc.get("keys"), list):
        raise BadRequest(problem)
    new_shares = string_list(doc, "keys", problem)
    call.seal.rekey_verify(call.identity, text(doc, "nonce", problem), new_shares)
    return Answer({"data": {"complete": True}})


def random_password(call: Call) -> Answer:
    # Any valid token may ask: the answer depends on nothing stored.
    policy = PasswordPolicy.from_json(call.json())
    password = generate_password(policy)
    return Answer({"data": {"password": password, "entropy_bits": policy.entropy_bits}})


_Y = "/api/v1/sys"
_NUMBER = {"type": "number", "minimum": 0}
_PASSWORD_POLICY = object_schema(
    length={"type": "integer", "minimum": 1, "maximum": 4096},
    classes={"type": "array", "items": {"enum": ["lower", "upper", "digits", "symbols"]}},
    exclude=STR,
    require_each={"type": "boolean"},
)

SYSTEM_ROUTES = (
    Route("GET", f"{_Y}/policies/acl", list_policies, "listPolicies", "ACL policy names"),
    *named_resource(
        f"{_Y}/policies/acl/{{name}}",
        "Policy",
        "an ACL policy (HCL or JSON)",
        read=lambda s, who, name: _policy_text(s.admin.read_policy(who, name)),
        write=lambda s, who, name, doc: s.admin.write_policy(
            who, name, text(doc, "policy", POLICY_TEXT)
        ),
        delete=lambda s, who, name: s.admin.delete_policy(who, name),
        body=object_schema(policy=STR),
    ),
    Route(
        "POST",
        f"{_Y}/capabilities-self",
        capabilities_self,
        "capabilitiesSelf",
        "The caller's capabilities on paths",
        body=object_schema(paths=STRS),
    ),
    Route("GET", f"{_Y}/audit", list_audit, "listAuditSinks", "Audit sinks"),
    *named_resource(
        f"{_Y}/audit/{{name}}",
        "AuditSink",
        "an audit sink",
        read=None,
        write=lambda s, who, name, doc: s.admin.enable_audit(who, name, _sink_type(doc)),
        delete=lambda s, who, name: s.admin.disable_audit(who, name),
        body=object_schema(type=STR),
    ),
    Route(
        "POST",
        f"{_Y}/audit/{{name}}/verify",
        verify_audit,
        "verifyAudit",
        "Verify a sink's hash chain",
    ),
    Route(
        "GET",
        f"{_Y}/audit/{{name}}/recent",
        recent_audit,
        "recentAudit",
        "The sink's newest entries on this node, as written (?after=N&limit=M)",
    ),
    Route(
        "POST",
        f"{_Y}/audit-hash/{{name}}",
        audit_hash,
        "auditHash",
        "HMAC a value with a sink's key",
        body=object_schema(input=STR),
    ),
    Route(
        "GET",
        f"{_Y}/seal-status",
        seal_status,
        "sealStatus",
        "Seal type and state",
        public=True,
        open_while_sealed=True,
    ),
    Route(
        "POST",
        f"{_Y}/init",
        init,
        "init",
        "Initialize: root keys, unseal shares, root token",
        body=object_schema(shares=INT, threshold=INT),
        public=True,
        open_while_sealed=True,
    ),
    Route(
        "POST",
        f"{_Y}/unseal",
        unseal,
        "unseal",
        "Give one unseal share",
        body=object_schema(key=STR, nonce=STR),
        public=True,
        open_while_sealed=True,
    ),
    Route("POST", f"{_Y}/seal", seal, "seal", "Seal the server (sudo)", status=204),
    Route(
        "GET",
        f"{_Y}/backup",
        backup,
        "backup",
        "An encrypted snapshot of the whole store, taken online (sudo on sys/backup)",
    ),
    Route(
        "POST",
        f"{_Y}/aws/credentials",
        create_aws_credentials,
        "createAwsCredentials",
        "Issue an AWS access key bound to strongroom policies (sudo)",
        body=object_schema(policies=STRS, display_name=STR),
    ),
    Route(
        "GET",
        f"{_Y}/aws/credentials",
        list_aws_credentials,
        "listAwsCredentials",
        "The AWS access keys issued, without their secrets (sudo)",
    ),
    Route(
        "DELETE",
        f"{_Y}/aws/credentials/{{access_key_id}}",
        revoke_aws_credentials,
        "revokeAwsCredentials",
        "Revoke an AWS access key (sudo)",
        status=204,
    ),
    Route(
        "POST",
        f"{_Y}/aws/lambda-functions",
        create_aws_lambda,
        "createAwsLambdaFunction",
        "Register (or replace) a webhook that plays a rotation Lambda function for RotateSecret "
        "(sudo)",
        body=object_schema(name=STR, url=STR, signing_secret=STR, timeout=_NUMBER, retries=INT),
    ),
    Route(
        "GET",
        f"{_Y}/aws/lambda-functions",
        list_aws_lambdas,
        "listAwsLambdaFunctions",
        "The registered rotation functions (sudo)",
    ),
    Route(
        "DELETE",
        f"{_Y}/aws/lambda-functions/{{name}}",
        delete_aws_lambda,
        "deleteAwsLambdaFunction",
        "Unregister a rotation function (sudo)",
        status=204,
    ),
    Route(
        "POST",
        f"{_Y}/dev/reset",
        dev_reset,
        "devReset",
        "Dev mode only: wipe the AWS API's state in every region (sudo)",
    ),
    Route(
        "POST",
        f"{_Y}/seal/migrate",
        migrate_seal,
        "migrateSeal",
        "Move the root key to another of the server's key providers (sudo)",
        body=object_schema(to=STR),
    ),
    Route(
        "POST",
        f"{_Y}/rekey",
        rekey,
        "rekey",
        "Start a rekey: new unseal key; shamir: new shares and a nonce (sudo)",
        body=object_schema(keys=STRS, shares=INT, threshold=INT),
    ),
    Route(
        "POST",
        f"{_Y}/rekey/verify",
        rekey_verify,
        "rekeyVerify",
        "Finish a shamir rekey with the threshold of new shares (sudo)",
        body=object_schema(nonce=STR, keys=STRS),
    ),
    Route(
        "DELETE",
        f"{_Y}/rekey",
        rekey_cancel,
        "rekeyCancel",
        "Cancel a pending shamir rekey (sudo)",
        status=204,
    ),
    Route(
        "POST",
        f"{_Y}/tools/password",
        random_password,
        "randomPassword",
        "A random password",
        body=_PASSWORD_POLICY,
    ),
)
