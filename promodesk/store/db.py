"""Opening workspace files and running write transactions on them."""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from promodesk.store.schema import APPLICATION_ID, WorkspaceFormatError, check_and_migrate

SQLITE_MAGIC = b"SQLite format 3\x00"

T = TypeVar("T")

# Writers wait this long for another writer (an import, the index builder) to finish a chunk.
BUSY_TIMEOUT_S = 60.0


def connect(
    path: Path, *, create: bool = False, readonly: bool = False, shared: bool = False
) -> sqlite3.Connection:
    """Open a workspace in autocommit mode (transactions are explicit, see `transaction`).

    `shared`: the connection may be used from several threads, one at a time (a job that
    hops between worker threads, awaiting each step)."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if not create:
            raise FileNotFoundError(f"{path}: no such workspace file") from None
    else:
        # A FIFO would block SQLite's first read forever; a folder or a device is no file.
        if not stat.S_ISREG(mode):
            raise WorkspaceFormatError("this is a folder or a special file, not a workspace file")
    # The header is not read with open(): on POSIX, closing any descriptor of a file drops
    # every lock this process holds on it, so another process would take our connections'
    # locks as gone and checkpoint or delete the WAL under them. SQLite reads it instead.
    if readonly:
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro",
            uri=True,
            isolation_level=None,
            timeout=BUSY_TIMEOUT_S,
            check_same_thread=not shared,
        )
    else:
        conn = sqlite3.connect(
            path, isolation_level=None, timeout=BUSY_TIMEOUT_S, check_same_thread=not shared
        )
    try:
        try:
            _configure(conn, readonly=readonly)
            if readonly:
                _check_identity(conn)
            else:
                check_and_migrate(conn, create=create)
        except sqlite3.DatabaseError as error:
            if "not a database" in str(error):  # SQLITE_NOTADB: the header is not SQLite's
                raise WorkspaceFormatError(
                    "the file is not a promodesk workspace (not a SQLite file)"
                ) from None
            raise
    except BaseException:
        conn.close()
        raise
    return conn


def _configure(conn: sqlite3.Connection, *, readonly: bool) -> None:
    if not readonly:
        # 8 KiB pages: about 10% faster bulk loads than the 4 KiB default. Only takes effect
        # on a new, empty file (before the schema is written).
        conn.execute("PRAGMA page_size = 8192")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":  # e.g. on a network share that cannot do WAL
            conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("PRAGMA synchronous = NORMAL")
    # Foreign keys are declared (they document the schema, and the tests run
    # foreign_key_check) but not enforced row by row: every reference is written by this
    # code, and per-row enforcement costs 10% of a million-row import.
    conn.execute("PRAGMA foreign_keys = OFF")
    # 64 MB of page cache: big imports and index builds stay inside the RSS budget.
    conn.execute("PRAGMA cache_size = -65536")


def _check_identity(conn: sqlite3.Connection) -> None:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    if app_id != APPLICATION_ID:
        raise WorkspaceFormatError("this SQLite database is not a promodesk workspace")


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: all of it lands, or (on any error or cancel) none of it.

    Nested inside another transaction it becomes a savepoint: an error undoes just the inner
    part and propagates, and the outer transaction decides what happens to the rest.
    """
    # After some errors (a full disk, an I/O error) SQLite has already rolled the whole
    # transaction back; rolling back again would fail and hide the error that matters.
    if conn.in_transaction:
        # SQLite resolves a reused savepoint name to the innermost one, so one name serves
        # any depth of nesting.
        name = "promodesk_nested"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
            raise
        conn.execute(f"RELEASE {name}")
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        # (inside: a COMMIT refused as busy, as in rollback-journal mode while another
        # connection reads, leaves the transaction open; a retry would nest in it)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def is_busy(error: BaseException) -> bool:
    """SQLite's "database is locked/busy": another connection holds the write lock longer
    than the busy timeout, or a read snapshot went stale under a writer."""
    return isinstance(error, sqlite3.OperationalError) and (
        "locked" in str(error) or "busy" in str(error)
    )


def retry_busy(
    work: Callable[[], T],
    *,
    attempts: int = 6,
    first_pause_s: float = 0.05,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `work` (a whole transaction: it must roll back on error), again after a growing
    pause while SQLite says the database is busy. The one place that retries busy errors."""
    pause = first_pause_s
    for attempt in range(attempts):
        try:
            return work()
        except sqlite3.OperationalError as error:
            if not is_busy(error) or attempt + 1 == attempts:
                raise
        sleep(pause)
        pause *= 2
    raise AssertionError("unreachable")  # pragma: no cover


def sql_text(text: str) -> str:
    """A string as an SQL literal, for values written into a statement (rather than bound)."""
    return "'" + text.replace("'", "''") + "'"


def is_sqlite_file(head: bytes) -> bool:
    return head.startswith(SQLITE_MAGIC)
