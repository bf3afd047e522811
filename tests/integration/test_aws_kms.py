"""The AWS KMS API (``TrentService``) of a real strongroom server, through boto3 and the AWS CLI,
and side by side with moto's server mode: the same calls, the same outcomes and error codes
(where moto and AWS's documentation disagree, AWS is followed and the test says so)."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from strongroom.testing.kms_conformance import CHECKS
from tests.canary import find_canaries, read_tree
from tests.helpers import (
    AWS_DEV_KEY,
    MotoServer,
    StrongroomServer,
    assert_same_as_moto,
    aws_client,
    aws_dev_server,
    built_provider,
)
from tests.helpers import (
    aws_outcome as _code,
)

DEV_KEY = AWS_DEV_KEY
REGION = "eu-west-1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    with aws_dev_server(tmp_path_factory.mktemp("aws-kms") / "data", "aws-root") as started:
        yield started


def _kms(endpoint: str, region: str = REGION, secret: str = DEV_KEY[1]) -> Any:
    return aws_client("kms", endpoint, region, (DEV_KEY[0], secret))


@pytest.fixture
def kms(server: StrongroomServer) -> Any:
    return _kms(server.addr)


def test_keys_aliases_and_data(kms: Any) -> None:
    made = kms.create_key(Description="billing", Tags=[{"TagKey": "team", "TagValue": "pay"}])
    meta = made["KeyMetadata"]
    assert meta["KeyState"] == "Enabled" and meta["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert meta["Arn"] == f"arn:aws:kms:{REGION}:000000000000:key/{meta['KeyId']}"
    key_id = meta["KeyId"]
    kms.create_alias(AliasName="alias/billing", TargetKeyId=key_id)
    for ref in (
        key_id,
        meta["Arn"],
        "alias/billing",
        f"arn:aws:kms:{REGION}:000000000000:alias/billing",
    ):
        assert kms.describe_key(KeyId=ref)["KeyMetadata"]["KeyId"] == key_id
    sealed = kms.encrypt(KeyId="alias/billing", Plaintext=b"4111", EncryptionContext={"a": "1"})
    assert sealed["KeyId"] == meta["Arn"]
    blob = sealed["CiphertextBlob"]
    opened = kms.decrypt(CiphertextBlob=blob, EncryptionContext={"a": "1"})
    assert opened["Plaintext"] == b"4111" and opened["KeyId"] == meta["Arn"]
    for context in ({}, {"a": "2"}, {"a": "1", "b": "2"}):
        assert _code(partial(kms.decrypt, CiphertextBlob=blob, EncryptionContext=context)) == (
            "InvalidCiphertextException"
        )
    tampered = bytearray(blob)
    tampered[-1] ^= 1
    assert (
        _code(lambda: kms.decrypt(CiphertextBlob=bytes(tampered), EncryptionContext={"a": "1"}))
        == "InvalidCiphertextException"
    )
    data_key = kms.generate_data_key(KeyId=key_id, KeySpec="AES_128", EncryptionContext={"f": "x"})
    assert len(data_key["Plaintext"]) == 16
    assert (
        kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"], EncryptionContext={"f": "x"})[
            "Plaintext"
        ]
        == data_key["Plaintext"]
    )
    without = kms.generate_data_key_without_plaintext(KeyId=key_id, NumberOfBytes=64)
    assert "Plaintext" not in without
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    moved = kms.re_encrypt(
        CiphertextBlob=blob,
        SourceEncryptionContext={"a": "1"},
        DestinationKeyId=other,
        DestinationEncryptionContext={"b": "2"},
    )
    assert moved["SourceKeyId"] == meta["Arn"] and moved["KeyId"].endswith(other)
    assert (
        kms.decrypt(CiphertextBlob=moved["CiphertextBlob"], EncryptionContext={"b": "2"})[
            "Plaintext"
        ]
        == b"4111"
    )
    assert (
        _code(lambda: kms.decrypt(CiphertextBlob=blob, EncryptionContext={"a": "1"}, KeyId=other))
        == "IncorrectKeyException"
    )
    assert len(kms.generate_random(NumberOfBytes=1024)["Plaintext"]) == 1024
    assert _code(lambda: kms.generate_random(NumberOfBytes=1025)) == "ValidationException"
    tags = kms.list_resource_tags(KeyId=key_id)["Tags"]
    assert tags == [{"TagKey": "team", "TagValue": "pay"}]
    assert (
        _code(lambda: kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "aws:x", "TagValue": ""}]))
        == "TagException"
    )
    kms.update_alias(AliasName="alias/billing", TargetKeyId=other)
    assert kms.describe_key(KeyId="alias/billing")["KeyMetadata"]["KeyId"] == other
    listed = kms.list_keys(Limit=1)
    assert listed["Truncated"] and len(listed["Keys"]) == 1
    kms.delete_alias(AliasName="alias/billing")
    assert _code(lambda: kms.describe_key(KeyId="alias/billing")) == "NotFoundException"


def test_key_states_and_rotation(kms: Any) -> None:
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"old")["CiphertextBlob"]
    kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=90)
    status = kms.get_key_rotation_status(KeyId=key_id)
    assert status["KeyRotationEnabled"] and status["RotationPeriodInDays"] == 90
    kms.rotate_key_on_demand(KeyId=key_id)
    assert [r["RotationType"] for r in kms.list_key_rotations(KeyId=key_id)["Rotations"]] == [
        "ON_DEMAND"
    ]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"old"  # an old version still opens
    fresh = kms.encrypt(KeyId=key_id, Plaintext=b"new")["CiphertextBlob"]
    assert fresh[20:24] == (2).to_bytes(4, "big")  # the blob names the key version
    kms.disable_key(KeyId=key_id)
    assert _code(lambda: kms.encrypt(KeyId=key_id, Plaintext=b"x")) == "DisabledException"
    kms.enable_key(KeyId=key_id)
    scheduled = kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert scheduled["KeyState"] == "PendingDeletion"
    assert _code(lambda: kms.decrypt(CiphertextBlob=blob)) == "KMSInvalidStateException"
    assert _code(lambda: kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=6)) in (
        "ValidationException",
        "KMSInvalidStateException",
    )
    kms.cancel_key_deletion(KeyId=key_id)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"


def test_regions_are_apart_and_signatures_are_checked(server: StrongroomServer) -> None:
    west, east = _kms(server.addr), _kms(server.addr, "us-east-1")
    key_id = west.create_key()["KeyMetadata"]["KeyId"]
    assert _code(lambda: east.describe_key(KeyId=key_id)) == "NotFoundException"
    assert (
        _code(lambda: _kms(server.addr, secret="wrong").list_keys()) == "InvalidSignatureException"
    )
    stranger = aws_client("kms", server.addr, REGION, ("AKSRNOSUCHKEY0000000", "x"))
    assert _code(lambda: stranger.list_keys()) == "UnrecognizedClientException"
    unsigned = httpx.post(
        server.addr + "/",
        headers={
            "X-Amz-Target": "TrentService.ListKeys",
            "Content-Type": "application/x-amz-json-1.1",
        },
        content=b"{}",
    )
    assert unsigned.status_code == 400
    assert unsigned.json()["__type"] == "MissingAuthenticationTokenException"


def test_an_issued_key_is_bound_to_its_policies(server: StrongroomServer, kms: Any) -> None:
    """An access key issued with a policy that lets it encrypt with one key only: it can, and
    it can do nothing else (not even learn whether another key exists)."""
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    root = {"Authorization": "Bearer aws-root"}
    policy = f'path "aws-kms-{REGION}/encrypt/{key_id}" {{ capabilities = ["update"] }}'
    httpx.put(
        f"{server.addr}/api/v1/sys/policies/acl/kms-enc", headers=root, json={"policy": policy}
    ).raise_for_status()
    made = httpx.post(
        f"{server.addr}/api/v1/sys/aws/credentials",
        headers=root,
        json={"policies": ["kms-enc"], "display_name": "worker"},
    )
    made.raise_for_status()
    issued = made.json()["data"]
    worker = aws_client(
        "kms", server.addr, REGION, (issued["access_key_id"], issued["secret_access_key"])
    )
    blob = worker.encrypt(KeyId=key_id, Plaintext=b"ok")["CiphertextBlob"]
    assert _code(lambda: worker.decrypt(CiphertextBlob=blob)) == "AccessDeniedException"
    assert _code(lambda: worker.encrypt(KeyId=other, Plaintext=b"x")) == "AccessDeniedException"
    missing = "00000000-0000-4000-8000-000000000000"
    assert _code(lambda: worker.encrypt(KeyId=missing, Plaintext=b"x")) == "AccessDeniedException"
    assert (
        _code(lambda: worker.encrypt(KeyId="alias/nope", Plaintext=b"x")) == "AccessDeniedException"
    )
    assert _code(lambda: worker.list_keys()) == "AccessDeniedException"
    httpx.delete(
        f"{server.addr}/api/v1/sys/aws/credentials/{issued['access_key_id']}", headers=root
    ).raise_for_status()
    assert (
        _code(lambda: worker.encrypt(KeyId=key_id, Plaintext=b"x")) == "UnrecognizedClientException"
    )


def test_the_seeds_aws_cli_script_round_trips_a_file(
    server: StrongroomServer, tmp_path: Path
) -> None:
    """aws kms encrypt … | base64 --decode > tmp.encrypt; aws kms decrypt … | base64 --decode"""
    kms = _kms(server.addr)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/seed-script", TargetKeyId=key_id)
    secret_file = tmp_path / "secret.txt"
    secret_file.write_bytes(b"db-password-\x00\xff-bytes\n")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": DEV_KEY[0],
        "AWS_SECRET_ACCESS_KEY": DEV_KEY[1],
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": server.addr,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    script = (
        "set -euo pipefail\n"
        "aws kms encrypt --key-id alias/seed-script --plaintext fileb://secret.txt "
        "--output text --query CiphertextBlob | base64 --decode > tmp.encrypt\n"
        "aws kms decrypt --ciphertext-blob fileb://tmp.encrypt --query Plaintext "
        "--output text | base64 --decode > roundtrip.txt\n"
    )
    done = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "roundtrip.txt").read_bytes() == secret_file.read_bytes()
    tampered = bytearray((tmp_path / "tmp.encrypt").read_bytes())
    tampered[30] ^= 1
    (tmp_path / "tmp.encrypt").write_bytes(bytes(tampered))
    refused = subprocess.run(
        ["aws", "kms", "decrypt", "--ciphertext-blob", "fileb://tmp.encrypt"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode != 0 and "InvalidCiphertextException" in refused.stderr
    wrong_context = subprocess.run(
        [
            "aws",
            "kms",
            "encrypt",
            "--key-id",
            "alias/seed-script",
            "--plaintext",
            "fileb://secret.txt",
            "--encryption-context",
            "purpose=backup",
            "--output",
            "text",
            "--query",
            "CiphertextBlob",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    (tmp_path / "ctx.encrypt").write_bytes(base64.b64decode(wrong_context.stdout))
    opened = subprocess.run(
        [
            "aws",
            "kms",
            "decrypt",
            "--ciphertext-blob",
            "fileb://ctx.encrypt",
            "--encryption-context",
            "purpose=other",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert opened.returncode != 0 and "InvalidCiphertextException" in opened.stderr


# -- side by side with moto


def _scenario(kms: Any) -> list[str]:
    """One call sequence; the outcome of each step (ok or the error code)."""
    outcomes = []
    key_id = kms.create_key(Description="d")["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"p", EncryptionContext={"k": "v"})["CiphertextBlob"]
    steps: list[Callable[[], object]] = [
        lambda: kms.decrypt(CiphertextBlob=blob, EncryptionContext={"k": "v"}),
        lambda: kms.decrypt(CiphertextBlob=blob, EncryptionContext={"k": "w"}),
        lambda: kms.decrypt(CiphertextBlob=blob),
        lambda: kms.create_alias(AliasName="alias/diff", TargetKeyId=key_id),
        lambda: kms.create_alias(AliasName="alias/diff", TargetKeyId=key_id),
        lambda: kms.create_alias(AliasName="nope", TargetKeyId=key_id),
        lambda: kms.describe_key(KeyId="alias/missing"),
        lambda: kms.describe_key(KeyId="00000000-0000-4000-8000-000000000000"),
        lambda: kms.disable_key(KeyId=key_id),
        lambda: kms.encrypt(KeyId=key_id, Plaintext=b"p"),
        lambda: kms.enable_key(KeyId=key_id),
        lambda: kms.encrypt(KeyId="alias/diff", Plaintext=b"p"),
        lambda: kms.generate_data_key(KeyId=key_id, NumberOfBytes=2000),
        lambda: kms.generate_data_key(KeyId=key_id, KeySpec="AES_256"),
        lambda: kms.enable_key_rotation(KeyId=key_id),
        lambda: kms.get_key_rotation_status(KeyId=key_id),
        lambda: kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "a", "TagValue": "b"}]),
        lambda: kms.untag_resource(KeyId=key_id, TagKeys=["a"]),
        lambda: kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7),
        lambda: kms.encrypt(KeyId=key_id, Plaintext=b"p"),
        lambda: kms.cancel_key_deletion(KeyId=key_id),
        lambda: kms.delete_alias(AliasName="alias/diff"),
        lambda: kms.delete_alias(AliasName="alias/diff"),
    ]
    for step in steps:
        outcomes.append(_code(step))
    return outcomes


# Steps where moto departs from AWS's documentation, and strongroom follows AWS: moto encrypts
# with a disabled key and with one pending deletion, which AWS refuses with DisabledException
# ("<arn> is disabled.") and KMSInvalidStateException ("<arn> is pending deletion.").
AWS_NOT_MOTO = {9: ("DisabledException", "ok"), 19: ("KMSInvalidStateException", "ok")}


def test_the_same_calls_against_moto_and_strongroom(
    server: StrongroomServer, moto: MotoServer
) -> None:
    ours = _scenario(_kms(server.addr))
    theirs = _scenario(_kms(moto.endpoint))
    assert_same_as_moto(ours, theirs, AWS_NOT_MOTO)


# -- issue 13: the awskms key provider against strongroom's own KMS


@pytest.fixture
def make_provider(server: StrongroomServer, monkeypatch: pytest.MonkeyPatch) -> Callable[[], Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", DEV_KEY[0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DEV_KEY[1])
    key_id = _kms(server.addr).create_key()["KeyMetadata"]["KeyId"]
    uri = f"awskms:{key_id}?endpoint={server.addr}&region={REGION}"
    return lambda: built_provider(uri)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_the_awskms_provider_against_strongroom_kms(
    make_provider: Callable[[], Any], check: Callable[[Callable[[], Any]], None]
) -> None:
    check(make_provider)


def test_aws_kms_canaries_stay_out_of_disk_logs_and_errors(tmp_path: Path) -> None:
    """Plaintexts, data keys and an issued secret key, planted and returned through the AWS
    API, appear nowhere on disk (store, audit log) nor in the server log nor in error bodies."""
    extra = ["--aws-access-key", ":".join(DEV_KEY), "--access-log"]
    server = StrongroomServer(tmp_path / "data", "canary-root", extra=extra).start()
    planted = [f"CANARY-kms-{secrets.token_hex(12)}" for _ in range(3)]
    returned: list[str] = []
    errors: dict[str, bytes] = {}
    try:
        kms = _kms(server.addr)
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        blob = kms.encrypt(KeyId=key_id, Plaintext=planted[0].encode())["CiphertextBlob"]
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == planted[0].encode()
        data_key = kms.generate_data_key(KeyId=key_id, NumberOfBytes=32)["Plaintext"]
        returned.append(data_key.hex())
        returned.append(base64.b64encode(data_key).decode())
        moved = kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=key_id)
        assert (
            kms.decrypt(CiphertextBlob=moved["CiphertextBlob"])["Plaintext"] == planted[0].encode()
        )
        for i, context in enumerate(({"secret": planted[1]}, {planted[2]: "v"})):
            try:
                kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)
            except ClientError as exc:
                errors[f"error-{i}"] = str(exc.response).encode()
        made = httpx.post(
            f"{server.addr}/api/v1/sys/aws/credentials",
            headers={"Authorization": "Bearer canary-root"},
            json={"policies": ["default"]},
        ).json()["data"]
        returned.append(made["secret_access_key"])
    finally:
        server.stop()
    artifacts = {**read_tree(tmp_path / "data"), "server.log": server.log_path.read_bytes()}
    assert any("audit" in name for name in artifacts)
    assert find_canaries({**artifacts, **errors}, [*planted, *returned]) == []


def test_hmac_and_signing_keys(kms: Any) -> None:
    """HMAC keys make and check MACs; ECC and RSA keys sign, and their public key (DER, as AWS
    gives it) verifies the signatures outside strongroom."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    mac_key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    assert mac_key["MacAlgorithms"] == ["HMAC_SHA_256"] and "EncryptionAlgorithms" not in mac_key
    made = kms.generate_mac(KeyId=mac_key["KeyId"], Message=b"msg", MacAlgorithm="HMAC_SHA_256")
    checked = kms.verify_mac(
        KeyId=mac_key["KeyId"], Message=b"msg", Mac=made["Mac"], MacAlgorithm="HMAC_SHA_256"
    )
    assert checked["MacValid"]
    assert (
        _code(
            lambda: kms.verify_mac(
                KeyId=mac_key["KeyId"],
                Message=b"other",
                Mac=made["Mac"],
                MacAlgorithm="HMAC_SHA_256",
            )
        )
        == "KMSInvalidMacException"
    )
    assert _code(lambda: kms.encrypt(KeyId=mac_key["KeyId"], Plaintext=b"x")) == (
        "InvalidKeyUsageException"
    )
    for spec, algorithm in (("ECC_NIST_P256", "ECDSA_SHA_256"), ("RSA_2048", "RSASSA_PSS_SHA_256")):
        key_id = kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
        signed = kms.sign(KeyId=key_id, Message=b"doc", SigningAlgorithm=algorithm)
        assert kms.verify(
            KeyId=key_id, Message=b"doc", Signature=signed["Signature"], SigningAlgorithm=algorithm
        )["SignatureValid"]
        assert (
            _code(
                partial(
                    kms.verify,
                    KeyId=key_id,
                    Message=b"forged",
                    Signature=signed["Signature"],
                    SigningAlgorithm=algorithm,
                )
            )
            == "KMSInvalidSignatureException"
        )
        public = serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signed["Signature"], b"doc", ec.ECDSA(hashes.SHA256()))
        else:
            assert isinstance(public, rsa.RSAPublicKey)
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
            public.verify(signed["Signature"], b"doc", pss, hashes.SHA256())
        assert _code(partial(kms.enable_key_rotation, KeyId=key_id)) == (
            "UnsupportedOperationException"
        )
    assert _code(lambda: kms.create_key(KeySpec="SM2", KeyUsage="SIGN_VERIFY")) == (
        "UnsupportedOperationException"  # a spec AWS knows and strongroom does not
    )
    assert _code(lambda: kms.create_key(KeySpec="NOT_A_SPEC")) == "ValidationException"


