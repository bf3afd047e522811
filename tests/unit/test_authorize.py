"""policy/authorize.py: strongroom's policies with a resource's own, in each mode; and Secrets
Manager's operation catalogue against the table docs/compat-aws.md shows users."""

from __future__ import annotations

from pathlib import Path

import pytest

from strongroom.compat.aws.secretsmanager.catalogue import OPERATIONS, ROTATION
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


def test_the_secrets_manager_catalogue_is_the_documented_table() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "compat-aws.md"
    rows = [line for line in docs.read_text().splitlines() if line.startswith("| `")]
    where = {DATA: "`aws-R/data/N`", METADATA: "`aws-R/metadata/N`", ROTATION: "sys/rotation"}
    for action, rule in OPERATIONS.items():
        shown = [row for row in rows if f"`{action}`" in row.split("|")[1]]
        assert any(f"`{rule.capability}`" in row and where[rule.area] in row for row in shown), (
            f"{action}: {rule.capability} on {rule.area} is not what docs/compat-aws.md says"
        )
