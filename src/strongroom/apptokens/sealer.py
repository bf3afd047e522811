"""TokenSealer: seal an application's tokens for its own database; open them only in a worker."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import cast

from strongroom.apptokens.cache import CacheLimits, DataKeyCache
from strongroom.apptokens.sources import KeySource
from strongroom.apptokens.worker import WorkerContext
from strongroom.clock import Clock, SystemClock
from strongroom.crypto import Aead
from strongroom.crypto.context import Context, canonical_context
from strongroom.crypto.envelope import (
    DataKey,
    envelope_header,
    header_end,
    open_many,
    seal_many_with_data_key,
    split_header,
)
from strongroom.errors import BadRequest

__all__ = ["TokenSealer"]


_MEMO_ENTRIES = 4096


class _ContextCodec:
    """Canonical encodings of recently used contexts: the hot path of seal and open."""

    def __init__(self) -> None:
        self._memo: dict[tuple[tuple[str, str], ...], bytes] = {}

    def encode(self, context: Context) -> bytes:
        try:
            memo_key = tuple(context.items())
            cached = self._memo.get(memo_key)
        except TypeError:  # an unhashable value: canonical_context gives the precise error
            memo_key, cached = (), None
        if cached is not None:
            return cached
        purpose = context.get("purpose")
        if not isinstance(purpose, str) or not purpose:
            raise BadRequest(
                "a token context needs a 'purpose', for example {'purpose': 'github-oauth'}"
            )
        encoded = canonical_context(context)
        if len(self._memo) >= _MEMO_ENTRIES:
            self._memo.clear()
        self._memo[memo_key] = encoded
        return encoded


def _as_bytes(tokens: Sequence[bytes | str]) -> Sequence[bytes]:
    """The tokens as bytes, ``str`` ones UTF-8 encoded: the sequence itself when every one is
    bytes already (one pass in C instead of a check per token in Python)."""
    if set(map(type, tokens)) <= {bytes}:
        return cast("Sequence[bytes]", tokens)
    return [t.encode("utf-8") if isinstance(t, str) else t for t in tokens]


class TokenSealer:
    """``vault.seal(token, context=...)`` needs only the right to encrypt. Opening happens in
    ``with vault.worker(...) as worker: worker.open(sealed, context=...)``."""

    def __init__(
        self,
        keys: KeySource,
        *,
        cache_limits: CacheLimits | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._keys = keys
        self._clock = clock or SystemClock()
        self._seal_cache: DataKeyCache[DataKey] = DataKeyCache(cache_limits, self._clock)
        self._open_cache: DataKeyCache[Aead] = DataKeyCache(cache_limits, self._clock)
        self._codec = _ContextCodec()

    def __repr__(self) -> str:
        return f"TokenSealer({self._keys!r})"

    def seal(self, token: bytes | str, *, context: Context) -> bytes:
        """Seal ``token`` bound to ``context`` (tenant, user, purpose…). Store the bytes."""
        plaintext = token.encode("utf-8") if isinstance(token, str) else token
        encoded = self._codec.encode(context)
        data_key = self._seal_cache.get(encoded)
        if data_key is None:
            data_key = self._keys.generate_data_key(context=context)
            self._seal_cache.put(encoded, data_key)
        # seal_with_data_key, without its frame: the hot path of the single call
        return data_key.aead.seal_one(data_key.header, plaintext, encoded)

    def seal_many(self, tokens: Sequence[bytes | str], *, context: Context) -> list[bytes]:
        """Seal many tokens bound to one context, in order: what ``seal`` gives for each, with
        the context encoded and the data key found once."""
        encoded = self._codec.encode(context)
        plaintexts = _as_bytes(tokens)
        sealed: list[bytes] = []
        while len(sealed) < len(plaintexts):  # a data key seals at most max_uses of them
            wanted = len(plaintexts) - len(sealed)
            taken = self._seal_cache.take(encoded, wanted)
            if taken is None:
                data_key = self._keys.generate_data_key(context=context)
                granted = min(wanted, self._seal_cache.limits.max_uses)
                self._seal_cache.put(encoded, data_key, used=granted)
            else:
                data_key, granted = taken
            if granted == len(plaintexts):  # the usual case: one data key seals them all
                return seal_many_with_data_key(
                    plaintexts, data_key=data_key, encoded_context=encoded
                )
            batch = plaintexts[len(sealed) : len(sealed) + granted]
            sealed += seal_many_with_data_key(batch, data_key=data_key, encoded_context=encoded)
        return sealed

    def worker(
        self,
        *,
        identity: str,
        purpose: str,
        scope: Mapping[str, Iterable[str]] | None = None,
        ttl: float = 300.0,
        max_decrypts: int = 1000,
    ) -> WorkerContext:
        """A worker context; use it with ``with``. ``scope`` maps context keys to the values this
        worker may open, e.g. ``{"tenant": ["acme"]}``."""
        if ttl <= 0 or max_decrypts < 1:
            raise BadRequest("a worker context needs ttl > 0 and max_decrypts >= 1")
        return WorkerContext(
            identity=identity,
            purpose=purpose,
            scope={k: frozenset(v) for k, v in (scope or {}).items()},
            expires_at=self._clock.now() + ttl,
            max_decrypts=max_decrypts,
            clock=self._clock,
            _opener=self._open,
            _many_opener=self._open_many,
        )

    def _open(self, worker: WorkerContext, sealed: bytes, context: Context) -> bytes:
        worker.authorize(context)
        encoded = self._codec.encode(context)
        end = header_end(sealed)
        # The header names the key and holds the wrapped DEK: with the context, it identifies
        # the unwrapped DEK exactly.
        cache_key = (sealed[:end], encoded)
        aead = self._open_cache.get(cache_key)
        if aead is None:
            key_ref, wrapped, _ = split_header(sealed)
            aead = self._keys.resolve(key_ref).unwrap_data_key(wrapped, context=context)
            self._open_cache.put(cache_key, aead)
        return aead.open_one(sealed, end, encoded)  # open_at, without its frame

    def _open_many(
        self, worker: WorkerContext, sealed: Sequence[bytes], context: Context
    ) -> list[bytes]:
        worker.authorize(context, count=len(sealed))
        encoded = self._codec.encode(context)

        def unwrap(key_ref: str, wrapped: bytes) -> Aead:
            cache_key = (envelope_header(key_ref, wrapped), encoded)
            aead = self._open_cache.get(cache_key)
            if aead is None:
                aead = self._keys.resolve(key_ref).unwrap_data_key(wrapped, context=context)
                self._open_cache.put(cache_key, aead)
            return aead

        return open_many(sealed, encoded, unwrap)
