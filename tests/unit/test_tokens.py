"""The token library in-process with the local KMS."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from strongroom.apptokens import (
    CacheLimits,
    DataKeyCache,
    LocalKeySource,
    TokenAccessDenied,
    TokenSealer,
    current_worker,
)
from strongroom.apptokens.sqlalchemy import SealedToken
from strongroom.clock import ManualClock
from strongroom.errors import BadRequest, DecryptionError
from strongroom.keyproviders import LocalKeyFile


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    github_token: Mapped[bytes | None] = mapped_column(SealedToken())


CTX = {"tenant": "acme", "user": "42", "purpose": "github-oauth"}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def vault(tmp_path: Path, clock: ManualClock) -> TokenSealer:
    provider = LocalKeyFile(tmp_path / "kms.key").provider("tokens")
    return TokenSealer(LocalKeySource(provider), clock=clock)


def test_seal_and_open_inside_a_worker(vault: TokenSealer) -> None:
    sealed = vault.seal("gho_secret-token", context=CTX)
    assert b"gho_secret-token" not in sealed
    with vault.worker(
        identity="sync-worker", purpose="github-oauth", scope={"tenant": ["acme"]}
    ) as worker:
        assert worker.open(sealed, context=CTX) == b"gho_secret-token"
        assert current_worker() is worker
    assert current_worker() is None


def test_opening_outside_a_worker_context_is_refused(vault: TokenSealer) -> None:
    sealed = vault.seal("t", context=CTX)
    worker = vault.worker(identity="w", purpose="github-oauth")
    with pytest.raises(TokenAccessDenied):
        worker.open(sealed, context=CTX)  # created but never entered
    with worker:
        pass
    with pytest.raises(TokenAccessDenied):
        worker.open(sealed, context=CTX)  # after it ended


def test_a_context_that_does_not_match_the_seal_reveals_nothing(vault: TokenSealer) -> None:
    sealed = vault.seal("t", context=CTX)
    with vault.worker(identity="w", purpose="github-oauth", max_decrypts=10) as worker:
        with pytest.raises(DecryptionError) as caught:
            worker.open(sealed, context={**CTX, "user": "43"})
        assert str(caught.value) == "decryption failed"


def test_scope_and_purpose_are_enforced(vault: TokenSealer) -> None:
    sealed = vault.seal("t", context=CTX)
    scoped = vault.worker(identity="w", purpose="github-oauth", scope={"tenant": ["globex"]})
    with scoped as worker, pytest.raises(TokenAccessDenied, match="scope"):
        worker.open(sealed, context=CTX)
    with (
        vault.worker(identity="w", purpose="slack") as worker,
        pytest.raises(TokenAccessDenied, match="purpose"),
    ):
        worker.open(sealed, context=CTX)


def test_expiry_and_budget(vault: TokenSealer, clock: ManualClock) -> None:
    sealed = vault.seal("t", context=CTX)
    with vault.worker(identity="w", purpose="github-oauth", ttl=60, max_decrypts=2) as worker:
        worker.open(sealed, context=CTX)
        worker.open(sealed, context=CTX)
        with pytest.raises(TokenAccessDenied, match="decrypts"):
            worker.open(sealed, context=CTX)
    with vault.worker(identity="w", purpose="github-oauth", ttl=60) as worker:
        clock.advance(60)
        with pytest.raises(TokenAccessDenied, match="expired"):
            worker.open(sealed, context=CTX)


def test_worker_contexts_do_not_leak_across_threads(vault: TokenSealer) -> None:
    sealed = vault.seal("t", context=CTX)
    errors: list[BaseException] = []

    def other_thread() -> None:
        try:
            vault.worker(identity="w", purpose="github-oauth").open(sealed, context=CTX)
        except TokenAccessDenied as exc:
            errors.append(exc)

    with vault.worker(identity="w", purpose="github-oauth"):
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert len(errors) == 1


def test_data_keys_are_cached_within_bounds(tmp_path: Path, clock: ManualClock) -> None:
    provider = LocalKeyFile(tmp_path / "kms.key").provider("tokens")
    vault = TokenSealer(
        LocalKeySource(provider), cache_limits=CacheLimits(max_age=10, max_uses=3), clock=clock
    )
    from strongroom.crypto import parse_envelope

    refs = [parse_envelope(vault.seal("t", context=CTX)).wrapped_dek for _ in range(4)]
    assert refs[0] == refs[1] == refs[2] != refs[3]  # a new key after 3 uses
    clock.advance(10)
    assert parse_envelope(vault.seal("t", context=CTX)).wrapped_dek != refs[3]  # and after max_age
    other = parse_envelope(vault.seal("t", context={**CTX, "user": "7"})).wrapped_dek
    assert other not in refs  # one key per context


def test_cache_evicts_the_oldest_entry(clock: ManualClock) -> None:
    cache: DataKeyCache[str] = DataKeyCache(CacheLimits(max_entries=2), clock)
    cache.put("a", "A")
    cache.put("b", "B")
    assert cache.get("a") == "A"
    cache.put("c", "C")
    assert cache.get("a") is None and cache.get("b") == "B" and len(cache) == 2


def test_a_context_needs_a_purpose(vault: TokenSealer) -> None:
    with pytest.raises(BadRequest, match="purpose"):
        vault.seal("t", context={"tenant": "acme"})


def test_sqlalchemy_column_stores_only_sealed_bytes(vault: TokenSealer) -> None:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Account(id=1, github_token=vault.seal("gho_abc", context=CTX)))
        session.commit()
        stored = session.scalars(select(Account)).one().github_token
        assert stored is not None
        with vault.worker(identity="w", purpose="github-oauth") as worker:
            assert worker.open(stored, context=CTX) == b"gho_abc"
        session.add(Account(id=2, github_token=b"plaintext-token"))
        with pytest.raises(StatementError):
            session.commit()
    engine.dispose()


def test_batches_seal_and_open_as_single_calls_do(tmp_path: Path, clock: ManualClock) -> None:
    provider = LocalKeyFile(tmp_path / "kms.key").provider("tokens")
    vault = TokenSealer(LocalKeySource(provider), cache_limits=CacheLimits(max_uses=4), clock=clock)
    tokens = [f"token-{i}" for i in range(10)]
    sealed = vault.seal_many(tokens, context=CTX)
    from strongroom.crypto import parse_envelope

    keys = [parse_envelope(s).wrapped_dek for s in sealed]
    assert len(set(keys)) == 3  # max_uses 4: keys for 4 + 4 + 2 tokens
    assert keys[0] == keys[3] != keys[4] == keys[7] != keys[8]
    single = vault.seal("single", context=CTX)
    with vault.worker(identity="w", purpose="github-oauth", max_decrypts=12) as worker:
        opened = worker.open_many([*sealed, single], context=CTX)
        assert opened == [t.encode() for t in tokens] + [b"single"]
        assert worker.decrypts == 11
        with pytest.raises(TokenAccessDenied):  # the budget holds 1 more, not 2: nothing opens
            worker.open_many(sealed[:2], context=CTX)
        assert worker.decrypts == 11
    outsider = vault.worker(identity="w", purpose="github-oauth", scope={"tenant": ["other"]})
    with outsider as w, pytest.raises(TokenAccessDenied):
        w.open_many(sealed, context=CTX)
    tampered = bytearray(sealed[5])
    tampered[-1] ^= 1
    with vault.worker(identity="w", purpose="github-oauth") as worker:
        with pytest.raises(DecryptionError):
            worker.open_many([sealed[0], bytes(tampered)], context=CTX)
        with pytest.raises(DecryptionError):  # another context: nothing opens
            worker.open_many(sealed[:2], context={**CTX, "user": "7"})
    with pytest.raises(TokenAccessDenied):
        vault.worker(identity="w", purpose="github-oauth").open_many(sealed, context=CTX)


def test_a_batch_opens_runs_under_any_data_key_and_refuses_any_broken_blob(
    tmp_path: Path, clock: ManualClock
) -> None:
    """A batch is opened a run of blobs under one data key at a time, without comparing each
    blob's header: a blob under another key starts the next run, wherever it sits, and a broken
    one (its header intact or not) is the one DecryptionError for the whole batch."""
    provider = LocalKeyFile(tmp_path / "kms.key").provider("tokens")
    vault = TokenSealer(LocalKeySource(provider), cache_limits=CacheLimits(max_uses=2), clock=clock)
    first, second, third = (vault.seal_many([f"{k}-0", f"{k}-1"], context=CTX) for k in "abc")
    mixed = [first[0], second[0], first[1], third[0], third[1], second[1]]
    cut_header = first[0][:20]  # ends inside the header: not the run's header, nor a whole one
    with vault.worker(identity="w", purpose="github-oauth", max_decrypts=10_000) as worker:
        opened = worker.open_many(mixed, context=CTX)
        assert opened == [b"a-0", b"b-0", b"a-1", b"c-0", b"c-1", b"b-1"]
        assert worker.open_many(tuple(first), context=CTX) == [b"a-0", b"a-1"]
        for at in range(len(mixed)):  # the last byte flipped: its run's header is intact
            broken = [*mixed]
            flipped = bytearray(broken[at])
            flipped[-1] ^= 1
            broken[at] = bytes(flipped)
            with pytest.raises(DecryptionError):
                worker.open_many(broken, context=CTX)
            for cut in (cut_header, mixed[at][:-1], mixed[at][: len(mixed[at]) - 17]):
                with pytest.raises(DecryptionError):
                    worker.open_many([*mixed[:at], cut, *mixed[at:]], context=CTX)


def test_a_batch_takes_bytes_and_text_of_any_size(vault: TokenSealer) -> None:
    """Bytes go through as they are, text as UTF-8, in a tuple or a list; ciphertexts above the
    size a batch copies are opened through a view, and a broken or cut one still fails."""
    large = bytes(range(256)) * 80  # 20 KiB: above the copy threshold
    mixed = (b"raw-bytes", "text-\u00e9", large, "y" * 9000)
    only_bytes = [b"a", large, b"c"]
    sealed_mixed = vault.seal_many(mixed, context=CTX)
    sealed_bytes = vault.seal_many(only_bytes, context=CTX)
    assert only_bytes == [b"a", large, b"c"]  # the caller's list is not touched
    with vault.worker(identity="w", purpose="github-oauth", max_decrypts=100) as worker:
        assert worker.open_many(sealed_mixed, context=CTX) == [
            b"raw-bytes",
            "text-\u00e9".encode(),
            large,
            b"y" * 9000,
        ]
        assert worker.open_many(sealed_bytes, context=CTX) == only_bytes
        assert [worker.open(s, context=CTX) for s in sealed_bytes] == only_bytes
        flipped = bytearray(sealed_bytes[1])
        flipped[-1] ^= 1
        for broken in (bytes(flipped), sealed_bytes[1][:-1]):
            with pytest.raises(DecryptionError):
                worker.open_many([sealed_bytes[0], broken, sealed_bytes[2]], context=CTX)


def test_every_cut_of_a_sealed_token_is_the_one_decryption_error(vault: TokenSealer) -> None:
    """The single call reads the header's lengths by index: a token cut anywhere (or cut and
    padded) fails as any other bad token does, never with another exception."""
    sealed = vault.seal("t", context=CTX)
    with vault.worker(identity="w", purpose="github-oauth", max_decrypts=4 * len(sealed)) as w:
        for cut in range(len(sealed)):
            for blob in (sealed[:cut], sealed[:cut] + b"\xff\xff\xff"):
                with pytest.raises(DecryptionError):
                    w.open(blob, context=CTX)
