"""The audit entries of the requests answered in one turn of the event loop go out in one write
(server/audit_batch.py): in order, each request answered only after the write, every one of them
failed when it fails, a request that went away not disturbing the others."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from strongroom.audit import AuditBroker
from strongroom.errors import AuditUnavailable
from strongroom.server.audit_batch import MOST_PER_WRITE, AuditBatch


class _Broker:
    """What AuditBatch calls of a broker: ``log``, recorded (or refused), and a sync, which
    records how many entries were written when it started (or fails)."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, Any], ...]] = []
        self.refuse = False
        self.syncs: list[int] = []
        self.sync_fails = False

    def log(self, *entries: dict[str, Any], sensitive: tuple[str, ...]) -> None:
        if self.refuse:
            raise AuditUnavailable()
        self.calls.append(entries)

    async def sync(self) -> None:
        self.syncs.append(sum(len(call) for call in self.calls))
        await asyncio.sleep(0)
        if self.sync_fails:
            raise AuditUnavailable()


def _batch() -> tuple[AuditBatch, _Broker]:
    broker = _Broker()
    return AuditBatch(cast(AuditBroker, broker), broker.sync), broker


def _entries(n: int) -> tuple[dict[str, Any], ...]:
    return ({"n": n, "type": "request"}, {"n": n, "type": "response"})


def test_one_turns_requests_share_one_write_in_order() -> None:
    async def run() -> None:
        batch, broker = _batch()
        answered: list[int] = []

        async def request(n: int) -> None:
            await batch.write(_entries(n))
            assert broker.calls, "answered before its entries were written"
            answered.append(n)

        await asyncio.gather(*(request(n) for n in range(5)))
        assert len(broker.calls) == 1
        assert [e["n"] for e in broker.calls[0]] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
        assert sorted(answered) == [0, 1, 2, 3, 4]
        await batch.write(_entries(9))  # a later turn: a write of its own
        assert len(broker.calls) == 2

    asyncio.run(run())


def test_a_failed_write_fails_every_request_of_the_batch() -> None:
    async def run() -> None:
        batch, broker = _batch()
        broker.refuse = True
        outcomes = await asyncio.gather(
            *(batch.write(_entries(n)) for n in range(3)), return_exceptions=True
        )
        assert all(isinstance(o, AuditUnavailable) for o in outcomes)
        assert len({id(o) for o in outcomes}) == 3  # each its own exception
        broker.refuse = False
        await batch.write(_entries(4))  # the next batch is written
        assert [e["n"] for e in broker.calls[0]] == [4, 4]

    asyncio.run(run())


def test_a_request_that_went_away_leaves_the_others_answered() -> None:
    async def run() -> None:
        batch, broker = _batch()
        gone = asyncio.ensure_future(batch.write(_entries(0)))
        kept = asyncio.ensure_future(batch.write(_entries(1)))
        await asyncio.sleep(0)  # both queued
        gone.cancel()
        await kept
        with pytest.raises(asyncio.CancelledError):
            await gone
        assert [e["n"] for e in broker.calls[0]] == [0, 0, 1, 1]  # written all the same

    asyncio.run(run())


def test_a_full_batch_is_written_at_once_and_the_rest_after_it() -> None:
    async def run() -> None:
        batch, broker = _batch()
        count = 2 * MOST_PER_WRITE + 3
        await asyncio.gather(*(batch.write(_entries(n)) for n in range(count)))
        sizes = [len(call) // 2 for call in broker.calls]
        assert sizes == [MOST_PER_WRITE, MOST_PER_WRITE, 3]
        written = [e["n"] for call in broker.calls for e in call[::2]]
        assert written == list(range(count))  # in order across the writes

    asyncio.run(run())


def test_durable_requests_are_answered_after_one_sync_that_follows_their_write() -> None:
    async def run() -> None:
        batch, broker = _batch()
        order: list[str] = []

        async def request(n: int, durable: bool) -> None:
            await batch.write(_entries(n), durable=durable)
            order.append(f"{n}:{len(broker.syncs)}")

        await asyncio.gather(request(1, True), request(2, False), request(3, True))
        assert broker.syncs == [6]  # one sync, started once all six entries were written
        assert order == ["2:0", "1:1", "3:1"]  # the read at once; the writes after the sync

    asyncio.run(run())


def test_a_failed_sync_fails_the_durable_requests_only() -> None:
    async def run() -> None:
        batch, broker = _batch()
        broker.sync_fails = True
        outcomes = await asyncio.gather(
            batch.write(_entries(1), durable=True),
            batch.write(_entries(2)),
            return_exceptions=True,
        )
        assert isinstance(outcomes[0], AuditUnavailable) and outcomes[1] is None

    asyncio.run(run())
