"""An AWS KMS key as a root of trust (``awskms:`` provider URIs; the ``aws`` extra, boto3).

    awskms:alias/strongroom-prod?region=eu-west-1
    awskms:arn:aws:kms:eu-west-1:111122223333:key/1234abcd-…[&profile=…][&endpoint=…]
        [&role_arn=arn:aws:iam::111122223333:role/strongroom-seal][&timeout=10]

Each wrap asks KMS for a data key (``GenerateDataKey``, AES-256) under the configured key, with
the context as the ``EncryptionContext`` (so CloudTrail shows which keyring it was and a key
policy may condition on it), and seals the key material locally under that data key with the
canonical context as associated data (keyproviders/_envelope.py). Each unwrap is one
``Decrypt`` pinned to the key's ARN. The ARN, not an alias, is the ``key_ref``: a re-pointed
alias cannot swap the key under stored keyrings.

Throttling and other transient errors are retried by botocore's standard retry mode (exponential
backoff with jitter); every call has a connect and a read timeout. Errors never carry an SDK
type or AWS's own message: "no" about a ciphertext is the opaque DecryptionError, everything else
is KeyProviderUnavailable saying what to fix."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import boto3
import botocore.exceptions
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.session import get_session

from strongroom.crypto.context import Context
from strongroom.errors import BadRequest, DecryptionError, KeyProviderUnavailable
from strongroom.keyproviders._envelope import open_payload, seal_payload
from strongroom.keyproviders.options import DEFAULT_TIMEOUT, check_options, timeout_option
from strongroom.keyproviders.provider import KeyProviderBase

__all__ = ["MAX_ATTEMPTS", "AwsKmsKeyProvider", "awskms_provider"]

MAX_ATTEMPTS = 4  # one call and three retries, with jittered exponential backoff

# AWS's answers that mean "this ciphertext does not open here": the opaque DecryptionError.
_NO = frozenset({"InvalidCiphertextException", "IncorrectKeyException", "NotFoundException"})
_KEY_UNUSABLE = frozenset(
    {"DisabledException", "KMSInvalidStateException", "KeyUnavailableException"}
)
_DENIED = "AccessDeniedException"
_T = TypeVar("_T")


class _Denied(Exception):
    """AWS answered AccessDenied to a Decrypt."""


class AwsKmsKeyProvider(KeyProviderBase):
    def __init__(
        self,
        key_id: str,
        *,
        region: str | None = None,
        profile: str | None = None,
        endpoint: str | None = None,
        role_arn: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._key_id = key_id
        config = Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
            region_name=region,
        )
        try:
            session = _session(profile, region, role_arn, endpoint, config)
            self._kms: Any = session.client("kms", endpoint_url=endpoint, config=config)
        except botocore.exceptions.BotoCoreError as exc:
            raise KeyProviderUnavailable(
                f"cannot set up the AWS KMS client for {key_id} ({_kind(exc)})"
            ) from None
        self._arn = ""
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"AwsKmsKeyProvider({self._key_id!r})"

    @property
    def key_ref(self) -> str:
        return f"awskms:{self.arn}"

    @property
    def arn(self) -> str:
        """The key's ARN, asked once (``DescribeKey``), which also checks the key at start."""
        with self._lock:
            if not self._arn:
                meta = self._ask("DescribeKey", lambda: self._kms.describe_key(KeyId=self._key_id))
                if meta["KeyMetadata"].get("KeyState") != "Enabled":
                    raise KeyProviderUnavailable(
                        f"the AWS KMS key {self._key_id} is "
                        f"{meta['KeyMetadata'].get('KeyState', 'not usable')}; enable it"
                    )
                self._arn = str(meta["KeyMetadata"]["Arn"])
            return self._arn

    def wrap(self, plaintext_key: bytes, *, context: Context) -> bytes:
        arn = self.arn
        made = self._ask(
            "GenerateDataKey",
            lambda: self._kms.generate_data_key(
                KeyId=arn, KeySpec="AES_256", **_encryption_context(context)
            ),
        )
        return seal_payload(made["Plaintext"], made["CiphertextBlob"], plaintext_key, context)

    def unwrap(self, wrapped: bytes, *, context: Context) -> bytes:
        arn = self.arn

        def decrypt(blob: bytes) -> bytes:
            try:
                answer = self._ask(
                    "Decrypt",
                    lambda: self._kms.decrypt(
                        CiphertextBlob=blob, KeyId=arn, **_encryption_context(context)
                    ),
                    no_means_no=True,
                )
            except _Denied:
                if self._may_decrypt(arn):
                    raise DecryptionError() from None  # the blob names a key that is not ours
                raise KeyProviderUnavailable(self._explain("Decrypt", _DENIED)) from None
            return bytes(answer["Plaintext"])

        return open_payload(wrapped, context, decrypt)

    def close(self) -> None:
        self._kms.close()

    def _may_decrypt(self, arn: str) -> bool:
        """Whether Decrypt works here at all. AWS answers AccessDenied both to a blob whose key
        is not accessible (a damaged or foreign blob: "no") and to a role without kms:Decrypt
        (a setting to fix); a data key of our own tells the two apart. Asked only on that
        failure."""
        made = self._ask(
            "GenerateDataKey", lambda: self._kms.generate_data_key(KeyId=arn, KeySpec="AES_256")
        )
        try:
            self._ask(
                "Decrypt",
                lambda: self._kms.decrypt(CiphertextBlob=made["CiphertextBlob"], KeyId=arn),
                no_means_no=True,
            )
        except (_Denied, DecryptionError):
            return False
        return True

    def _ask(self, operation: str, call: Callable[[], _T], *, no_means_no: bool = False) -> _T:
        try:
            return call()
        except botocore.exceptions.ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if no_means_no and code in _NO:
                raise DecryptionError() from None
            if no_means_no and code == _DENIED:
                raise _Denied() from None
            raise KeyProviderUnavailable(self._explain(operation, code)) from None
        except (botocore.exceptions.BotoCoreError, ValueError) as exc:
            raise KeyProviderUnavailable(
                f"AWS KMS is unreachable for {operation} on {self._key_id} ({_kind(exc)})"
            ) from None

    def _explain(self, operation: str, code: str) -> str:
        if code in (_DENIED, "UnrecognizedClientException"):
            return (
                f"AWS KMS refused kms:{operation} on {self._key_id}: grant the server's role "
                "kms:GenerateDataKey, kms:Decrypt and kms:DescribeKey on it (docs/kms.md)"
            )
        if code in _KEY_UNUSABLE:
            return f"the AWS KMS key {self._key_id} is disabled or pending deletion; enable it"
        if code == "NotFoundException":
            return f"no AWS KMS key {self._key_id} in this account and region"
        if code.startswith("Throttl") or code == "LimitExceededException":
            return f"AWS KMS kept throttling {operation} after {MAX_ATTEMPTS} attempts"
        return f"AWS KMS answered {code or 'an error'} to {operation} on {self._key_id}"


