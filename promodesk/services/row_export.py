"""Copying and exporting table rows, any number of them, off the GUI thread.

The rows come from the workspace in SQL (`store.query.stream_rows`), a chunk at a time, on a
connection of the job's own: a million rows never become a million Python objects at once, the
window's reader stays free for scrolling, and Cancel interrupts even a long statement. Every cell
that reaches a spreadsheet goes through the spreadsheet-safe rule (`codefiles.spreadsheet`).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from promodesk.codefiles.spreadsheet import safe_cell_sql, to_clipboard_text, write_csv
from promodesk.domain.jobs import CancelToken, JobCancelled, Progress, ProgressFn, ignore_progress
from promodesk.store.db import connect
from promodesk.store.query import Row, RowSet, stream_rows
from promodesk.store.tables import Column

# What the clipboard takes: past this a paste makes spreadsheets crawl (and Excel stops at
# 1,048,576 rows anyway); bigger selections are offered as an export instead.
CLIPBOARD_MAX_ROWS = 100_000
CHUNK_ROWS = 2_000  # rows per fetch: the GIL is held while a fetch builds its tuples


def header_label(column: Column) -> str:
    """Exports carry stored values: dates are ISO 8601 in UTC, and the header says so."""
    return f"{column.label} (UTC)" if column.kind == "datetime" else column.label


@contextlib.contextmanager
def _reading(workspace: Path, token: CancelToken) -> Iterator[sqlite3.Connection]:
    """A read-only connection of this job's own; Cancel interrupts its running statement."""
    conn = connect(workspace, readonly=True)
    unregister = token.on_cancel(conn.interrupt)
    try:
        yield conn
    except sqlite3.OperationalError as error:
        if token.cancelled and "interrupt" in str(error):
            raise JobCancelled() from None
        raise
    finally:
        unregister()
        conn.close()


def _chunks(
    conn: sqlite3.Connection,
    rows: RowSet,
    select: Sequence[str],
    token: CancelToken,
    progress: ProgressFn,
    message: str,
) -> Iterator[list[Row]]:
    done = 0
    for chunk in stream_rows(conn, rows.query, rows.positions(), select=select, chunk=CHUNK_ROWS):
        token.raise_if_cancelled()
        yield chunk
        done += len(chunk)
        progress(Progress(done, rows.count, message))


def export_csv(
    workspace: Path,
    rows: RowSet,
    columns: Sequence[Column],
    target: Path,
    *,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> int:
    """Write `rows` to `target` as CSV (UTF-8 with a BOM, so Excel reads accents right).
    Atomic: a cancel or a failure leaves `target` as it was. Returns the rows written."""
    token = cancel or CancelToken()
    select = [safe_cell_sql(column.name) for column in columns]  # made safe in SQL
    message = f"Exporting to {Path(target).name}"
    with _reading(workspace, token) as conn:

        def flat() -> Iterator[Row]:
            for chunk in _chunks(conn, rows, select, token, progress, message):
                yield from chunk

        return write_csv(
            target,
            [header_label(column) for column in columns],
            flat(),
            rows_are_safe=True,
            bom=True,
            on_rows=lambda _count: token.raise_if_cancelled(),
        )


def clipboard_text(
    workspace: Path,
    rows: RowSet,
    columns: Sequence[Column],
    cell: Callable[[Column, Any], Any],
    *,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> tuple[str, int]:
    """Tab-separated text of `rows` with a header, each value shown by `cell` (what the table
    shows), formulas made inert. At most CLIPBOARD_MAX_ROWS rows: the caller offers an export
    for more. Returns the text and the number of rows in it."""
    if rows.count > CLIPBOARD_MAX_ROWS:
        raise ValueError(f"the clipboard takes at most {CLIPBOARD_MAX_ROWS:,} rows")
    token = cancel or CancelToken()
    select = [column.name for column in columns]
    lines: list[list[Any]] = []
    with _reading(workspace, token) as conn:
        for chunk in _chunks(conn, rows, select, token, progress, "Copying rows"):
            lines += [
                [cell(column, value) for column, value in zip(columns, row, strict=True)]
                for row in chunk
            ]
    token.raise_if_cancelled()
    return to_clipboard_text([column.label for column in columns], lines), len(lines)
