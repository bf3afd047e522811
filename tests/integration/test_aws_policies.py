"""Secrets Manager resource policies and KMS key policies on a real strongroom server, through
boto3: stored, enforced together with strongroom's own policies as AWS combines a resource's
policy with IAM's, refused precisely when malformed, and never an oracle of existence."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.helpers import (
    AWS_DEV_KEY,
    MotoServer,
    StrongroomServer,
    aws_client,
    aws_dev_server,
    issue_aws_key,
)
from tests.helpers import (
    aws_outcome as _code,
)

REGION = "eu-west-1"
ACCOUNT = "000000000000"
ROOT = {"Authorization": "Bearer pol-root"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    with aws_dev_server(tmp_path_factory.mktemp("aws-pol") / "data", "pol-root") as started:
        yield started


def _issue(server: StrongroomServer, name: str, policy: str) -> tuple[str, str]:
    """An access key named ``name`` (arn:aws:iam::ACCOUNT:user/NAME) with one strongroom policy."""
    return issue_aws_key(server, "pol-root", name, policy)


def _user(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _error(action: Any) -> tuple[str, str]:
    try:
        action()
    except ClientError as exc:
        return exc.response["Error"]["Code"], exc.response["Error"]["Message"]
    return "ok", ""


def _expect(holds: bool) -> None:
    """A step of a scenario that checks an answer: a wrong one fails the test outright."""
    assert holds


# -- Secrets Manager
def test_a_resource_policy_grants_and_denies(server: StrongroomServer) -> None:
    sm = aws_client("secretsmanager", server.addr, REGION, AWS_DEV_KEY)
    name = f"shared/{secrets.token_hex(4)}"
    arn = sm.create_secret(Name=name, SecretString="v1")["ARN"]
    sm.put_secret_value(SecretId=name, SecretString="v2")
    reader_name = f"reader{secrets.token_hex(3)}"
    reader = aws_client(
        "secretsmanager",
        server.addr,
        REGION,
        _issue(server, reader_name, 'path "nothing/here" { capabilities = ["deny"] }'),
    )
    writer_name = f"writer{secrets.token_hex(3)}"
    data, metadata = f"aws-{REGION}/data/{name}", f"aws-{REGION}/metadata/{name}"
    writer = aws_client(
        "secretsmanager",
        server.addr,
        REGION,
        _issue(
            server,
            writer_name,
            f'path "{data}" {{ capabilities = ["read", "update"] }}\n'
            f'path "{metadata}" {{ capabilities = ["read", "update"] }}',
        ),
    )
    # without a resource policy, strongroom's policies alone decide
    assert _code(lambda: reader.get_secret_value(SecretId=name)) == "AccessDeniedException"
    assert writer.get_secret_value(SecretId=name)["SecretString"] == "v2"
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=name)

    policy = _doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": _user(reader_name)},
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*",
        },
        {
            "Effect": "Deny",
            "Principal": {"AWS": [_user(writer_name), _user(reader_name)]},
            "Action": "secretsmanager:GetSecretValue",
            "Resource": arn,
            "Condition": {"StringEquals": {"secretsmanager:VersionStage": "AWSPREVIOUS"}},
        },
        {
            "Effect": "Deny",
            "Principal": {"AWS": _user(writer_name)},
            "Action": ["secretsmanager:PutSecretValue", "secretsmanager:Tag*"],
            "Resource": "*",
        },
    )
    # putting one needs sudo on the secret's metadata: update is not enough
    assert (
        _code(lambda: writer.put_resource_policy(SecretId=name, ResourcePolicy=policy))
        == "AccessDeniedException"
    )
    answer = sm.put_resource_policy(SecretId=name, ResourcePolicy=policy)
    assert answer["ARN"] == arn and answer["Name"] == name
    assert sm.get_resource_policy(SecretId=name)["ResourcePolicy"] == policy

    # the policy grants the reader what strongroom's policies do not, and only that
    assert reader.get_secret_value(SecretId=name)["SecretString"] == "v2"
    assert _code(lambda: reader.describe_secret(SecretId=name)) == "AccessDeniedException"
    assert (
        _code(lambda: reader.put_secret_value(SecretId=name, SecretString="x"))
        == "AccessDeniedException"
    )
    # a Deny wins over strongroom's grant, and its conditions are honoured
    assert (
        _code(lambda: writer.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS"))
        == "AccessDeniedException"
    )
    assert (
        _code(lambda: reader.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS"))
        == "AccessDeniedException"
    )
    assert writer.get_secret_value(SecretId=name)["SecretString"] == "v2"
    assert (
        _code(lambda: writer.put_secret_value(SecretId=name, SecretString="x"))
        == "AccessDeniedException"
    )
    assert (
        _code(lambda: writer.tag_resource(SecretId=name, Tags=[{"Key": "k", "Value": "v"}]))
        == "AccessDeniedException"
    )
    writer.update_secret(SecretId=name, Description="still allowed")
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "v2"  # nothing was written

    # a refusal says nothing of existence: a denied secret and a missing one read alike
    denied = _error(lambda: writer.put_secret_value(SecretId=name, SecretString="x"))
    missing_name = f"shared/{secrets.token_hex(4)}"
    missing = _error(lambda: writer.put_secret_value(SecretId=missing_name, SecretString="x"))
    assert denied == missing
    assert denied[0] == "AccessDeniedException" and "PutSecretValue" in denied[1]

    sm.delete_resource_policy(SecretId=name)
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=name)
    assert _code(lambda: reader.get_secret_value(SecretId=name)) == "AccessDeniedException"
    writer.put_secret_value(SecretId=name, SecretString="v3")


def test_resource_policies_are_checked_before_they_are_stored(server: StrongroomServer) -> None:
    sm = aws_client("secretsmanager", server.addr, REGION, AWS_DEV_KEY)
    name = f"checked/{secrets.token_hex(4)}"
    sm.create_secret(Name=name, SecretString="v")
    good = _doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": ACCOUNT},
            "Action": "secretsmanager:*",
            "Resource": "*",
        }
    )
    sm.put_resource_policy(SecretId=name, ResourcePolicy=good)
    public = _doc(
        {"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*"}
    )
    bad = {
        "not JSON": "{",
        "NotPrincipal": _doc(
            {"Effect": "Deny", "NotPrincipal": {"AWS": ACCOUNT}, "Action": "*", "Resource": "*"}
        ),
        "another service's action": _doc(
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}
        ),
        "an unknown condition key": _doc(
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "*",
                "Resource": "*",
                "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
            }
        ),
        "no Effect": _doc({"Principal": "*", "Action": "*", "Resource": "*"}),
        "a bad principal": _doc(
            {"Effect": "Allow", "Principal": {"AWS": "bob"}, "Action": "*", "Resource": "*"}
        ),
        "a deep document": "[" * 5000 + "]" * 5000,
    }
    for why, text in bad.items():
        assert (
            _code(partial(sm.put_resource_policy, SecretId=name, ResourcePolicy=text))
            == "MalformedPolicyDocumentException"
        ), why
    assert (
        _code(
            lambda: sm.put_resource_policy(
                SecretId=name, ResourcePolicy=public, BlockPublicPolicy=True
            )
        )
        == "PublicPolicyException"
    )
    assert sm.get_resource_policy(SecretId=name)["ResourcePolicy"] == good  # unchanged

    assert sm.validate_resource_policy(SecretId=name, ResourcePolicy=good) == {
        "PolicyValidationPassed": True,
        "ValidationErrors": [],
        "ResponseMetadata": sm.validate_resource_policy(SecretId=name, ResourcePolicy=good)[
            "ResponseMetadata"
        ],
    }
    broad = sm.validate_resource_policy(ResourcePolicy=public)
    assert not broad["PolicyValidationPassed"]
    assert [e["CheckName"] for e in broad["ValidationErrors"]] == ["BROAD_ACCESS"]
    lockout = _doc(
        {
            "Effect": "Deny",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "secretsmanager:*ResourcePolicy",
            "Resource": "*",
        }
    )
    checked = sm.validate_resource_policy(SecretId=name, ResourcePolicy=lockout)
    assert [e["CheckName"] for e in checked["ValidationErrors"]] == ["LOCKOUT", "LOCKOUT"]
    assert (
        _code(lambda: sm.validate_resource_policy(ResourcePolicy="{"))
        == "MalformedPolicyDocumentException"
    )


def _policy_scenario(sm: Any, name: str) -> list[str]:
    policy = _doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*",
        }
    )
    steps = [
        lambda: sm.create_secret(Name=name, SecretString="v"),
        lambda: sm.put_resource_policy(SecretId=name, ResourcePolicy=policy),
        lambda: _expect(sm.get_resource_policy(SecretId=name)["ResourcePolicy"] == policy),
        lambda: sm.delete_resource_policy(SecretId=name),
        lambda: _expect("ResourcePolicy" not in sm.get_resource_policy(SecretId=name)),
        lambda: sm.put_resource_policy(SecretId=f"{name}-missing", ResourcePolicy=policy),
        lambda: sm.get_resource_policy(SecretId=f"{name}-missing"),
        lambda: sm.get_secret_value(SecretId=name),
    ]
    return [_code(step) for step in steps]


def test_resource_policy_calls_against_moto_and_strongroom(
    server: StrongroomServer, moto: MotoServer
) -> None:
    name = f"moto/{secrets.token_hex(4)}"
    ours = _policy_scenario(aws_client("secretsmanager", server.addr, REGION, AWS_DEV_KEY), name)
    theirs = _policy_scenario(
        aws_client("secretsmanager", moto.endpoint, REGION, AWS_DEV_KEY), name
    )
    assert ours == theirs
    assert ours[5] == "ResourceNotFoundException"


# -- KMS key policies
def test_key_policies_are_enforced(server: StrongroomServer) -> None:
    kms = aws_client("kms", server.addr, REGION, AWS_DEV_KEY)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    default = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    assert default["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert kms.list_key_policies(KeyId=key_id)["PolicyNames"] == ["default"]
    app_name = f"app{secrets.token_hex(3)}"
    mount = f"aws-kms-{REGION}"
    app = aws_client(
        "kms",
        server.addr,
        REGION,
        _issue(
            server,
            app_name,
            f'path "{mount}/encrypt/{key_id}" {{ capabilities = ["update"] }}\n'
            f'path "{mount}/decrypt/{key_id}" {{ capabilities = ["update"] }}\n'
            f'path "{mount}/keys/{key_id}" {{ capabilities = ["read", "update"] }}',
        ),
    )
    sealed_a = app.encrypt(KeyId=key_id, Plaintext=b"a", EncryptionContext={"tenant": "a"})
    sealed_b = app.encrypt(KeyId=key_id, Plaintext=b"b", EncryptionContext={"tenant": "b"})

    # the account keeps its delegation; the app may decrypt only tenant a's data
    policy = _doc(
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Effect": "Deny",
            "Principal": {"AWS": _user(app_name)},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"kms:EncryptionContext:tenant": "a"}},
        },
    )
    assert (
        _code(lambda: app.put_key_policy(KeyId=key_id, PolicyName="default", Policy=policy))
        == "AccessDeniedException"  # update on the key is not enough: a key policy needs sudo
    )
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=policy)
    assert kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"] == policy
    blob_a, blob_b = sealed_a["CiphertextBlob"], sealed_b["CiphertextBlob"]
    assert (
        app.decrypt(CiphertextBlob=blob_a, EncryptionContext={"tenant": "a"})["Plaintext"] == b"a"
    )
    assert (
        _code(lambda: app.decrypt(CiphertextBlob=blob_b, EncryptionContext={"tenant": "b"}))
        == "AccessDeniedException"
    )
    assert kms.decrypt(CiphertextBlob=blob_b, EncryptionContext={"tenant": "b"})["Plaintext"] == (
        b"b"
    )

    # a policy that names the app alone: the account (and so strongroom's policies) is out
    direct = _doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": _user(app_name)},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GetKeyPolicy", "kms:PutKeyPolicy"],
            "Resource": "*",
        }
    )
    assert (
        _code(lambda: kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=direct))
        == "MalformedPolicyDocumentException"  # the lockout safety check: root would lose it
    )
    kms.put_key_policy(
        KeyId=key_id, PolicyName="default", Policy=direct, BypassPolicyLockoutSafetyCheck=True
    )
    assert _code(lambda: kms.describe_key(KeyId=key_id)) == "AccessDeniedException"
    assert _code(lambda: kms.encrypt(KeyId=key_id, Plaintext=b"x")) == "AccessDeniedException"
    assert app.decrypt(CiphertextBlob=blob_b, EncryptionContext={"tenant": "b"})["Plaintext"] == (
        b"b"
    )
    assert _code(lambda: app.describe_key(KeyId=key_id)) == "AccessDeniedException"
    # the policy itself lets the app put a new one (it names the app for kms:PutKeyPolicy)
    assert (
        _code(lambda: app.put_key_policy(KeyId=key_id, PolicyName="default", Policy=policy))
        == "MalformedPolicyDocumentException"  # without sudo, the new one would lock the app out
    )
    app.put_key_policy(
        KeyId=key_id, PolicyName="default", Policy=policy, BypassPolicyLockoutSafetyCheck=True
    )
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyId"] == key_id


def test_key_policies_at_creation_and_malformed(server: StrongroomServer) -> None:
    kms = aws_client("kms", server.addr, REGION, AWS_DEV_KEY)
    outsider = _doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": _user("nobody")},
            "Action": "kms:*",
            "Resource": "*",
        }
    )
    before = len(kms.list_keys()["Keys"])
    assert _code(lambda: kms.create_key(Policy=outsider)) == "MalformedPolicyDocumentException"
    assert len(kms.list_keys()["Keys"]) == before  # nothing made
    made = kms.create_key(Policy=outsider, BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]
    assert _code(lambda: kms.describe_key(KeyId=made["KeyId"])) == "AccessDeniedException"
    # refused alike: a key the policy keeps from us and a key that does not exist
    missing = "00000000-0000-4000-8000-000000000000"
    refused = _error(lambda: kms.encrypt(KeyId=made["KeyId"], Plaintext=b"x"))
    absent = _error(lambda: kms.encrypt(KeyId=missing, Plaintext=b"x"))
    assert refused[0] == "AccessDeniedException" and absent[0] == "NotFoundException"

    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    for text in (
        "{",
        _doc({"Effect": "Allow", "Principal": "*", "Action": "sm:*", "Resource": "*"}),
    ):
        assert (
            _code(partial(kms.put_key_policy, KeyId=key_id, PolicyName="default", Policy=text))
            == "MalformedPolicyDocumentException"
        )
    assert (
        _code(lambda: kms.get_key_policy(KeyId=key_id, PolicyName="other")) == "NotFoundException"
    )
    assert kms.encrypt(KeyId=key_id, Plaintext=b"x")["KeyId"].endswith(key_id)


def test_an_issued_key_learns_nothing_from_a_key_policy(server: StrongroomServer) -> None:
    """A caller without rights gets one answer for a missing key and for a key whose policy
    denies it, in the same words."""
    kms = aws_client("kms", server.addr, REGION, AWS_DEV_KEY)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    deny_all = _doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {"Effect": "Deny", "Principal": "*", "Action": "kms:Encrypt", "Resource": "*"},
    )
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=deny_all)
    name = f"nobody{secrets.token_hex(3)}"
    nobody = aws_client(
        "kms",
        server.addr,
        REGION,
        _issue(server, name, 'path "nothing/here" { capabilities = ["deny"] }'),
    )
    missing = "00000000-0000-4000-8000-00000000abcd"
    denied = _error(lambda: nobody.encrypt(KeyId=key_id, Plaintext=b"x"))
    absent = _error(lambda: nobody.encrypt(KeyId=missing, Plaintext=b"x"))
    assert denied[0] == absent[0] == "AccessDeniedException"
    assert denied[1].replace(key_id, "K") == absent[1].replace(missing, "K")
    # and the Deny binds the account's own root too
    assert _code(lambda: kms.encrypt(KeyId=key_id, Plaintext=b"x")) == "AccessDeniedException"


def _key_policy_scenario(kms: Any) -> list[str]:
    policy = _doc(
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    )
    key_id = kms.create_key(Policy=policy)["KeyMetadata"]["KeyId"]
    steps = [
        lambda: _expect(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"] == policy),
        lambda: kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=policy),
        lambda: _expect(kms.list_key_policies(KeyId=key_id)["PolicyNames"] == ["default"]),
        lambda: kms.encrypt(KeyId=key_id, Plaintext=b"x"),
    ]
    return [_code(step) for step in steps]


def test_key_policy_calls_against_moto_and_strongroom(
    server: StrongroomServer, moto: MotoServer
) -> None:
    ours = _key_policy_scenario(aws_client("kms", server.addr, REGION, AWS_DEV_KEY))
    theirs = _key_policy_scenario(aws_client("kms", moto.endpoint, REGION, AWS_DEV_KEY))
    assert ours == theirs == ["ok"] * 4


def test_policy_documents_keep_out_of_the_audit_log(
    server: StrongroomServer, tmp_path: Path
) -> None:
    """A policy's text is not a secret, but its principal names and conditions say who may
    read what: the audit log keeps the request's HMAC'd fields only."""
    sm = aws_client("secretsmanager", server.addr, REGION, AWS_DEV_KEY)
    name = f"audited/{secrets.token_hex(4)}"
    sm.create_secret(Name=name, SecretString="v")
    marker = f"marker{secrets.token_hex(6)}"
    policy = _doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": _user(marker)},
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*",
        }
    )
    sm.put_resource_policy(SecretId=name, ResourcePolicy=policy)
    audit = (server.data_dir / "audit.log").read_text()
    assert "PutResourcePolicy" in audit and marker not in audit


def test_the_aws_cli_puts_and_reads_policies(server: StrongroomServer, tmp_path: Path) -> None:
    """The AWS CLI as an operator runs it: a resource policy (a public one refused with
    --block-public-policy) and a key policy from a file."""
    sm = aws_client("secretsmanager", server.addr, REGION, AWS_DEV_KEY)
    name = f"cli/{secrets.token_hex(4)}"
    sm.create_secret(Name=name, SecretString="v")
    key_id = aws_client("kms", server.addr, REGION, AWS_DEV_KEY).create_key()["KeyMetadata"][
        "KeyId"
    ]
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": AWS_DEV_KEY[0],
        "AWS_SECRET_ACCESS_KEY": AWS_DEV_KEY[1],
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": server.addr,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }

    def aws(*args: str) -> subprocess.CompletedProcess[str]:
        command = ["aws", *args, "--output", "json"]
        return subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path
        )

    public = _doc(
        {"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*"}
    )
    refused = aws(
        "secretsmanager",
        "put-resource-policy",
        "--secret-id",
        name,
        "--resource-policy",
        public,
        "--block-public-policy",
    )
    assert refused.returncode != 0 and "PublicPolicyException" in refused.stderr
    reader = _doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": _user("billing")},
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*",
        }
    )
    put = aws(
        "secretsmanager", "put-resource-policy", "--secret-id", name, "--resource-policy", reader
    )
    assert put.returncode == 0, put.stderr
    got = aws("secretsmanager", "get-resource-policy", "--secret-id", name)
    assert json.loads(json.loads(got.stdout)["ResourcePolicy"]) == json.loads(reader)

    policy_file = tmp_path / "key-policy.json"
    fetched = aws("kms", "get-key-policy", "--key-id", key_id, "--policy-name", "default")
    policy_file.write_text(json.loads(fetched.stdout)["Policy"])
    put_key = aws(
        "kms",
        "put-key-policy",
        "--key-id",
        key_id,
        "--policy-name",
        "default",
        "--policy",
        f"file://{policy_file}",
    )
    assert put_key.returncode == 0, put_key.stderr


def test_an_arns_suffix_is_no_oracle(server: StrongroomServer) -> None:
    """DescribeSecret by full ARN answers a caller without rights alike whether the random
    suffix is right or not (issue 20, 13)."""
    sm = aws_client("secretsmanager", server.addr, REGION, AWS_DEV_KEY)
    name = f"oracle/{secrets.token_hex(4)}"
    arn = sm.create_secret(Name=name, SecretString="x")["ARN"]
    outsider = aws_client(
        "secretsmanager",
        server.addr,
        REGION,
        _issue(server, "outsider", 'path "x/*" { capabilities = ["read"] }'),
    )
    suffix = arn.rsplit("-", 1)[1]
    wrong = arn[: -len(suffix)] + ("A" if suffix[0] != "A" else "B") + suffix[1:]
    for call in (outsider.describe_secret, outsider.get_secret_value):
        right_answer = _error(lambda: call(SecretId=arn))  # noqa: B023
        wrong_answer = _error(lambda: call(SecretId=wrong))  # noqa: B023
        assert right_answer == wrong_answer
        assert right_answer[0] == "AccessDeniedException"


def test_each_kms_action_is_decided_under_its_own_name(server: StrongroomServer) -> None:
    """GetKeyRotationStatus, ListResourceTags, ListKeyPolicies and ListKeyRotations are their
    own actions in a key policy (they were decided as DescribeKey or GetKeyPolicy), and
    DeleteAlias needs the key's word as well as the alias's path, as in AWS."""
    kms = aws_client("kms", server.addr, REGION, AWS_DEV_KEY)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/own-names", TargetKeyId=key_id)
    app_name = f"app{secrets.token_hex(3)}"
    mount = f"aws-kms-{REGION}"
    app = aws_client(
        "kms",
        server.addr,
        REGION,
        _issue(
            server,
            app_name,
            f'path "{mount}/keys/{key_id}" {{ capabilities = ["read", "update"] }}\n'
            f'path "{mount}/aliases/*" {{ capabilities = ["read", "delete"] }}',
        ),
    )
    reads = {
        "GetKeyRotationStatus": lambda: app.get_key_rotation_status(KeyId=key_id),
        "ListResourceTags": lambda: app.list_resource_tags(KeyId=key_id),
        "ListKeyPolicies": lambda: app.list_key_policies(KeyId=key_id),
        "ListKeyRotations": lambda: app.list_key_rotations(KeyId=key_id),
    }
    assert {name: _code(call) for name, call in reads.items()} == dict.fromkeys(reads, "ok")
    denied = [*reads, "DeleteAlias"]
    policy = _doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Effect": "Deny",
            "Principal": {"AWS": _user(app_name)},
            "Action": [f"kms:{name}" for name in denied],
            "Resource": "*",
        },
    )
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=policy)
    assert app.describe_key(KeyId=key_id)["KeyMetadata"]["KeyId"] == key_id  # not denied
    assert {name: _code(call) for name, call in reads.items()} == dict.fromkeys(
        reads, "AccessDeniedException"
    )
    assert _code(lambda: app.delete_alias(AliasName="alias/own-names")) == ("AccessDeniedException")
    assert any(a["AliasName"] == "alias/own-names" for a in kms.list_aliases()["Aliases"])
    kms.delete_alias(AliasName="alias/own-names")  # the account may


def test_a_request_outside_the_model_is_refused_before_rights(server: StrongroomServer) -> None:
    """A member that breaks the API's model is refused for any caller, before its rights or the
    resource are looked at, as AWS checks its model first: the answer is the same whether the
    secret, parameter or key exists, so it tells a caller without rights nothing."""
    from botocore.config import Config

    unchecked = Config(parameter_validation=False)  # boto3 would refuse these itself
    key = _issue(server, "model-outsider", 'path "x/*" { capabilities = ["read"] }')

    def client(service: str, credentials: tuple[str, str]) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=server.addr,
            region_name=REGION,
            aws_access_key_id=credentials[0],
            aws_secret_access_key=credentials[1],
            config=unchecked,
        )

    owner_sm = aws_client("secretsmanager", server.addr, REGION, AWS_DEV_KEY)
    owner_ssm = aws_client("ssm", server.addr, REGION, AWS_DEV_KEY)
    owner_kms = aws_client("kms", server.addr, REGION, AWS_DEV_KEY)
    sm, ssm, kms = client("secretsmanager", key), client("ssm", key), client("kms", key)
    try:
        name = f"model/{secrets.token_hex(4)}"
        owner_sm.create_secret(Name=name, SecretString="x")
        owner_ssm.put_parameter(Name=f"/{name}", Value="x", Type="String")
        key_id = owner_kms.create_key()["KeyMetadata"]["KeyId"]
        absent = f"model/{secrets.token_hex(4)}"
        calls = {
            "a short ClientRequestToken": lambda n: sm.put_secret_value(
                SecretId=n, SecretString="v", ClientRequestToken="short"
            ),
            "an empty VersionStages": lambda n: sm.put_secret_value(
                SecretId=n, SecretString="v", VersionStages=[]
            ),
            "an empty VersionStage": lambda n: sm.update_secret_version_stage(
                SecretId=n, VersionStage=""
            ),
            "a Description too long": lambda n: sm.update_secret(
                SecretId=n, Description="d" * 2049
            ),
            "a Type outside the enum": lambda n: ssm.put_parameter(
                Name=f"/{n}", Value="v", Type="Plain", Overwrite=True
            ),
            "an empty Value": lambda n: ssm.put_parameter(
                Name=f"/{n}", Value="", Type="String", Overwrite=True
            ),
        }
        for why, call in calls.items():
            on_existing, on_absent = _error(partial(call, name)), _error(partial(call, absent))
            assert on_existing == on_absent, why
            assert on_existing[0] == "ValidationException", (why, on_existing)
        too_long = _error(lambda: kms.update_key_description(KeyId=key_id, Description="d" * 9000))
        assert too_long == _error(
            lambda: kms.update_key_description(
                KeyId=absent.replace("/", "-"), Description="d" * 9000
            )
        )
        assert too_long[0] == "ValidationException"
        # a request within the model is refused on rights, again alike
        refused = _error(lambda: sm.put_secret_value(SecretId=name, SecretString="v"))
        assert refused == _error(lambda: sm.put_secret_value(SecretId=absent, SecretString="v"))
        assert refused[0] == "AccessDeniedException"
        assert owner_sm.get_secret_value(SecretId=name)["SecretString"] == "x"  # unchanged
    finally:
        for made in (sm, ssm, kms):
            made.close()
