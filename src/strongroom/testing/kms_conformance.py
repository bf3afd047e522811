"""The KeyProvider conformance suite. ``run_all(make)`` takes a factory of fresh providers
(and, for rotation, a callable that rotates the provider's root key)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from strongroom.crypto.envelope import open_envelope, seal
from strongroom.errors import DecryptionError
from strongroom.keyproviders.provider import KeyProvider

__all__ = [
    "CHECKS",
    "Factory",
    "check_context_is_bound",
    "check_data_keys_seal_envelopes",
    "check_fresh_wraps_differ",
    "check_other_provider_cannot_unwrap",
    "check_round_trip",
    "check_tampering_is_rejected",
    "run_all",
]

Factory = Callable[[], KeyProvider]
_CTX = {"namespace": "prod", "path": "app/db", "version": "1"}


def _expect_decryption_error(action: Callable[[], object]) -> None:
    try:
        action()
    except DecryptionError as exc:
        assert str(exc) == "decryption failed", "decryption errors must be opaque"
        return
    raise AssertionError("expected DecryptionError")


def check_round_trip(make: Factory) -> None:
    provider = make()
    key = b"k" * 32
    wrapped = provider.wrap(key, context=_CTX)
    assert key not in wrapped
    assert provider.unwrap(wrapped, context=_CTX) == key


def check_fresh_wraps_differ(make: Factory) -> None:
    provider = make()
    assert provider.wrap(b"k" * 32, context=_CTX) != provider.wrap(b"k" * 32, context=_CTX)


def check_context_is_bound(make: Factory) -> None:
    provider = make()
    wrapped = provider.wrap(b"k" * 32, context=_CTX)
    for other in (
        {**_CTX, "version": "2"},
        {**_CTX, "path": "app/other"},
        {},
        {**_CTX, "extra": ""},
    ):
        _expect_decryption_error(partial(provider.unwrap, wrapped, context=other))


def check_tampering_is_rejected(make: Factory) -> None:
    provider = make()
    wrapped = provider.wrap(b"k" * 32, context=_CTX)
    for index in range(len(wrapped)):
        flipped = bytearray(wrapped)
        flipped[index] ^= 0x01
        _expect_decryption_error(partial(provider.unwrap, bytes(flipped), context=_CTX))
    _expect_decryption_error(lambda: provider.unwrap(wrapped[:-1], context=_CTX))
    _expect_decryption_error(lambda: provider.unwrap(b"", context=_CTX))


def check_data_keys_seal_envelopes(make: Factory) -> None:
    provider = make()
    envelope = seal(b"hello", keys=provider, context=_CTX)

    def resolve(ref: str) -> KeyProvider:
        if ref != provider.key_ref:
            raise DecryptionError()
        return provider

    assert open_envelope(envelope, resolve=resolve, context=_CTX) == b"hello"
    _expect_decryption_error(
        lambda: open_envelope(envelope, resolve=resolve, context={**_CTX, "version": "9"})
    )


def check_other_provider_cannot_unwrap(make: Factory) -> None:
    first, second = make(), make()
    wrapped = first.wrap(b"k" * 32, context=_CTX)
    if first.key_ref == second.key_ref:
        return  # same root key by construction; nothing to check
    _expect_decryption_error(lambda: second.unwrap(wrapped, context=_CTX))


CHECKS: list[Callable[[Factory], None]] = [
    check_round_trip,
    check_fresh_wraps_differ,
    check_context_is_bound,
    check_tampering_is_rejected,
    check_data_keys_seal_envelopes,
    check_other_provider_cannot_unwrap,
]


def run_all(make: Factory) -> None:
    for check in CHECKS:
        check(make)
