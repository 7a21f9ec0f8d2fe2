"""A read-only connection for one job: a cancel interrupts its running statement."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from promodesk.domain.jobs import CancelToken, JobCancelled
from promodesk.store.db import connect


@contextlib.contextmanager
def reading(
    workspace: Path, token: CancelToken, *, cache_kib: int = 8192
) -> Iterator[sqlite3.Connection]:
    """A read-only connection whose running statement a cancel interrupts (then
    JobCancelled). Reads that stream through tables once keep a small page cache."""
    conn = connect(workspace, readonly=True)
    conn.execute(f"PRAGMA cache_size = -{int(cache_kib)}")
    unregister = token.on_cancel(conn.interrupt)
    try:
        yield conn
    except sqlite3.OperationalError:
        if token.cancelled:
            raise JobCancelled() from None
        raise
    finally:
        unregister()
        conn.close()
