"""OpenAPI operations of the access-control API: tokens, AppRole, userpass, policies, audit and
the seal. Kept apart from the secrets API's table to keep each module small."""

from __future__ import annotations

from typing import Any

__all__ = ["ACCESS_OPERATIONS", "UNAUTHENTICATED"]

_STR = {"type": "string"}
_STRS = {"type": "array", "items": _STR}
_DURATION = {"type": ["string", "integer"]}
_INT = {"type": "integer", "minimum": 0}
_TARGET = {"type": "object", "properties": {"token": _STR, "accessor": _STR}}


def _body(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


_TOKEN_CREATE = _body(
    policies=_STRS,
    ttl=_DURATION,
    explicit_max_ttl=_DURATION,
    period=_DURATION,
    num_uses=_INT,
    display_name=_STR,
    meta={"type": "object", "additionalProperties": _STR},
    no_parent={"type": "boolean"},
    no_default_policy={"type": "boolean"},
    renewable={"type": "boolean"},
)
_ROLE = _body(token_policies=_STRS, token_ttl=_DURATION, token_max_ttl=_DURATION)
_T = "/api/v1/auth/token"
_A = "/api/v1/auth/approle"
_U = "/api/v1/auth/userpass"
_Y = "/api/v1/sys"

UNAUTHENTICATED = frozenset({"approleLogin", "userpassLogin", "sealStatus", "init", "unseal"})

ACCESS_OPERATIONS: list[tuple[str, str, str, str, dict[str, Any] | None, int]] = [
    ("post", f"{_T}/create", "createToken", "Create a child token", _TOKEN_CREATE, 200),
    ("post", f"{_T}/create/{{role}}", "createTokenWithRole", "Create by role", _TOKEN_CREATE, 200),
    ("get", f"{_T}/lookup-self", "lookupSelf", "The calling token's properties", None, 200),
    ("post", f"{_T}/lookup", "lookupToken", "Look up a token or accessor", _TARGET, 200),
    (
        "post",
        f"{_T}/renew-self",
        "renewSelf",
        "Renew the calling token",
        _body(increment=_DURATION),
        200,
    ),
    ("post", f"{_T}/renew", "renewToken", "Renew a token or accessor", _TARGET, 200),
    (
        "post",
        f"{_T}/revoke-self",
        "revokeSelf",
        "Revoke the calling token and its children",
        None,
        204,
    ),
    (
        "post",
        f"{_T}/revoke",
        "revokeToken",
        "Revoke a token or accessor and its tree",
        _TARGET,
        204,
    ),
    ("get", f"{_T}/accessors", "listAccessors", "Every token accessor (sudo)", None, 200),
    ("get", f"{_T}/roles", "listTokenRoles", "Token roles", None, 200),
    ("get", f"{_T}/roles/{{name}}", "readTokenRole", "A token role", None, 200),
    (
        "put",
        f"{_T}/roles/{{name}}",
        "writeTokenRole",
        "Create or update a token role",
        _body(allowed_policies=_STRS),
        204,
    ),
    (
        "post",
        f"{_T}/roles/{{name}}",
        "writeTokenRolePost",
        "Same as PUT",
        _body(allowed_policies=_STRS),
        204,
    ),
    ("delete", f"{_T}/roles/{{name}}", "deleteTokenRole", "Delete a token role", None, 204),
    ("get", f"{_A}/role", "listAppRoles", "AppRole roles", None, 200),
    ("get", f"{_A}/role/{{name}}", "readAppRole", "An AppRole role", None, 200),
    ("put", f"{_A}/role/{{name}}", "writeAppRole", "Create or update an AppRole role", _ROLE, 204),
    ("post", f"{_A}/role/{{name}}", "writeAppRolePost", "Same as PUT", _ROLE, 204),
    (
        "delete",
        f"{_A}/role/{{name}}",
        "deleteAppRole",
        "Delete a role and its secret ids",
        None,
        204,
    ),
    ("get", f"{_A}/role/{{name}}/role-id", "readRoleId", "The role's role_id", None, 200),
    ("get", f"{_A}/role/{{name}}/secret-id", "listSecretIds", "Secret id accessors", None, 200),
    (
        "post",
        f"{_A}/role/{{name}}/secret-id",
        "generateSecretId",
        "A new secret_id",
        _body(metadata=_STR, cidr_list=_STRS, ttl=_DURATION, num_uses=_INT),
        200,
    ),
    (
        "post",
        f"{_A}/role/{{name}}/secret-id/lookup",
        "lookupSecretId",
        "Look up a secret_id",
        _body(secret_id=_STR),
        200,
    ),
    (
        "post",
        f"{_A}/role/{{name}}/secret-id/destroy",
        "destroySecretId",
        "Destroy a secret_id",
        _body(secret_id=_STR),
        204,
    ),
    (
        "post",
        f"{_A}/role/{{name}}/secret-id-accessor/lookup",
        "lookupSecretIdAccessor",
        "Look up by accessor",
        _body(secret_id_accessor=_STR),
        200,
    ),
    (
        "post",
        f"{_A}/role/{{name}}/secret-id-accessor/destroy",
        "destroySecretIdAccessor",
        "Destroy by accessor",
        _body(secret_id_accessor=_STR),
        204,
    ),
    (
        "post",
        f"{_A}/login",
        "approleLogin",
        "Log in with role_id and secret_id",
        _body(role_id=_STR, secret_id=_STR),
        200,
    ),
    ("get", f"{_U}/users", "listUsers", "Userpass users", None, 200),
    ("get", f"{_U}/users/{{name}}", "readUser", "A user (never the password)", None, 200),
    (
        "put",
        f"{_U}/users/{{name}}",
        "writeUser",
        "Create or update a user",
        _body(password=_STR, token_policies=_STRS),
        204,
    ),
    (
        "post",
        f"{_U}/users/{{name}}",
        "writeUserPost",
        "Same as PUT",
        _body(password=_STR, token_policies=_STRS),
        204,
    ),
    ("delete", f"{_U}/users/{{name}}", "deleteUser", "Delete a user", None, 204),
    (
        "post",
        f"{_U}/login/{{name}}",
        "userpassLogin",
        "Log in with a password",
        _body(password=_STR),
        200,
    ),
    ("get", f"{_Y}/policies/acl", "listPolicies", "ACL policy names", None, 200),
    ("get", f"{_Y}/policies/acl/{{name}}", "readPolicy", "A policy's text", None, 200),
    (
        "put",
        f"{_Y}/policies/acl/{{name}}",
        "writePolicy",
        "Write a policy (HCL or JSON)",
        _body(policy=_STR),
        204,
    ),
    (
        "post",
        f"{_Y}/policies/acl/{{name}}",
        "writePolicyPost",
        "Same as PUT",
        _body(policy=_STR),
        204,
    ),
    ("delete", f"{_Y}/policies/acl/{{name}}", "deletePolicy", "Delete a policy", None, 204),
    (
        "post",
        f"{_Y}/capabilities-self",
        "capabilitiesSelf",
        "The caller's capabilities on paths",
        _body(paths=_STRS),
        200,
    ),
    ("get", f"{_Y}/audit", "listAuditSinks", "Audit sinks", None, 200),
    (
        "put",
        f"{_Y}/audit/{{name}}",
        "enableAuditSink",
        "Enable an audit sink",
        _body(type=_STR),
        204,
    ),
    ("post", f"{_Y}/audit/{{name}}", "enableAuditSinkPost", "Same as PUT", _body(type=_STR), 204),
    ("delete", f"{_Y}/audit/{{name}}", "disableAuditSink", "Disable an audit sink", None, 204),
    ("post", f"{_Y}/audit/{{name}}/verify", "verifyAudit", "Verify a sink's hash chain", None, 200),
    (
        "post",
        f"{_Y}/audit-hash/{{name}}",
        "auditHash",
        "HMAC a value with a sink's key",
        _body(input=_STR),
        200,
    ),
    ("get", f"{_Y}/seal-status", "sealStatus", "Seal type and state", None, 200),
    (
        "post",
        f"{_Y}/init",
        "init",
        "Initialize: root keys, unseal shares, root token",
        _body(shares=_INT, threshold=_INT),
        200,
    ),
    ("post", f"{_Y}/unseal", "unseal", "Give one unseal share", _body(key=_STR), 200),
    ("post", f"{_Y}/seal", "seal", "Seal the server (sudo)", None, 204),
    (
        "post",
        f"{_Y}/rekey",
        "rekey",
        "Start a rekey: new unseal key; shamir: new shares and a nonce (sudo)",
        _body(keys=_STRS, shares=_INT, threshold=_INT),
        200,
    ),
    (
        "post",
        f"{_Y}/rekey/verify",
        "rekeyVerify",
        "Finish a shamir rekey with the threshold of new shares (sudo)",
        _body(nonce=_STR, keys=_STRS),
        200,
    ),
    ("delete", f"{_Y}/rekey", "rekeyCancel", "Cancel a pending shamir rekey (sudo)", None, 204),
]
