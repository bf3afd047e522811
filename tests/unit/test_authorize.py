"""policy/authorize.py: strongroom's policies with a resource's own, in each mode; and Secrets
Manager's operation catalogue against the table docs/compat-aws.md shows users."""

from __future__ import annotations

from pathlib import Path

import pytest

from strongroom.compat.aws.kms.catalogue import OPERATIONS as KMS_OPERATIONS
from strongroom.compat.aws.secretsmanager.catalogue import OPERATIONS, ROTATION
from strongroom.compat.aws.ssm.catalogue import OPERATIONS as SSM_OPERATIONS
from strongroom.policy.authorize import ResourcePolicyMode, authorize
from strongroom.policy.aws_documents import Decision
from strongroom.policy.kv import DATA, METADATA

ADDITIVE, DENY_ONLY, AUTHORITATIVE = (
    ResourcePolicyMode.ADDITIVE,
    ResourcePolicyMode.DENY_ONLY,
    ResourcePolicyMode.AUTHORITATIVE,
)


@pytest.mark.parametrize(
    ("mode", "verdict", "by_policies", "expected"),
    [
        # a Deny in the resource's policy refuses in every mode, whatever strongroom allows
        *((mode, Decision.DENY, True, False) for mode in ResourcePolicyMode),
        # a Secrets Manager resource policy adds: an Allow grants, no statement leaves it
        (ADDITIVE, Decision.ALLOW, False, True),
        (ADDITIVE, Decision.NONE, True, True),
        (ADDITIVE, Decision.NONE, False, False),
        (ADDITIVE, Decision.ACCOUNT, False, False),
        # rotation: the resource policy can only take away
        (DENY_ONLY, Decision.ALLOW, False, False),
        (DENY_ONLY, Decision.ALLOW, True, True),
        (DENY_ONLY, Decision.NONE, True, True),
        # a key policy decides: naming the account hands over; naming neither refuses
        (AUTHORITATIVE, Decision.ALLOW, False, True),
        (AUTHORITATIVE, Decision.ACCOUNT, True, True),
        (AUTHORITATIVE, Decision.ACCOUNT, False, False),
        (AUTHORITATIVE, Decision.NONE, True, False),
    ],
)
def test_the_resource_policy_modes(
    mode: ResourcePolicyMode, verdict: Decision, by_policies: bool, expected: bool
) -> None:
    assert authorize(by_policies, verdict, mode) is expected


def _table_rows() -> list[str]:
    docs = Path(__file__).resolve().parents[2] / "docs" / "compat-aws.md"
    return [line for line in docs.read_text().splitlines() if line.startswith(("| `", "| SSM `"))]


def test_the_secrets_manager_catalogue_is_the_documented_table() -> None:
    rows = _table_rows()
    where = {DATA: "`aws-R/data/N`", METADATA: "`aws-R/metadata/N`", ROTATION: "sys/rotation"}
    for action, rule in OPERATIONS.items():
        shown = [row for row in rows if f"`{action}`" in row.split("|")[1]]
        assert any(f"`{rule.capability}`" in row and where[rule.area] in row for row in shown), (
            f"{action}: {rule.capability} on {rule.area} is not what docs/compat-aws.md says"
        )


def test_the_kms_catalogue_is_the_documented_table() -> None:
    """Each action the table names in its first column shows its rule's capability and path
    (internal steps such as ReEncrypt's two halves are documented as ReEncrypt)."""
    rows = _table_rows()
    named = 0
    for action, rule in KMS_OPERATIONS.items():
        shown = [row for row in rows if f"`{action}`" in row.split("|")[1]]
        named += bool(shown)
        path = f"`aws-kms-R/{rule.area}/<key id>`"
        assert not shown or any(f"`{rule.capability}`" in r and path in r for r in shown), (
            f"{action}: {rule.capability} on {path} is not what docs/compat-aws.md says"
        )
    assert named >= 20  # the table names most of them


def test_the_parameter_store_catalogue_is_the_documented_table() -> None:
    rows = [row for row in _table_rows() if row.startswith("| SSM")]
    named = 0
    for action, rule in SSM_OPERATIONS.items():
        shown = [row for row in rows if f"`{action}`" in row.split("|")[1]]
        named += bool(shown)
        path = f"`aws-ssm-R/{rule.area}/<path>`"
        assert not shown or any(f"`{rule.capability}`" in r and path in r for r in shown), (
            f"{action}: {rule.capability} on {path} is not what docs/compat-aws.md says"
        )
    assert named >= 7


# Routed operations that act on no one resource, so no rule of the catalogue: they check a
# capability on the API's collection (creating, listing) or none (random bytes). ReEncrypt is
# checked as its two halves, ReEncryptFrom and ReEncryptTo.
_WITHOUT_A_RULE = {
    "kms": {"CreateKey", "ListKeys", "GenerateRandom", "ReEncrypt"},
    "secretsmanager": {"CreateSecret", "ListSecrets", "BatchGetSecretValue", "GetRandomPassword"},
    "ssm": {"PutParameter", "DescribeParameters"},
}
_HALVES: dict[str, set[str]] = {
    "kms": {"ReEncryptFrom", "ReEncryptTo"},
    "secretsmanager": set(),
    "ssm": set(),
}


def test_every_routed_operation_is_checked_under_its_own_name() -> None:
    """Each operation on a resource has its rule, under its own name (a key policy or resource
    policy that names the action decides it; an action authorized under another's name would
    escape a policy that denies it), and every rule is an operation that is served."""
    import strongroom.server  # noqa: F401  (the routes import the server's shared parts first)
    from strongroom.compat.aws.kms.routes import KMS_ROUTES
    from strongroom.compat.aws.secretsmanager.routes import SECRETS_MANAGER_ROUTES
    from strongroom.compat.aws.ssm.routes import SSM_ROUTES

    apis = {
        "kms": (KMS_ROUTES, set(KMS_OPERATIONS)),
        "secretsmanager": (SECRETS_MANAGER_ROUTES, set(OPERATIONS)),
        "ssm": (SSM_ROUTES, set(SSM_OPERATIONS)),
    }
    for api, (routes, ruled) in apis.items():
        routed = {route.path.rsplit(".", 1)[1] for route in routes}
        assert routed - ruled == _WITHOUT_A_RULE[api], api
        assert ruled - routed == _HALVES[api], api
