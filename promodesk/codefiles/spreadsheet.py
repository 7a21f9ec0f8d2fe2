"""Rows written for spreadsheets: CSV (files) and tab-separated text (the clipboard), with
values that a spreadsheet would run as formulas made inert; and code lists (one-column CSV
files without a header, as vendors take them), split in parts when over a vendor's cap.

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel,
LibreOffice and Google Sheets (`=HYPERLINK(...)`, `+cmd|' /C calc'!A0`, `@SUM(1+1)`), so a
promo code or a partner name taken from a vendor could run on the marketer's machine. Such a
cell is written with a leading `'`, which every spreadsheet shows as text and hides.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from promodesk.atomic import atomic_path, atomic_write, temp_path_for

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


def safe_cell_sql(expression: str) -> str:
    """`safe_cell` as an SQLite expression, so that rows read from the workspace come out
    safe without a Python call per cell. Text gets the `'`; numbers and NULL do not.

    Most cells start with a digit or a letter: two text comparisons (a memcmp each) rule them
    out before the exact test. Every formula start sorts below "0" or in ["=", "A"); numbers
    sort below any text, hence the typeof()."""
    firsts = ", ".join(
        "char(9)" if c == "\t" else "char(13)" if c == "\r" else f"'{c}'" for c in FORMULA_STARTS
    )
    x = expression
    return (
        f"CASE WHEN ({x} < '0' OR ({x} >= '=' AND {x} < 'A')) AND typeof({x}) = 'text' "
        f"AND substr({x}, 1, 1) IN ({firsts}) THEN '''' || {x} ELSE {x} END"
    )


def plain_cell(value: Any) -> str:
    if value is None:
        return ""
    return str(value)


def write_csv(
    target: Path,
    header: Sequence[str] | None,
    rows: Iterable[Sequence[Any]],
    *,
    spreadsheet_safe: bool = True,
    rows_are_safe: bool = False,
    bom: bool = False,
    on_rows: Callable[[int], None] | None = None,
    every: int = 10_000,
) -> int:
    """Write `rows` under `header` (None: no header row) to `target` atomically (a temporary
    file renamed at the end: never a half file under the final name). UTF-8, optionally with
    a BOM for Excel. Returns the rows written. `rows_are_safe`: the caller already made the
    cells safe (e.g. with `safe_cell_sql`), so they are written in C, a batch at a time.
    `on_rows(count)` is called every `every` rows; raising in it (a cancel) abandons the file
    and leaves `target` as it was."""
    written = 0
    with atomic_write(target, "w", encoding="utf-8", newline="") as handle:
        if bom:
            handle.write(UTF8_BOM)
        writer = csv.writer(handle, lineterminator="\r\n")
        if header is not None:
            writer.writerow(header)
        if spreadsheet_safe and not rows_are_safe:
            rows = ([safe_cell(value) for value in row] for row in rows)
        iterator = iter(rows)
        while batch := list(itertools.islice(iterator, every)):
            writer.writerows(batch)
            written += len(batch)
            if on_rows is not None and len(batch) == every:
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


def part_path(target: Path, number: int) -> Path:
    """`codes.csv` -> `codes-2.csv`: the name of part `number` of a split code list."""
    return target.with_name(f"{target.stem}-{number}{target.suffix}")


def write_code_list(
    target: Path,
    batches: Iterable[Sequence[str]],
    *,
    max_bytes: int | None = None,
    on_codes: Callable[[int], None] | None = None,
) -> list[tuple[Path, int]]:
    """Codes one per line (UTF-8, LF, no header, no BOM), as vendors take code files, written
    atomically. Callers pass codes that need no CSV quoting (the checker refuses separators,
    quotes and spaces; the generator's alphabets have none). When the list is over `max_bytes`
    it is split: `codes-1.csv`, `codes-2.csv`, ... instead of `codes.csv`; every part stays a
    temporary file until all are complete. Returns (file, codes) for each file written.
    `on_codes(count)` after each batch; raising in it (a cancel) leaves no file behind."""
    parts: list[tuple[Path, int]] = []  # (temporary file, codes)
    handle: Any = None
    size = 0
    written = 0

    def start_part() -> None:
        nonlocal handle, size
        if handle is not None:
            handle.close()
        temp = temp_path_for(target)
        handle = temp.open("wb")
        parts.append((temp, 0))
        size = 0

    def add(payload: bytes, count: int) -> None:
        nonlocal size
        handle.write(payload)
        size += len(payload)
        temp, before = parts[-1]
        parts[-1] = (temp, before + count)

    try:
        start_part()
        for batch in batches:
            if not batch:
                continue
            payload = ("\n".join(batch) + "\n").encode("utf-8")
            if max_bytes is None or size + len(payload) <= max_bytes:
                add(payload, len(batch))
            else:  # the cap falls in this batch: code by code
                for code in batch:
                    line = (code + "\n").encode("utf-8")
                    if size + len(line) > max_bytes and size > 0:
                        start_part()
                    add(line, 1)
            written += len(batch)
            if on_codes is not None:
                on_codes(written)
        handle.close()
        names = (
            [target]
            if len(parts) == 1
            else [part_path(target, n) for n in range(1, len(parts) + 1)]
        )
        done: list[tuple[Path, int]] = []
        for (temp, count), name in zip(parts, names, strict=True):
            with atomic_path(name) as final_temp:  # synced, then renamed
                os.replace(temp, final_temp)
            done.append((name, count))
        return done
    finally:
        if handle is not None:
            handle.close()
        for temp, _ in parts:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
