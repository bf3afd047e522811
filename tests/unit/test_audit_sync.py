"""The event loop's shared audit fsync (server/audit_sync.py): a caller is answered only by a
sync that started after it asked, concurrent callers share syncs, and a failed sync fails every
caller it was meant to cover."""

from __future__ import annotations

import asyncio
import threading

import pytest

from strongroom.errors import AuditUnavailable
from strongroom.server.audit_sync import SharedSync


class _Disk:
    """Counts syncs; each one records how many entries were written when it started."""

    def __init__(self) -> None:
        self.written = 0
        self.covered: list[int] = []
        self.release = threading.Event()
        self.fail = False

    def sync(self) -> None:
        started_with = self.written
        self.release.wait(5)
        if self.fail:
            raise AuditUnavailable()
        self.covered.append(started_with)


def test_a_caller_is_covered_only_by_a_sync_that_started_after_it_asked() -> None:
    disk = _Disk()
    shared = SharedSync(disk.sync)

    async def scenario() -> None:
        disk.written = 1
        first = asyncio.ensure_future(shared())
        await asyncio.sleep(0.05)  # the first sync is running, covering entry 1 only
        disk.written = 2
        late = [asyncio.ensure_future(shared()) for _ in range(10)]
        await asyncio.sleep(0.05)
        assert not first.done() and not any(w.done() for w in late)
        disk.release.set()
        await asyncio.gather(first, *late)

    asyncio.run(scenario())
    # Two syncs for eleven callers: the ten late ones share the second, which saw entry 2.
    assert disk.covered == [1, 2]


def test_one_caller_alone_gets_one_sync() -> None:
    disk = _Disk()
    disk.release.set()
    shared = SharedSync(disk.sync)

    async def scenario() -> None:
        for n in range(3):
            disk.written = n
            await shared()

    asyncio.run(scenario())
    assert disk.covered == [0, 1, 2]


def test_a_failed_sync_fails_every_caller_it_covered_and_the_next_one_runs() -> None:
    disk = _Disk()
    disk.fail = True
    shared = SharedSync(disk.sync)

    async def scenario() -> list[BaseException | None]:
        first = asyncio.ensure_future(shared())
        await asyncio.sleep(0.05)
        late = [asyncio.ensure_future(shared()) for _ in range(3)]
        await asyncio.sleep(0.01)
        disk.release.set()
        results = await asyncio.gather(first, *late, return_exceptions=True)
        disk.fail = False
        await shared()  # the disk is back: the next caller is served
        return list(results)

    results = asyncio.run(scenario())
    assert all(isinstance(r, AuditUnavailable) for r in results)
    assert disk.covered == [0]


@pytest.mark.parametrize("cancel_first", [True, False])
def test_a_caller_that_goes_away_does_not_stop_the_sync_for_the_others(cancel_first: bool) -> None:
    disk = _Disk()
    shared = SharedSync(disk.sync)

    async def scenario() -> None:
        first = asyncio.ensure_future(shared())
        await asyncio.sleep(0.05)
        second = asyncio.ensure_future(shared())
        third = asyncio.ensure_future(shared())
        await asyncio.sleep(0.01)
        (first if cancel_first else second).cancel()
        disk.release.set()
        await third
        if not cancel_first:
            await first

    asyncio.run(scenario())
    assert len(disk.covered) == 2