_SIGNING = (
    ("ECC_NIST_P384", "ECDSA_SHA_384"),
    ("ECC_SECG_P256K1", "ECDSA_SHA_256"),
    ("ECC_NIST_P521", "ECDSA_SHA_512"),
    ("RSA_3072", "RSASSA_PKCS1_V1_5_SHA_384"),
    ("RSA_2048", "RSASSA_PSS_SHA_512"),
)


@pytest.mark.parametrize(("spec", "algorithm"), _SIGNING)
def test_signing_keys_of_every_size(kms: Any, spec: str, algorithm: str) -> None:
    """Each curve and RSA size signs with its hash; the signature checks out with the public
    key alone, outside strongroom (a digest signed as MessageType DIGEST too)."""
    import hashlib

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

    key = kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    assert algorithm in key["SigningAlgorithms"]
    bits = int(algorithm.rsplit("_", 1)[1])
    chosen = {256: hashes.SHA256(), 384: hashes.SHA384(), 512: hashes.SHA512()}[bits]
    signed = kms.sign(KeyId=key["KeyId"], Message=b"doc", SigningAlgorithm=algorithm)["Signature"]
    digest = hashlib.new(f"sha{bits}", b"doc").digest()
    prehashed = kms.sign(
        KeyId=key["KeyId"], Message=digest, MessageType="DIGEST", SigningAlgorithm=algorithm
    )["Signature"]
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=key["KeyId"])["PublicKey"])
    for signature in (signed, prehashed):
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, digest, ec.ECDSA(utils.Prehashed(chosen)))
        else:
            assert isinstance(public, rsa.RSAPublicKey)
            scheme: padding.AsymmetricPadding = (
                padding.PKCS1v15()
                if "PKCS1" in algorithm
                else padding.PSS(mgf=padding.MGF1(chosen), salt_length=chosen.digest_size)
            )
            public.verify(signature, digest, scheme, utils.Prehashed(chosen))
    wrong = "ECDSA_SHA_256" if spec.startswith("ECC") and bits != 256 else "RSASSA_PSS_SHA_999"
    assert _code(partial(kms.sign, KeyId=key["KeyId"], Message=b"doc", SigningAlgorithm=wrong)) in (
        "InvalidKeyUsageException",
        "ValidationException",
    )


