"""Running blocking work (file parsing, SQLite) from async use cases without blocking the loop.

The work runs in a worker thread and gets a CancelToken. Cancelling the awaiting task cancels
the token and then waits for the thread to finish rolling back, so when the caller sees
CancelledError the workspace is already back as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from promodesk.domain.jobs import CancelToken, Progress, ProgressFn, ignore_progress

T = TypeVar("T")


def progress_on_loop(progress: ProgressFn, loop: asyncio.AbstractEventLoop) -> ProgressFn:
    """A progress callback safe to call from a worker thread: it hops to the loop's thread."""
    if progress is ignore_progress:
        return progress

    def hop(update: Progress) -> None:
        with contextlib.suppress(RuntimeError):  # loop closed while the thread finished
            loop.call_soon_threadsafe(progress, update)

    return hop


async def run_blocking(
    work: Callable[[CancelToken, ProgressFn], T],
    *,
    progress: ProgressFn = ignore_progress,
    cancel: CancelToken | None = None,
) -> T:
    loop = asyncio.get_running_loop()
    token = cancel or CancelToken()
    future = loop.run_in_executor(None, work, token, progress_on_loop(progress, loop))
    return await stopping_on_cancel(future, token)


async def stopping_on_cancel(future: asyncio.Future[T], token: CancelToken) -> T:
    """A worker thread's result. Cancelled meanwhile, the work is told to stop (`token`) and
    the cancel goes on only once the thread has ended (rolled back, files as they were)."""
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        token.cancel()
        with contextlib.suppress(BaseException):
            await future
        raise


async def until_done(step: asyncio.Future[Any]) -> int:
    """Wait for a step (a worker thread's, say) to end, whatever cancels arrive meanwhile;
    how many did. The step's own error is left for the caller to read from it."""
    cancels = 0
    while not step.done():
        try:
            await asyncio.shield(step)
        except asyncio.CancelledError:
            cancels += 1
        except BaseException:
            break
    return cancels


@contextlib.asynccontextmanager
async def asked_ahead(work: Awaitable[T]) -> AsyncIterator[asyncio.Future[T]]:
    """`work` started now, its answer awaited later in the block (e.g. a vendor's first page
    asked for while the workspace is read). Left unawaited when the block ends early (an
    error, a cancel), it is cancelled and waited for, and its own error is read: never
    running on alone, never logged as an exception nobody retrieved."""
    ahead = asyncio.ensure_future(work)
    try:
        yield ahead
    finally:
        task = asyncio.current_task()
        cancels = task.cancelling() if task is not None else 0
        if not ahead.done():
            ahead.cancel()
            await until_done(ahead)  # (its count includes the work's own cancel)
        if not ahead.cancelled():
            ahead.exception()
        if task is not None and task.cancelling() > cancels:
            # A cancel that came while it ended goes on (the job ends "cancelled").
            raise asyncio.CancelledError


async def to_the_end(work: Awaitable[T]) -> T:
    """`work` awaited to its end even when cancelled (once or many times) meanwhile, then the
    cancel goes on: for the record of something a vendor already did, which must never be cut
    off half way by a cancel (a resumed bulk run would send it again)."""
    step = asyncio.ensure_future(work)
    cancels = await until_done(step)
    result = step.result()
    if cancels:
        raise asyncio.CancelledError
    return result
