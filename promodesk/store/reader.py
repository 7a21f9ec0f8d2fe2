"""Reads for the UI, off its thread: one worker thread with its own read-only connection.

Table models hand it jobs (count, fetch a page) and get a concurrent.futures.Future back.
Jobs run one after another, in order. A job for a query the user has already replaced can be
stopped mid-statement with `interrupt()`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from promodesk.store.db import connect

T = TypeVar("T")


class StoreReader:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-reader")
        self._conn: sqlite3.Connection | None = None
        self._closed = False

    def submit(self, job: Callable[[sqlite3.Connection], T]) -> Future[T]:
        if self._closed:
            raise RuntimeError("the workspace reader is closed")
        return self._executor.submit(self._run, job)

    def _run(self, job: Callable[[sqlite3.Connection], T]) -> T:
        if self._conn is None:
            self._conn = connect(self.path, readonly=True)
        return job(self._conn)

    def interrupt(self) -> None:
        """Abort the statement running now (its job's future gets an OperationalError)."""
        conn = self._conn
        if conn is not None:
            conn.interrupt()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.interrupt()

        def close_connection() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        self._executor.submit(close_connection)
        self._executor.shutdown(wait=True, cancel_futures=True)
