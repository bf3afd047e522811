"""Every call of a key provider ends within its timeout, the SDK's own retries included: the
call runs on a thread of the provider's, and the caller gives up when the timeout passes
(KeyProviderUnavailable), leaving the call to finish, or hang, on its own. At most
``MAX_WAITING`` calls of one provider wait at once: a provider that hangs then fails the next
call at once, instead of piling up threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from strongroom.crypto.context import Context
from strongroom.errors import KeyProviderUnavailable
from strongroom.keyproviders.provider import KeyProvider, KeyProviderBase, RotatableKeyProvider

__all__ = ["MAX_WAITING", "BoundedProvider", "BoundedRotatableProvider", "bounded"]

MAX_WAITING = 8
_T = TypeVar("_T")


class BoundedProvider(KeyProviderBase):
    def __init__(self, inner: KeyProvider, timeout: float) -> None:
        self.inner = inner
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(MAX_WAITING, thread_name_prefix="strongroom-provider")
        self._slots = threading.BoundedSemaphore(MAX_WAITING)

    def __repr__(self) -> str:
        return f"BoundedProvider({self.inner!r}, timeout={self.timeout:g})"

    @property
    def key_ref(self) -> str:
        return self.inner.key_ref

    def wrap(self, plaintext_key: bytes, *, context: Context) -> bytes:
        return self._call(lambda: self.inner.wrap(plaintext_key, context=context))

    def unwrap(self, wrapped: bytes, *, context: Context) -> bytes:
        return self._call(lambda: self.inner.unwrap(wrapped, context=context))

    def _call(self, work: Callable[[], _T]) -> _T:
        if not self._slots.acquire(blocking=False):
            raise KeyProviderUnavailable(
                f"the key provider {self.key_ref} is not answering: {MAX_WAITING} calls are "
                "still waiting for it"
            )

        def run() -> _T:
            try:
                return work()
            finally:
                self._slots.release()

        future = self._pool.submit(run)
        try:
            return future.result(timeout=self.timeout)
        except FutureTimeout:
            raise KeyProviderUnavailable(
                f"the key provider {self.key_ref} did not answer within {self.timeout:g} s "
                "(its timeout, retries included); check it is reachable"
            ) from None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()


class BoundedRotatableProvider(BoundedProvider):
    def rotate(self) -> int:
        assert isinstance(self.inner, RotatableKeyProvider)
        inner = self.inner
        return self._call(inner.rotate)


def bounded(provider: KeyProvider, timeout: float) -> BoundedProvider:
    if isinstance(provider, RotatableKeyProvider):
        return BoundedRotatableProvider(provider, timeout)
    return BoundedProvider(provider, timeout)