def test_rsa_encryption_keys(kms: Any) -> None:
    """An RSA key made for ENCRYPT_DECRYPT: what its public key encrypts outside strongroom,
    Decrypt opens (named by KeyId, as an RSA ciphertext names no key), with either OAEP hash;
    and it refuses what AWS's refuses."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    assert key["EncryptionAlgorithms"] == ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
    key_id = key["KeyId"]
    public = kms.get_public_key(KeyId=key_id)
    assert public["EncryptionAlgorithms"] == key["EncryptionAlgorithms"]
    loaded = serialization.load_der_public_key(public["PublicKey"])
    assert isinstance(loaded, rsa.RSAPublicKey) and loaded.key_size == 2048
    for algorithm, chosen in (
        ("RSAES_OAEP_SHA_1", hashes.SHA1()),  # noqa: S303  (AWS KMS's algorithm)
        ("RSAES_OAEP_SHA_256", hashes.SHA256()),
    ):
        oaep = padding.OAEP(mgf=padding.MGF1(chosen), algorithm=chosen, label=None)
        outside = loaded.encrypt(b"wrapped by the public key", oaep)
        opened = kms.decrypt(KeyId=key_id, CiphertextBlob=outside, EncryptionAlgorithm=algorithm)
        assert opened["Plaintext"] == b"wrapped by the public key"
        inside = kms.encrypt(KeyId=key_id, Plaintext=b"x" * 190, EncryptionAlgorithm=algorithm)
        assert inside["EncryptionAlgorithm"] == algorithm
        back = kms.decrypt(
            KeyId=key_id, CiphertextBlob=inside["CiphertextBlob"], EncryptionAlgorithm=algorithm
        )
        assert back["Plaintext"] == b"x" * 190
    sealed = kms.encrypt(KeyId=key_id, Plaintext=b"y", EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    refusals = {
        "no KeyId": partial(
            kms.decrypt,
            CiphertextBlob=sealed["CiphertextBlob"],
            EncryptionAlgorithm="RSAES_OAEP_SHA_256",
        ),
        "the other hash": partial(
            kms.decrypt,
            KeyId=key_id,
            CiphertextBlob=sealed["CiphertextBlob"],
            EncryptionAlgorithm="RSAES_OAEP_SHA_1",
        ),
        "a context": partial(
            kms.encrypt,
            KeyId=key_id,
            Plaintext=b"y",
            EncryptionAlgorithm="RSAES_OAEP_SHA_256",
            EncryptionContext={"a": "b"},
        ),
        "too long": partial(
            kms.encrypt,
            KeyId=key_id,
            Plaintext=b"z" * 191,
            EncryptionAlgorithm="RSAES_OAEP_SHA_256",
        ),
        "the symmetric algorithm": partial(kms.encrypt, KeyId=key_id, Plaintext=b"y"),
        "a data key": partial(kms.generate_data_key, KeyId=key_id, KeySpec="AES_256"),
    }
    outcomes = {why: _code(call) for why, call in refusals.items()}
    assert outcomes == {
        "no KeyId": "ValidationException",
        "the other hash": "InvalidCiphertextException",
        "a context": "ValidationException",
        "too long": "ValidationException",
        "the symmetric algorithm": "InvalidKeyUsageException",
        "a data key": "InvalidKeyUsageException",
    }
    signing = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    assert (
        _code(
            partial(
                kms.encrypt, KeyId=signing, Plaintext=b"y", EncryptionAlgorithm="RSAES_OAEP_SHA_1"
            )
        )
        == "InvalidKeyUsageException"
    )
    default = kms.create_key(KeySpec="RSA_4096")["KeyMetadata"]  # AWS's default usage
    assert default["KeyUsage"] == "ENCRYPT_DECRYPT"
    mac = kms.create_key(KeySpec="HMAC_224", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    tag = kms.generate_mac(KeyId=mac["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_224")["Mac"]
    assert len(tag) == 28


def test_data_key_pairs(kms: Any) -> None:
    """A key pair whose private half comes back sealed by a symmetric key: Decrypt opens it, it
    matches the public half, and the without-plaintext form returns no private key."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    pair = kms.generate_data_key_pair(
        KeyId=key_id, KeyPairSpec="ECC_NIST_P256", EncryptionContext={"app": "signer"}
    )
    private = serialization.load_der_private_key(pair["PrivateKeyPlaintext"], password=None)
    public = serialization.load_der_public_key(pair["PublicKey"])
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(private.sign(b"m", ec.ECDSA(hashes.SHA256())), b"m", ec.ECDSA(hashes.SHA256()))
    opened = kms.decrypt(
        CiphertextBlob=pair["PrivateKeyCiphertextBlob"], EncryptionContext={"app": "signer"}
    )
    assert opened["Plaintext"] == pair["PrivateKeyPlaintext"]
    bare = kms.generate_data_key_pair_without_plaintext(KeyId=key_id, KeyPairSpec="RSA_2048")
    assert "PrivateKeyPlaintext" not in bare and bare["KeyPairSpec"] == "RSA_2048"
    assert _code(lambda: kms.generate_data_key_pair(KeyId=key_id, KeyPairSpec="DSA")) == (
        "ValidationException"
    )


def test_concurrent_tags_on_one_key_are_all_kept(server: StrongroomServer) -> None:
    """A key's tags are in its one record: writers that change it at once all land
    (compare-and-set, retried), none overwriting another."""
    clients = [_kms(server.addr) for _ in range(8)]
    key_id = clients[0].create_key()["KeyMetadata"]["KeyId"]

    def tag(index: int) -> None:
        clients[index].tag_resource(KeyId=key_id, Tags=[{"TagKey": f"k{index}", "TagValue": "v"}])

    with ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(tag, range(len(clients))))
    tags = clients[0].list_resource_tags(KeyId=key_id)["Tags"]
    assert sorted(t["TagKey"] for t in tags) == [f"k{i}" for i in range(8)]
