"""Optimove files: the allocation export (nine-column CSV) and unique-code files (one code per
line, no header)."""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterator

from promodesk.domain.records import ALLOCATION_COLUMNS
from promodesk.domain.values import is_canonical_utc, to_utc_text
from promodesk.domain.vendors import Vendor
from promodesk.store.bulk import bulk_load, worth_bulk_loading
from promodesk.store.importers.base import (
    ImportFileError,
    ImportHints,
    ImportResult,
    SourceFile,
    imported_account,
)
from promodesk.store.importers.detect import Detected, check_allocation_header
from promodesk.store.importers.streams import file_sha256
from promodesk.store.rollups import refresh_optimove
from promodesk.store.tables import OPTIMOVE_ALLOCATIONS, OPTIMOVE_POOL_CODES

# Columns that must not be empty, by position in ALLOCATION_COLUMNS.
_REQUIRED = (0, 1, 2, 4, 5)
_TIMESTAMP = ALLOCATION_COLUMNS.index("timestamp")
# Bytes per row in a typical export, to estimate a file's rows before reading it.
_BYTES_PER_ROW = 90
_BYTES_PER_CODE = 12


def import_allocations(
    conn: sqlite3.Connection,
    source: SourceFile,
    detected: Detected,
    _: ImportHints,
    result: ImportResult,
) -> None:
    account_id = imported_account(conn, Vendor.OPTIMOVE)
    text = io.TextIOWrapper(source.buffered(), encoding=detected.encoding, newline="")
    reader = csv.reader(text, delimiter=detected.delimiter, strict=True)
    header = [cell.strip() for cell in next(reader)]
    check_allocation_header(source.path, header)
    positions = [
        [name.lower() for name in header].index(name.lower()) for name in ALLOCATION_COLUMNS
    ]
    in_order = positions == list(range(len(ALLOCATION_COLUMNS)))

    existing = conn.execute("SELECT count(*) FROM optimove_allocations").fetchone()[0]
    bulk = worth_bulk_loading(conn, OPTIMOVE_ALLOCATIONS, source.size // _BYTES_PER_ROW)

    counter = [0]

    def rows() -> Iterator[list[str]]:
        width = len(ALLOCATION_COLUMNS)
        try:
            for row in reader:
                if len(row) != width:
                    if not row or row == [""]:
                        continue  # blank line (trailing newline, Excel's extra row)
                    raise ImportFileError(
                        source.path,
                        f"expected {width} columns, found {len(row)}",
                        line=reader.line_num,
                    )
                if not in_order:
                    row = [row[p] for p in positions]
                for index in _REQUIRED:
                    if not row[index]:
                        raise ImportFileError(
                            source.path,
                            f"{ALLOCATION_COLUMNS[index]} is empty",
                            line=reader.line_num,
                        )
                stamp = row[_TIMESTAMP]
                if not is_canonical_utc(stamp):
                    try:
                        row[_TIMESTAMP] = to_utc_text(stamp)
                    except ValueError as error:
                        raise ImportFileError(
                            source.path, f"timestamp: {error}", line=reader.line_num
                        ) from None
                counter[0] += 1
                yield row
        except csv.Error as error:
            raise ImportFileError(
                source.path, f"broken CSV: {error}", line=reader.line_num
            ) from None

    with bulk_load(conn, OPTIMOVE_ALLOCATIONS, enabled=bulk) as verb:
        conn.executemany(
            f"{verb} INTO optimove_allocations(account_id, customer_id, promocode_id, "
            "promotion_id, file_id, unique_code, allocated_at, occurence_id, series_id, action_id) "
            f"VALUES ({int(account_id)}, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows(),
        )
    result.rows_read = counter[0]
    result.rows_added = (
        conn.execute("SELECT count(*) FROM optimove_allocations").fetchone()[0] - existing
    )
    refresh_optimove(conn, account_id)


_HEADER_WORDS = {
    "code",
    "codes",
    "promocode",
    "promo_code",
    "promo code",
    "uniquecode",
    "unique_code",
}


def import_unique_codes(
    conn: sqlite3.Connection,
    source: SourceFile,
    detected: Detected,
    _: ImportHints,
    result: ImportResult,
) -> None:
    account_id = imported_account(conn, Vendor.OPTIMOVE)
    # The pool is identified by content, so the same file under another name is the same pool.
    file_id = "local-" + file_sha256(source.path)[:16]
    text = io.TextIOWrapper(source.buffered(), encoding=detected.encoding, newline=None)
    counter = [0]
    trimmed = [0]

    def codes() -> Iterator[tuple[int, str, str]]:
        for number, raw in enumerate(text, start=1):
            code = raw.strip()
            if not code:
                continue
            if number == 1 and code.lower() in _HEADER_WORDS:
                result.warnings.append(
                    f"line 1 ({code!r}) looks like a header and was skipped: unique-code files "
                    "have no header"
                )
                continue
            if any(separator in code for separator in (",", ";", "\t")):
                raise ImportFileError(
                    source.path,
                    "more than one column: a unique-code file has one code per line",
                    line=number,
                )
            if any(character.isspace() for character in code):
                raise ImportFileError(
                    source.path, f"{code[:40]!r} contains a space: one code per line", line=number
                )
            if not code.isprintable():
                raise ImportFileError(
                    source.path, f"{code[:40]!r} contains control characters", line=number
                )
            if code != raw.rstrip("\r\n"):
                trimmed[0] += 1
            counter[0] += 1
            yield (account_id, file_id, code)

    before = conn.execute(
        "SELECT count(*) FROM optimove_pool_codes WHERE account_id = ? AND file_id = ?",
        (account_id, file_id),
    ).fetchone()[0]
    bulk = worth_bulk_loading(conn, OPTIMOVE_POOL_CODES, source.size // _BYTES_PER_CODE)
    with bulk_load(conn, OPTIMOVE_POOL_CODES, enabled=bulk) as verb:
        conn.executemany(
            f"{verb} INTO optimove_pool_codes(account_id, file_id, code) VALUES (?, ?, ?)",
            codes(),
        )
    after = conn.execute(
        "SELECT count(*) FROM optimove_pool_codes WHERE account_id = ? AND file_id = ?",
        (account_id, file_id),
    ).fetchone()[0]
    result.rows_read = counter[0]
    result.rows_added = after - before
    duplicates = counter[0] - (after - before) if before == 0 else 0
    if duplicates:
        result.warnings.append(f"{duplicates:,} duplicate code(s) in the file were counted once")
    if trimmed[0]:
        result.warnings.append(f"{trimmed[0]:,} code(s) had spaces around them, which were removed")
    conn.execute(
        "INSERT INTO optimove_code_files(account_id, file_id, file_name, code_count, as_of) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT(account_id, file_id) DO UPDATE SET "
        "file_name = excluded.file_name, code_count = excluded.code_count",
        (account_id, file_id, source.path.name, after, source.as_of()),
    )
    refresh_optimove(conn, account_id)
