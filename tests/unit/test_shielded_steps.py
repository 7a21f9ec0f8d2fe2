"""services/jobs.py: a step that must end (the record of a vendor's change, a sync's save) is
waited for through any number of cancels, and every cancel is accounted for; work asked for
ahead never runs on alone when its caller stops early."""

from __future__ import annotations

import asyncio
import gc
import threading

import pytest

from promodesk.services.jobs import asked_ahead, to_the_end, until_done


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


async def test_work_asked_ahead_is_awaited_in_the_block() -> None:
    async def page() -> str:
        await asyncio.sleep(0)
        return "page 1"

    async with asked_ahead(page()) as ahead:
        assert await ahead == "page 1"


async def test_work_asked_ahead_is_cancelled_when_the_block_fails_before_it() -> None:
    """E.g. the workspace could not be read while the first page was in flight: the request
    is cancelled and waited for, not left running behind the error."""
    started = asyncio.Event()
    ended: list[str] = []

    async def page() -> str:
        started.set()
        try:
            await asyncio.Event().wait()  # an answer that never comes
        finally:
            ended.append("request closed")
        return "never"

    asked: list[asyncio.Future[str]] = []

    async def job() -> None:
        async with asked_ahead(page()) as ahead:
            asked.append(ahead)
            await started.wait()
            raise OSError("the workspace could not be read")

    with pytest.raises(OSError, match="workspace"):
        await job()
    assert asked[0].cancelled()
    assert ended == ["request closed"]


async def test_work_asked_ahead_that_failed_behind_another_error_is_not_reported_lost() -> None:
    """Its error is read, so asyncio never logs "exception was never retrieved" for it."""
    loop = asyncio.get_running_loop()
    reported: list[dict] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))

    async def page() -> str:
        raise ConnectionError("the vendor hung up")

    async def job() -> None:
        async with asked_ahead(page()) as ahead:
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            assert ahead.done()
            raise OSError("the workspace could not be read")

    try:
        with pytest.raises(OSError, match="workspace"):
            await job()
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(None)
    assert reported == []


async def test_a_cancel_while_work_asked_ahead_winds_down_is_not_lost() -> None:
    """The block fails; while the work asked ahead is cancelled and takes its time to end,
    the user cancels: the job ends cancelled, not with the first error."""
    winding_down, let_go = asyncio.Event(), asyncio.Event()

    async def page() -> str:
        try:
            await asyncio.Event().wait()
        finally:
            winding_down.set()
            await asyncio.shield(let_go.wait())  # (closing a connection, say)
        return "never"

    async def job() -> None:
        async with asked_ahead(page()):
            await asyncio.sleep(0)
            raise OSError("the workspace could not be read")

    task = asyncio.ensure_future(job())
    await winding_down.wait()
    task.cancel()
    await asyncio.sleep(0)
    let_go.set()
    with pytest.raises(asyncio.CancelledError):
        await task
