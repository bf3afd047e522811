"""Path-based ACL policies: Vault's HCL syntax or JSON in, a compiled ACL out."""

from strongroom.policy.model import ACL, CAPABILITIES, Policy, Rule, compile_acl
from strongroom.policy.parse import format_policy, parse_policy

__all__ = [
    "ACL",
    "CAPABILITIES",
    "Policy",
    "Rule",
    "compile_acl",
    "format_policy",
    "parse_policy",
]
