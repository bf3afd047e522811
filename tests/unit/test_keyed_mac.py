"""KeyedMac is HMAC-SHA256: the same bytes as the standard library's, whatever came before
(each message starts from the keyed state, never from the previous message's)."""

from __future__ import annotations

import hashlib
import hmac
from concurrent.futures import ThreadPoolExecutor

from strongroom.crypto.keyed_mac import KeyedMac


def test_each_message_is_its_own_hmac_sha256() -> None:
    key = bytes(range(32))
    mac = KeyedMac(key)
    for message in (b"", b"a", b"a", "pässwörd".encode(), b"x" * 10_000, b"a"):
        expected = hmac.new(key, message, hashlib.sha256)
        assert mac.hexdigest(message) == expected.hexdigest()


def test_its_repr_hides_the_key() -> None:
    key = b"canary-key-material-0123456789ab"
    assert "canary" not in repr(KeyedMac(key))
    assert key.hex() not in repr(KeyedMac(key))


def test_threads_share_one_keyed_state() -> None:
    """The audit log's hashes and the sealed store's MACs come from many threads at once."""
    key = b"k" * 32
    mac = KeyedMac(key)
    messages = [f"value-{i}".encode() for i in range(2_000)]
    expected = [hmac.new(key, m, hashlib.sha256).hexdigest() for m in messages]
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(mac.hexdigest, messages))
    assert found == expected
