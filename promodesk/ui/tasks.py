"""Running use cases from the window: the qasync bridge.

`TaskRunner.start()` runs a services coroutine as an asyncio task on the qasync loop, keeps a
strong reference to it until it ends (an unreferenced task can be garbage-collected mid-run),
forwards its progress to whoever shows it, and offers Cancel. Every job ends with `finished`,
whether it succeeded, failed or was cancelled; look at `job.error` / `job.cancelled`.

A job may belong to an `owner` (a panel: its busy indicator counts its jobs) and carry a
`key`: a newer job with the same owner and key replaces the older one, which is cancelled
(a second Refresh of the same account, a search typed again).
"""

from __future__ import annotations

import itertools
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from promodesk.domain.jobs import JobCancelled, Progress, ProgressFn
from promodesk.qt import QObject, Signal

if TYPE_CHECKING:
    import asyncio

# asyncio is imported where it is used, not here: the window is built and painted before the
# async machinery loads (it costs ~45 ms of start-up).

log = logging.getLogger("promodesk.tasks")
_ORDER = itertools.count()  # jobs in the order they started (the jobs list shows them so)


class QuietCollector:
    """Python's full garbage collections, held off while jobs run, and out of the way after.

    A check of a million codes, a sync of 100,000 or a bulk run holds many objects for a
    while (sets of codes, batches of rows, vendor records); each automatic full collection
    walks all of them with the GIL held, 20 to 140 ms on the CI-class machine, during which
    the window cannot repaint or react (bench/wizard_stalls.py, bench/live_window.py). While
    any job runs, automatic collection is off and the young generations are collected every
    half second instead (a few ms: only new objects).

    When the last job ends, collection is on again, and right after (once the job has ended
    and let go of what it held) what is left (the modules the job imported, the window's
    models, the workspace's caches: ~70,000 objects, which a full collection walked in 40-65
    ms as the job ended) is frozen (`gc.freeze`): automatic full collections walk only what
    is made after. Frozen objects are still freed when nothing refers to them; only garbage
    cycles among them (e.g. ones a job left in the oldest generation) wait, for the full
    collection made a minute after the last job, when nothing runs, or as a job ends when
    the last full one is ten minutes old (then the rest is frozen again).
    """

    INTERVAL_MS = 500
    IDLE_COLLECT_MS = 60_000
    # Jobs one after the other without a minute between them: the full collection still
    # comes this often (one stall), so frozen garbage never piles up for long.
    LONGEST_WITHOUT_FULL_S = 600.0

    def __init__(self) -> None:
        import time

        self.jobs = 0
        self.timer: Any = None
        self.idle_timer: Any = None
        self.was_enabled = True
        self.last_full = time.monotonic()

    def enter(self) -> None:
        import gc

        from promodesk.qt import QTimer

        self.jobs += 1
        if self.jobs > 1:
            return
        if self.idle_timer is not None:
            self.idle_timer.stop()
        self.was_enabled = gc.isenabled()
        gc.disable()
        if self.timer is None:
            self.timer = QTimer()
            self.timer.setInterval(self.INTERVAL_MS)
            self.timer.timeout.connect(lambda: gc.collect(1))
        self.timer.start()

    def leave(self) -> None:
        import gc

        from promodesk.qt import QTimer

        self.jobs = max(0, self.jobs - 1)
        if self.jobs:
            return
        if self.timer is not None:
            self.timer.stop()
        if not self.was_enabled:
            return
        gc.enable()
        # After the job's own end (its result handed over, its coroutine finished).
        QTimer.singleShot(0, self._settle)
        if self.idle_timer is None:
            self.idle_timer = QTimer()
            self.idle_timer.setSingleShot(True)
            self.idle_timer.setInterval(self.IDLE_COLLECT_MS)
            self.idle_timer.timeout.connect(self.collect_idle)
        self.idle_timer.start()

    def _settle(self) -> None:
        import gc
        import time

        if self.jobs or not gc.isenabled():
            return  # (another job started meanwhile: its end settles)
        if time.monotonic() - self.last_full > self.LONGEST_WITHOUT_FULL_S:
            self.collect_idle()
        else:
            gc.collect(1)  # the young (a few ms): what the job just let go of is not frozen
            gc.freeze()

    def collect_idle(self) -> None:
        """The full collection held off since the last freeze (cycles among frozen objects
        that became garbage), then the rest frozen again. Only while no job runs."""
        import gc
        import time

        if self.jobs or not gc.isenabled():
            return
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.last_full = time.monotonic()


