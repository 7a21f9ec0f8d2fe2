"""Rows written for spreadsheets: CSV (files) and tab-separated text (the clipboard), with
values that a spreadsheet would run as formulas made inert.

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel,
LibreOffice and Google Sheets (`=HYPERLINK(...)`, `+cmd|' /C calc'!A0`, `@SUM(1+1)`), so a
promo code or a partner name taken from a vendor could run on the marketer's machine. Such a
cell is written with a leading `'`, which every spreadsheet shows as text and hides.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from promodesk.atomic import atomic_write

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
UTF8_BOM = "\ufeff"


def safe_cell(value: Any) -> str:
    """Text for one cell, never a live formula. Numbers stay numbers (-5 is not a formula)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def safe_sql(expression: str) -> str:
    """The SQLite form of `safe_cell` for one column or expression. Big exports make their
    cells safe inside the query, in C, instead of calling `safe_cell` ten million times. Text
    starting like a formula gets the leading `'`; numbers and NULL pass through (the CSV writer
    writes NULL as an empty cell). A unit test holds the two to the same answers."""
    starts = ", ".join(
        f"char({ord(start)})" if not start.isprintable() else f"'{start}'"
        for start in FORMULA_STARTS
    )
    return (
        f"CASE WHEN typeof({expression}) = 'text' AND substr({expression}, 1, 1) IN ({starts})"
        f" THEN '''' || {expression} ELSE {expression} END"
    )


def plain_cell(value: Any) -> str:
    if value is None:
        return ""
    return str(value)


def write_csv(
    target: Path,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    spreadsheet_safe: bool = True,
    bom: bool = False,
    on_rows: Callable[[int], None] | None = None,
    every: int = 10_000,
) -> int:
    """Write `rows` under `header` to `target` atomically (a temporary file renamed at the end:
    never a half file under the final name). UTF-8, optionally with a BOM for Excel. Returns
    the rows written. `on_rows(count)` is called every `every` rows; raising in it (a cancel)
    abandons the file and leaves `target` as it was."""
    cell = safe_cell if spreadsheet_safe else plain_cell

    def chunks() -> Iterator[list[list[str]]]:
        chunk: list[list[str]] = []
        for row in rows:
            chunk.append([cell(value) for value in row])
            if len(chunk) == every:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    return write_csv_chunks(target, header, chunks(), bom=bom, on_rows=on_rows)


def write_csv_chunks(
    target: Path,
    header: Sequence[str],
    chunks: Iterable[Sequence[Sequence[Any]]],
    *,
    bom: bool = False,
    on_rows: Callable[[int], None] | None = None,
) -> int:
    """`write_csv` for rows whose cells are already safe (see `safe_sql`), a chunk at a time
    with no Python per cell: a million-row export costs little more than csv.writer itself.
    None is written as an empty cell. `on_rows(count)` after each chunk, as in write_csv."""
    written = 0
    with atomic_write(target, "w", encoding="utf-8", newline="") as handle:
        if bom:
            handle.write(UTF8_BOM)
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        for chunk in chunks:
            writer.writerows(chunk)
            written += len(chunk)
            if on_rows is not None:
                on_rows(written)
        if on_rows is not None:
            on_rows(written)  # inside the block: a cancel now still abandons the file
    return written


def to_clipboard_text(
    header: Sequence[str], rows: Iterable[Sequence[Any]], *, spreadsheet_safe: bool = True
) -> str:
    """Tab-separated rows with a header, as spreadsheets paste them. Cells that hold a tab or a
    line break are quoted, CSV style, so a pasted row stays one row."""
    cell = safe_cell if spreadsheet_safe else plain_cell
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return out.getvalue()
