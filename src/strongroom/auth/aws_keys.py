"""AWS access keys that strongroom issues, for the AWS-compatible API (SigV4).

Verifying a SigV4 signature needs the secret key itself, so unlike a token it cannot be kept as a
digest: each key is a record sealed by the store under the system keyring (sealed_store.py),
bound to its kind and name, and named by its access key id. A key carries strongroom policies;
the identity it proves is governed by them exactly as a token with those policies is.

Dev mode may also define one fixed key pair (``--aws-access-key ID:SECRET``), with the root
policy, for local use and test suites; it is never stored."""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass

from strongroom.auth.identity import Identity
from strongroom.clock import Clock
from strongroom.errors import BadRequest, Conflict, NotFound
from strongroom.policy.store import PolicyStore
from strongroom.store.protocol import Store
from strongroom.store.records import Records

__all__ = [
    "ACCESS_KEY_KIND",
    "CACHE_SECONDS",
    "DISPLAY_NAME_KIND",
    "AccessKey",
    "AccessKeyRegistry",
    "principal_arn",
    "principal_of",
]

ACCESS_KEY_KIND = "aws-access-key"
# display name -> access key id: a name is the key's IAM user ARN, so one key has it at a time
DISPLAY_NAME_KIND = "aws-access-key-name"
CACHE_SECONDS = 1.0
_CACHE_ENTRIES = 10_000
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
# a display name is the IAM user name of the key's principal, arn:aws:iam::ACCOUNT:user/NAME
_DISPLAY_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,64}$")


@dataclass(frozen=True)
class AccessKey:
    access_key_id: str
    policies: tuple[str, ...]
    display_name: str
    created: float
    secret: str = ""  # only in the answer to create; never listed

    def __repr__(self) -> str:
        return f"AccessKey({self.access_key_id!r}, policies={self.policies!r})"

    def to_json(self) -> dict[str, object]:
        doc: dict[str, object] = {
            "access_key_id": self.access_key_id,
            "policies": list(self.policies),
            "display_name": self.display_name,
            "created": self.created,
        }
        if self.secret:
            doc["secret_access_key"] = self.secret
        return doc


class AccessKeyRegistry:
    def __init__(
        self,
        store: Store,
        policies: PolicyStore,
        clock: Clock,
        dev_key: tuple[str, str] | None = None,
    ) -> None:
        self._store = store
        self._keys = Records.of_json(store, ACCESS_KEY_KIND)
        self._names = Records(store, DISPLAY_NAME_KIND, bytes.decode, str.encode)  # name -> id
        self._policies = policies
        self._clock = clock
        self._dev_key = dev_key
        self._cache: dict[str, tuple[str, Identity, float]] = {}
        self._lock = threading.Lock()

    def create(self, policies: tuple[str, ...], display_name: str = "") -> AccessKey:
        if not policies or not all(isinstance(p, str) and p for p in policies):
            raise BadRequest("an access key needs at least one policy")
        if display_name and not _DISPLAY_NAME.fullmatch(display_name):
            raise BadRequest(
                "display_name is an IAM user name: 1-64 of letters, digits and +=,.@_- "
                "(resource and key policies name the key as arn:aws:iam::ACCOUNT:user/NAME)"
            )
        access_key_id = "AKSR" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))
        secret = secrets.token_urlsafe(30)  # 40 characters, as AWS's
        key = AccessKey(access_key_id, tuple(policies), display_name, self._clock.now(), secret)
        doc = {**key.to_json(), "secret_access_key": secret}
        if display_name and not self._names.create(_name_key(display_name), access_key_id):
            raise Conflict(
                f"an access key named {display_name!r} exists; its name is its IAM user ARN "
                "in resource and key policies, so pick another or revoke that key first"
            )
        if not self._keys.create(access_key_id, doc):
            if display_name:
                self._names.delete(_name_key(display_name))
            raise BadRequest("access key id collision; try again")
        return key

    def list(self) -> list[AccessKey]:
        keys = []
        for name in sorted(self._keys.names()):
            found = self._load(name)
            if found is not None:
                keys.append(found[0])
        return keys

    def revoke(self, access_key_id: str) -> None:
        found = self._load(access_key_id)
        if not self._keys.delete(access_key_id):
            raise NotFound(f"no access key {access_key_id!r}")
        name = _name_key(found[0].display_name) if found is not None else ""
        if name and self._names.get(name) == access_key_id:  # a name is taken only if free
            self._names.delete(name)
        with self._lock:
            self._cache.pop(access_key_id, None)
        self._store.publish("aws-key", access_key_id)

    def forget(self, access_key_id: str) -> None:
        with self._lock:
            if access_key_id:
                self._cache.pop(access_key_id, None)
            else:
                self._cache.clear()

    def secret(self, access_key_id: str) -> str | None:
        """The secret key of ``access_key_id`` (None: no such key), for SigV4 verification."""
        found = self._lookup(access_key_id)
        return found[0] if found is not None else None

    def identity(self, access_key_id: str) -> Identity:
        found = self._lookup(access_key_id)
        if found is None:
            raise NotFound(f"no access key {access_key_id!r}")
        return found[1]

    def lookup(self, access_key_id: str) -> tuple[str, Identity] | None:
        """(secret key, identity) of an access key strongroom issued, or None: one look-up
        for a request's signature check and its identity."""
        return self._lookup(access_key_id)

    def _lookup(self, access_key_id: str) -> tuple[str, Identity] | None:
        if self._dev_key is not None and secrets.compare_digest(
            access_key_id.encode(), self._dev_key[0].encode()
        ):
            acl = self._policies.acl(("root",))
            return self._dev_key[1], Identity("aws-dev", ("root",), acl, principal="root")
        now = self._clock.monotonic()
        cached = self._cache.get(access_key_id)
        if cached is not None and now < cached[2]:
            return cached[0], cached[1]
        found = self._load(access_key_id)
        if found is None:
            return None
        key, secret = found
        identity = Identity(
            f"aws-{key.display_name or key.access_key_id}",
            key.policies,
            self._policies.acl(key.policies),
            key.access_key_id,
            principal=principal_of(key),
        )
        with self._lock:
            if len(self._cache) >= _CACHE_ENTRIES:
                self._cache.clear()
            self._cache[access_key_id] = (secret, identity, now + CACHE_SECONDS)
        return secret, identity

    def _load(self, access_key_id: str) -> tuple[AccessKey, str] | None:
        if not (16 <= len(access_key_id) <= 128 and access_key_id.isascii()):
            return None
        doc = self._keys.get(access_key_id)
        if doc is None:
            return None
        key = AccessKey(
            access_key_id,
            tuple(doc["policies"]),
            str(doc.get("display_name", "")),
            float(doc["created"]),
        )
        return key, str(doc["secret_access_key"])


def _name_key(display_name: str) -> str:
    """IAM user names are unique without regard to case: Alice and alice are one user."""
    return display_name.lower()


def principal_of(key: AccessKey) -> str:
    """The key's principal, relative to the account: ``user/<display name>``, or
    ``user/<access key id>`` for a key without one (names made before the IAM rule included)."""
    if _DISPLAY_NAME.fullmatch(key.display_name):
        return f"user/{key.display_name}"
    return f"user/{key.access_key_id}"


def principal_arn(identity: Identity, account: str) -> str:
    """The caller as AWS policy documents name it (``Identity.principal``); an identity from
    elsewhere than an access key matches only ``*``."""
    if identity.principal:
        return f"arn:aws:iam::{account}:{identity.principal}"
    return f"strongroom:{identity.name}"