QUIET_COLLECTOR = QuietCollector()


class Job(QObject):
    progressed = Signal(object)  # Progress
    finished = Signal()

    def __init__(
        self,
        title: str,
        *,
        cancellable: bool,
        background: bool,
        owner: object | None = None,
        key: str = "",
    ) -> None:
        super().__init__()
        self.title = title
        self.cancellable = cancellable
        self.background = background
        self.owner = owner
        self.key = key
        self.replaced = False  # cancelled because a newer job with the same key started
        self.progress: Progress | None = None
        self.started = next(_ORDER)
        self.result: Any = None
        self.error: BaseException | None = None
        self.cancelled = False
        self.done = False
        self._task: asyncio.Task[None] | None = None

    def report(self, update: Progress) -> None:
        self.progress = update
        self.progressed.emit(update)

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def as_future(self) -> asyncio.Future[Job]:
        """A future that resolves when the job ends (for coroutines and async tests)."""
        import asyncio

        future: asyncio.Future[Job] = asyncio.get_event_loop().create_future()
        if self.done:
            future.set_result(self)
        else:
            self.finished.connect(lambda: future.done() or future.set_result(self))
        return future


class TaskRunner(QObject):
    job_started = Signal(object)
    job_finished = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: set[Job] = set()
        # Errors the user can act on; anything else is a bug and goes to sys.excepthook.
        self.expected_errors: tuple[type[BaseException], ...] = ()

    @property
    def jobs(self) -> frozenset[Job]:
        return frozenset(self._jobs)

    def start(
        self,
        title: str,
        work: Callable[[ProgressFn], Awaitable[Any]],
        *,
        cancellable: bool = True,
        background: bool = False,
        on_done: Callable[[Job], None] | None = None,
        owner: object | None = None,
        key: str = "",
    ) -> Job:
        """`owner`/`key`: see the module's docstring."""
        import asyncio

        if key:
            for older in self.owned(owner):
                if older.key == key and not older.done:
                    older.replaced = True
                    older.cancel()
        job = Job(title, cancellable=cancellable, background=background, owner=owner, key=key)
        self._jobs.add(job)

        def finish() -> None:
            job.done = True
            self._jobs.discard(job)
            try:
                if on_done is not None:
                    on_done(job)
            finally:
                job.finished.emit()
                self.job_finished.emit(job)

        async def run() -> None:
            QUIET_COLLECTOR.enter()
            try:
                job.result = await work(job.report)
            except (asyncio.CancelledError, JobCancelled):
                job.cancelled = True
            except self.expected_errors as error:
                job.error = error
            except Exception as error:  # a bug: log it and show the crash dialog
                job.error = error
                log.exception("job %r failed", title)
                sys.excepthook(type(error), error, error.__traceback__)
            finally:
                QUIET_COLLECTOR.leave()
                finish()

        def never_started(task: asyncio.Task[None]) -> None:
            # A task cancelled before its first step never enters run(): it still ends.
            if not job.done:
                job.cancelled = True
                finish()

        job._task = asyncio.get_event_loop().create_task(run())
        job._task.add_done_callback(never_started)
        self.job_started.emit(job)
        return job

    def owned(self, owner: object | None) -> list[Job]:
        """The running jobs of `owner`, oldest first."""
        return sorted(
            (job for job in self._jobs if job.owner is owner), key=lambda job: job.started
        )

    def cancel_all(self) -> None:
        for job in list(self._jobs):
            job.cancel()

    async def shutdown(self) -> None:
        """Cancel everything and wait until each job has rolled back."""
        import asyncio

        self.cancel_all()
        tasks = [job._task for job in list(self._jobs) if job._task is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


async def dialog_finished(dialog: Any) -> int:
    """Wait, inside a coroutine, until an `open()`ed dialog is closed; its result code.
    (Never `exec()` a dialog from a coroutine: it would run a nested event loop.)"""
    import asyncio

    future: asyncio.Future[int] = asyncio.get_event_loop().create_future()

    def done(result: int) -> None:
        if not future.done():
            future.set_result(result)

    dialog.finished.connect(done)
    try:
        return await future
    finally:
        if not future.done() or future.cancelled():
            dialog.close()
