"""What the AWS services keep about a secret or a parameter never shows a value in a repr, and
what they remember per secret stays bounded."""

from __future__ import annotations

from strongroom.compat.aws.secretsmanager.models import MAX_TOKENS, SmSecret, StoredValue
from strongroom.compat.aws.ssm.models import Parameter


def test_reprs_show_no_value_nor_digest() -> None:
    value = StoredValue(string="CANARY-sm-value")
    secret = SmSecret("app/db", "us-east-1", "000000000000", "abcdef", 0.0)
    secret.remember("t" * 32, 1, value.digest())
    parameter = Parameter("/app/p", 1, "String", "CANARY-ssm-value", 0.0)
    for shown in (repr(value), repr(secret), repr(parameter)):
        assert "CANARY" not in shown and value.digest() not in shown


def test_a_secret_remembers_a_bounded_number_of_tokens() -> None:
    secret = SmSecret("app/db", "us-east-1", "000000000000", "abcdef", 0.0)
    for version in range(1, MAX_TOKENS + 51):
        secret.remember(f"{version:032d}", version, "d")
    assert len(secret.tokens) == MAX_TOKENS
    assert secret.version_of(f"{MAX_TOKENS + 50:032d}") == MAX_TOKENS + 50
    assert secret.version_of(f"{1:032d}") is None  # forgotten: its version is long pruned


def test_a_kms_key_record_keeps_no_rotation_period_of_its_own() -> None:
    """The period is the named key's alone; a record written before, with its own copy, still
    reads (the copy is dropped)."""
    import json

    from strongroom.compat.aws.kms.models import KmsKey

    key = KmsKey("1234abcd-12ab-34cd-56ef-1234567890ab", "eu-west-1", "000000000000", 1.0)
    assert "rotation_period_days" not in json.loads(key.encode())
    legacy = {**json.loads(key.encode()), "rotation_period_days": 365}
    assert KmsKey.decode(json.dumps(legacy).encode()) == key


def test_a_secret_record_decodes_to_what_it_encoded() -> None:
    secret = SmSecret("app/db", "us-east-1", "000000000000", "abcdef", 1.5, tags={"team": "a"})
    secret.remember("0" * 32, 1, "digest")
    decoded = SmSecret.decode(secret.encode())
    assert decoded == secret
    assert decoded.rotation_enabled is False
    decoded.tags["team"] = "b"  # its own objects: a second decode is not changed by the first
    assert SmSecret.decode(secret.encode()).tags == {"team": "a"}


def test_a_secret_record_written_before_a_field_existed_gets_its_default() -> None:
    old = b'{"name": "app/db", "region": "us-east-1", "account": "000000000000",'
    old += b' "suffix": "abcdef", "created": 1.5}'
    decoded = SmSecret.decode(old)
    assert decoded == SmSecret("app/db", "us-east-1", "000000000000", "abcdef", 1.5)
    assert decoded.replicas == {} and decoded.resource_policy == ""