def _encryption_context(context: Context) -> dict[str, Any]:
    return {"EncryptionContext": dict(context)} if context else {}


def _session(
    profile: str | None,
    region: str | None,
    role_arn: str | None,
    endpoint: str | None,
    config: Config,
) -> boto3.Session:
    base = boto3.Session(profile_name=profile, region_name=region)
    if role_arn is None:
        return base
    sts = base.client("sts", endpoint_url=endpoint, config=config)

    def assume() -> dict[str, str]:
        made = sts.assume_role(RoleArn=role_arn, RoleSessionName="strongroom-key-provider")
        credentials = made["Credentials"]
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": credentials["Expiration"].isoformat(),
        }

    # botocore refreshes these before they expire, calling AssumeRole again.
    assumed = get_session()
    assumed._credentials = RefreshableCredentials.create_from_metadata(
        metadata=assume(), refresh_using=assume, method="sts-assume-role"
    )
    return boto3.Session(botocore_session=assumed, region_name=region)


def _kind(exc: Exception) -> str:
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return "no AWS credentials: give the server a role, AWS_PROFILE or profile=…"
    if isinstance(
        exc, (botocore.exceptions.ConnectTimeoutError, botocore.exceptions.ReadTimeoutError)
    ):
        return "timed out"
    if isinstance(exc, botocore.exceptions.EndpointConnectionError):
        return "connection refused or no route"
    if isinstance(exc, botocore.exceptions.NoRegionError):
        return "no region: add region=… to the URI"
    return "connection failed"


def awskms_provider(uri: Any) -> AwsKmsKeyProvider:
    """From a parsed ``awskms:`` URI (keyproviders/registry.py)."""
    params: Mapping[str, str] = uri.params
    check_options("awskms", params, ("region", "profile", "endpoint", "role_arn"))
    key_id: str = uri.target
    if not key_id:
        raise BadRequest("an awskms provider names its key: awskms:alias/NAME?region=REGION")
    timeout = timeout_option(params)
    return AwsKmsKeyProvider(
        key_id,
        region=params.get("region") or None,
        profile=params.get("profile") or None,
        endpoint=params.get("endpoint") or None,
        role_arn=params.get("role_arn") or None,
        timeout=timeout,
    )
