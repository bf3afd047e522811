"""Response wrapping (Vault's ``X-Vault-Wrap-TTL`` and ``sys/wrapping/*``): a response is kept
for one reader, behind a single-use wrapping token, instead of being sent.

The wrapped response is a record (kind ``wrapped-response``, named by the wrapping token's
accessor), so it is sealed under the system keyring like every record. Unwrapping deletes the
record first: of two concurrent unwraps exactly one gets the response. The wrapping token carries
no policy (it can do nothing but be unwrapped or looked up) and is revoked when unwrapped."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from strongroom.auth import Identity
from strongroom.auth.tokens import TokenInfo, TokenRegistry
from strongroom.clock import Clock
from strongroom.errors import BadRequest, NotFound, Unauthenticated
from strongroom.store.protocol import Store
from strongroom.store.records import Records
from strongroom.types import JsonMapping, time_of

__all__ = [
    "MAX_WRAP_TTL",
    "WRAPPED_KIND",
    "WrapInfo",
    "WrapLookup",
    "WrappingService",
]

WRAPPED_KIND = "wrapped-response"
MAX_WRAP_TTL = 24 * 3600.0  # a wrapped response is meant to be picked up soon
_WRAPPING_POLICY = "response-wrapping"  # no such policy exists: the token may do nothing
_INVALID = "wrapping token is not valid or does not exist"


@dataclass(frozen=True)
class WrapInfo:
    token: str = field(repr=False)  # the wrapping token: whoever holds it gets the response
    accessor: str
    ttl: int
    creation_time: datetime
    creation_path: str


@dataclass(frozen=True)
class WrapLookup:
    """What anyone holding a wrapping token may learn of it."""

    creation_path: str
    creation_time: datetime
    creation_ttl: int


class WrappingService:
    def __init__(self, store: Store, tokens: TokenRegistry, clock: Clock) -> None:
        # by the wrapping token's accessor: {"response", "creation_path", "ttl"}
        self._wrapped = Records.of_json(store, WRAPPED_KIND)
        self._tokens = tokens
        self._clock = clock

    def wrap(self, response: JsonMapping, ttl: float, creation_path: str) -> WrapInfo:
        """Keep ``response`` for whoever holds the returned token, for ``ttl`` seconds. The
        caller already had the right to the response itself."""
        if not 1 <= ttl <= MAX_WRAP_TTL:
            raise BadRequest(f"the wrapping TTL must be from 1 second to {int(MAX_WRAP_TTL)}")
        token, info = self._tokens.create(
            (_WRAPPING_POLICY,),
            display_name="response-wrapping",
            ttl=ttl,
            explicit_max_ttl=ttl,
            renewable=False,
            path=creation_path,
            meta={"creation_path": creation_path},
        )
        doc = {"response": response, "creation_path": creation_path, "ttl": ttl}
        self._wrapped.create(info.accessor, doc)  # a new token's accessor: none is there
        return WrapInfo(token, info.accessor, int(ttl), time_of(info.created), creation_path)

    def wrap_data(self, identity: Identity, data: JsonMapping, ttl: float) -> WrapInfo:
        """Vault's sys/wrapping/wrap: wrap the caller's own data."""
        identity.require("update", "sys/wrapping/wrap")
        return self.wrap({"data": data}, ttl, "sys/wrapping/wrap")

    def _wrapping_token(self, token: str | None) -> TokenInfo:
        if not token:
            raise BadRequest(_INVALID)
        try:
            info = self._tokens.lookup(token)
        except Unauthenticated:
            raise BadRequest(_INVALID) from None
        if info.policies != (_WRAPPING_POLICY,):
            raise BadRequest(_INVALID)
        return info

    def _check(self, identity: Identity | None, own_token: bool, operation: str) -> None:
        """The wrapping token itself may be presented as the credential; otherwise the caller
        needs ``update`` on sys/wrapping/<operation> (Vault's default policy grants it)."""
        if not own_token:
            if identity is None:
                raise Unauthenticated()
            identity.require("update", f"sys/wrapping/{operation}")

    def unwrap(self, identity: Identity | None, token: str | None, own_token: bool) -> JsonMapping:
        self._check(identity, own_token, "unwrap")
        info = self._wrapping_token(token)
        doc = self._wrapped.get(info.accessor)
        # Delete first: of two unwraps racing, only the one whose delete succeeds answers.
        if doc is None or not self._wrapped.delete(info.accessor):
            raise BadRequest(_INVALID)
        self._tokens.revoke(info.accessor)
        response: JsonMapping = doc["response"]
        return response

    def lookup(self, token: str | None) -> WrapLookup:
        """Unauthenticated in Vault: only the wrapping token's own properties."""
        info = self._wrapping_token(token)
        doc = self._wrapped.get(info.accessor)
        if doc is None:
            raise BadRequest(_INVALID)
        return WrapLookup(str(doc["creation_path"]), time_of(info.created), int(doc["ttl"]))

    def rewrap(self, identity: Identity | None, token: str | None, own_token: bool) -> WrapInfo:
        self._check(identity, own_token, "rewrap")
        info = self._wrapping_token(token)
        doc = self._wrapped.get(info.accessor)
        if doc is None or not self._wrapped.delete(info.accessor):
            raise BadRequest(_INVALID)
        self._tokens.revoke(info.accessor)
        return self.wrap(doc["response"], float(doc["ttl"]), doc["creation_path"])

    def tidy(self) -> int:
        """Drop wrapped responses whose wrapping token expired unread; how many."""
        dropped = 0
        for accessor in self._wrapped.names():
            try:
                self._tokens.lookup_accessor(accessor)
            except NotFound:
                self._wrapped.delete(accessor)
                dropped += 1
        return dropped
