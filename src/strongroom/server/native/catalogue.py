"""Each native API operation and the rule its service authorizes it by: the capabilities (any
one of them) on a policy path, ``sudo`` there too where marked, and ``also`` what else is
needed, each on its own path. Paths are templates over the route's parameters (``{name}`` of
``createNamespace`` is the body's). Operations any token may call are ``ANY_TOKEN``: a token on
itself, what depends on nothing stored, and lists filtered by the caller's rights.

The services check these (the native API validates a body's shape first, then rights: see
docs/api.md); this table states them in one place, and tests/unit/test_native_catalogue.py sends
every route as a token granted exactly its rule (never refused) and as one without it (refused,
or told only its body's shape). The Vault API's rules are Vault's (server/vault/catalogue.py);
the AWS APIs' are compat/aws/*/catalogue.py."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ANY_TOKEN", "OPERATIONS", "Rule"]


@dataclass(frozen=True)
class Rule:
    capabilities: tuple[str, ...]  # any one of them; none: sudo alone
    path: str  # the policy path, a template over the route's parameters
    sudo: bool = False
    also: tuple[tuple[str, str], ...] = ()  # (capability, path) each needed as well


_DATA = "{namespace}/data/{path}"


ANY_TOKEN = frozenset(
    {"lookupSelf", "renewSelf", "revokeSelf", "capabilitiesSelf", "randomPassword"}
    | {"listNamespaces", "listRotations"}
)

OPERATIONS: dict[str, Rule] = {
    "readSecret": Rule(("read",), "{namespace}/data/{path}"),
    "writeSecret": Rule(("create", "update"), "{namespace}/data/{path}"),
    "writeSecretPost": Rule(("create", "update"), "{namespace}/data/{path}"),
    "patchSecret": Rule(("patch",), "{namespace}/data/{path}"),
    "deleteLatest": Rule(("delete",), "{namespace}/data/{path}"),
    "deleteVersions": Rule(("update",), "{namespace}/delete/{path}"),
    "undeleteVersions": Rule(("update",), "{namespace}/undelete/{path}"),
    "destroyVersions": Rule(("update",), "{namespace}/destroy/{path}"),
    # the old version is read, then written again
    "rollbackSecret": Rule(("update",), _DATA, also=(("read", _DATA),)),
    "readMetadata": Rule(("read",), "{namespace}/metadata/{path}"),
    "writeMetadata": Rule(("create", "update"), "{namespace}/metadata/{path}"),
    "writeMetadataPost": Rule(("create", "update"), "{namespace}/metadata/{path}"),
    "deleteSecret": Rule(("delete",), "{namespace}/metadata/{path}"),
    "listRoot": Rule(("list",), "{namespace}/metadata/"),
    "listPrefix": Rule(("list",), "{namespace}/metadata/{path}/"),
    "searchSecrets": Rule(("list",), "{namespace}/metadata/"),
    "setLabel": Rule(("update",), "{namespace}/metadata/{path}"),
    "createNamespace": Rule(("create",), "sys/namespaces/{name}"),
    "readNamespace": Rule(("read",), "sys/namespaces/{namespace}"),
    "deleteNamespace": Rule(("delete",), "sys/namespaces/{namespace}"),
    "keyStatus": Rule(("read",), "sys/namespaces/{namespace}/keys"),
    "rotateKeys": Rule(("update",), "sys/namespaces/{namespace}/keys"),
    "rewrapKeys": Rule(("update",), "sys/namespaces/{namespace}/keys"),
    "retireKeyTerm": Rule(("update",), "sys/namespaces/{namespace}/keys"),
    "rotateRootKey": Rule((), "sys/kms/rotate-root", sudo=True),
    "migrateKeys": Rule((), "sys/namespaces/{namespace}/keys", sudo=True),
    "generateDataKey": Rule(("update",), "sys/kms/encrypt/{namespace}"),
    "decryptDataKey": Rule(("update",), "sys/kms/decrypt/{namespace}"),
    "createToken": Rule(("update",), "auth/token/create"),
    "createTokenWithRole": Rule(("update",), "auth/token/create/{role}"),
    "lookupToken": Rule(("update",), "auth/token/lookup"),
    "renewToken": Rule(("update",), "auth/token/renew"),
    "revokeToken": Rule(("update",), "auth/token/revoke"),
    "listAccessors": Rule(("list",), "auth/token/accessors/", sudo=True),
    "listTokenRoles": Rule(("list",), "auth/token/roles/"),
    "readTokenRole": Rule(("read",), "auth/token/roles/{name}"),
    "writeTokenRole": Rule(("create", "update"), "auth/token/roles/{name}"),
    "writeTokenRolePost": Rule(("create", "update"), "auth/token/roles/{name}"),
    "deleteTokenRole": Rule(("delete",), "auth/token/roles/{name}"),
    "listAppRoles": Rule(("list",), "auth/approle/role/"),
    "readAppRole": Rule(("read",), "auth/approle/role/{name}"),
    "writeAppRole": Rule(("create", "update"), "auth/approle/role/{name}"),
    "writeAppRolePost": Rule(("create", "update"), "auth/approle/role/{name}"),
    "deleteAppRole": Rule(("delete",), "auth/approle/role/{name}"),
    "readRoleId": Rule(("read",), "auth/approle/role/{name}/role-id"),
    "listSecretIds": Rule(("list",), "auth/approle/role/{name}/secret-id"),
    "generateSecretId": Rule(("update",), "auth/approle/role/{name}/secret-id"),
    "lookupSecretId": Rule(("update",), "auth/approle/role/{name}/secret-id"),
    "destroySecretId": Rule(("update",), "auth/approle/role/{name}/secret-id"),
    "lookupSecretIdAccessor": Rule(("update",), "auth/approle/role/{name}/secret-id"),
    "destroySecretIdAccessor": Rule(("update",), "auth/approle/role/{name}/secret-id"),
    "listUsers": Rule(("list",), "auth/userpass/users/"),
    "readUser": Rule(("read",), "auth/userpass/users/{name}"),
    "writeUser": Rule(("create", "update"), "auth/userpass/users/{name}"),
    "writeUserPost": Rule(("create", "update"), "auth/userpass/users/{name}"),
    "deleteUser": Rule(("delete",), "auth/userpass/users/{name}"),
    "readJwtConfig": Rule(("read",), "auth/jwt/config"),
    "writeJwtConfig": Rule(("update",), "auth/jwt/config"),
    "listJwtRoles": Rule(("list",), "auth/jwt/role"),
    "readJwtRole": Rule(("read",), "auth/jwt/role/{name}"),
    "writeJwtRole": Rule(("create", "update"), "auth/jwt/role/{name}"),
    "writeJwtRolePost": Rule(("create", "update"), "auth/jwt/role/{name}"),
    "deleteJwtRole": Rule(("delete",), "auth/jwt/role/{name}"),
    "readKubernetesConfig": Rule(("read",), "auth/kubernetes/config"),
    "writeKubernetesConfig": Rule(("update",), "auth/kubernetes/config"),
    "listKubernetesRoles": Rule(("list",), "auth/kubernetes/role"),
    "readKubernetesRole": Rule(("read",), "auth/kubernetes/role/{name}"),
    "writeKubernetesRole": Rule(("create", "update"), "auth/kubernetes/role/{name}"),
    "writeKubernetesRolePost": Rule(("create", "update"), "auth/kubernetes/role/{name}"),
    "deleteKubernetesRole": Rule(("delete",), "auth/kubernetes/role/{name}"),
    "listPolicies": Rule(("list",), "sys/policies/acl/"),
    "readPolicy": Rule(("read",), "sys/policies/acl/{name}"),
    "writePolicy": Rule(("create", "update"), "sys/policies/acl/{name}"),
    "writePolicyPost": Rule(("create", "update"), "sys/policies/acl/{name}"),
    "deletePolicy": Rule(("delete",), "sys/policies/acl/{name}"),
    "listAuditSinks": Rule((), "sys/audit", sudo=True),
    "writeAuditSink": Rule((), "sys/audit/{name}", sudo=True),
    "writeAuditSinkPost": Rule((), "sys/audit/{name}", sudo=True),
    "deleteAuditSink": Rule((), "sys/audit/{name}", sudo=True),
    "verifyAudit": Rule((), "sys/audit/{name}", sudo=True),
    "recentAudit": Rule((), "sys/audit/{name}", sudo=True),
    "auditHash": Rule(("update",), "sys/audit-hash/{name}"),
    "seal": Rule((), "sys/seal", sudo=True),
    "backup": Rule((), "sys/backup", sudo=True),
    "createAwsCredentials": Rule((), "sys/aws/credentials", sudo=True),
    "listAwsCredentials": Rule((), "sys/aws/credentials", sudo=True),
    "revokeAwsCredentials": Rule((), "sys/aws/credentials", sudo=True),
    "createAwsLambdaFunction": Rule((), "sys/aws/lambda-functions", sudo=True),
    "listAwsLambdaFunctions": Rule((), "sys/aws/lambda-functions", sudo=True),
    "deleteAwsLambdaFunction": Rule((), "sys/aws/lambda-functions", sudo=True),
    "devReset": Rule((), "sys/dev/reset", sudo=True),
    "migrateSeal": Rule((), "sys/seal/migrate", sudo=True),
    "rekey": Rule((), "sys/rekey", sudo=True),
    "rekeyVerify": Rule((), "sys/rekey", sudo=True),
    "rekeyCancel": Rule((), "sys/rekey", sudo=True),
    "rotationStatus": Rule(("read",), "sys/rotation/{namespace}/{path}"),
    # the rotation will read and write the secret: its configurer must be able to
    "configureRotation": Rule(
        ("update",), "sys/rotation/{namespace}/{path}", also=(("update", _DATA), ("read", _DATA))
    ),
    "removeRotation": Rule(("delete",), "sys/rotation/{namespace}/{path}"),
    "rotateNow": Rule(("update",), "sys/rotation/{namespace}/{path}"),
    "cancelRotation": Rule(("update",), "sys/rotation/{namespace}/{path}"),
    "metrics": Rule(("read",), "sys/metrics"),
}
