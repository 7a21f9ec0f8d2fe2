"""services/jobs.py: a step that must end (the record of a vendor's change, a sync's save) is
waited for through any number of cancels, and every cancel is accounted for."""

from __future__ import annotations

import asyncio
import threading

import pytest

from promodesk.services.jobs import to_the_end, until_done


async def test_until_done_counts_every_cancel_that_arrived_while_the_step_ran() -> None:
    release = threading.Event()
    step = asyncio.ensure_future(asyncio.to_thread(release.wait))
    counted: list[int] = []

    async def waiter() -> None:
        counted.append(await until_done(step))

    task = asyncio.ensure_future(waiter())
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.sleep(0)
    assert not task.done()  # still waiting for the step
    release.set()
    await task
    assert counted == [2]
    assert step.result() is True


async def test_to_the_end_finishes_the_step_then_raises_the_cancel() -> None:
    release = threading.Event()
    finished: list[str] = []

    async def record() -> str:
        await asyncio.to_thread(release.wait)
        finished.append("on record")
        return "done"

    task = asyncio.ensure_future(to_the_end(record()))
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.sleep(0)
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert finished == ["on record"]


async def test_to_the_end_without_a_cancel_returns_the_result() -> None:
    async def record() -> str:
        await asyncio.sleep(0)
        return "done"

    assert await to_the_end(record()) == "done"
