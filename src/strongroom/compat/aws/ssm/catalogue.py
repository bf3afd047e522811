"""Each Parameter Store action on a parameter, and the capability it needs on the parameter's
policy path (the KV v2 map of ``aws-ssm-R``). Parameter Store has no resource policies.
``core.SsmCore._require`` reads this, and docs/compat-aws.md's table is checked against it
(tests/unit/test_authorize.py). PutParameter needs ``create`` or ``update`` (parameters.py), a
path read shows what ``read`` on each parameter lets the caller see, and DescribeParameters
what the caller may see (``Identity.can_see_secret``)."""

from __future__ import annotations

from dataclasses import dataclass

from strongroom.policy.kv import DATA, METADATA

__all__ = ["OPERATIONS", "Rule"]


@dataclass(frozen=True)
class Rule:
    capability: str
    area: str  # DATA or METADATA


OPERATIONS: dict[str, Rule] = {
    "GetParameter": Rule("read", DATA),
    "GetParameters": Rule("read", DATA),
    "GetParameterHistory": Rule("read", DATA),
    "GetParametersByPath": Rule("read", DATA),  # each parameter under the path
    "DeleteParameter": Rule("delete", METADATA),
    "DeleteParameters": Rule("delete", METADATA),
    "LabelParameterVersion": Rule("update", METADATA),
    "UnlabelParameterVersion": Rule("update", METADATA),
    "AddTagsToResource": Rule("update", METADATA),
    "RemoveTagsFromResource": Rule("update", METADATA),
    "ListTagsForResource": Rule("read", METADATA),
}
