"""Optimove files: the allocation export (nine-column CSV) and unique-code files (one code per
line, no header)."""

from __future__ import annotations

import csv
import io
import sqlite3
from collections import defaultdict
from collections.abc import Iterator

from promodesk.domain.records import ALLOCATION_COLUMNS
from promodesk.domain.values import is_canonical_utc
from promodesk.store.bulk import bulk_load, worth_bulk_loading
from promodesk.store.importers.base import (
    ImportFileError,
    ImportHints,
    ImportResult,
    ImportTarget,
    SourceFile,
)
from promodesk.store.importers.detect import Detected, check_allocation_header
from promodesk.store.importers.streams import file_sha256
from promodesk.store.records import optimove_code_file_row
from promodesk.store.rollups import add_allocation_counts, tally_groups, tally_new_allocations
from promodesk.store.tables import OPTIMOVE_ALLOCATIONS, OPTIMOVE_POOL_CODES
from promodesk.store.writes import OPTIMOVE_CODE_FILES, upsert

# Stored column for each export column.
_STORED = {
    "customerId": "customer_id",
    "promocodeId": "promocode_id",
    "promotionId": "promotion_id",
    "fileId": "file_id",
    "uniqueCode": "unique_code",
    "timestamp": "allocated_at",
    "occurenceId": "occurence_id",
    "seriesId": "series_id",
    "actionId": "action_id",
}
_REQUIRED = ("customerId", "promocodeId", "promotionId", "uniqueCode", "timestamp")
_TO_CANONICAL = "strftime('%Y-%m-%dT%H:%M:%SZ', {})"
# Canonical UTC text (2026-09-01T10:00:00Z) as a SQLite GLOB.
_CANONICAL_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z"
_NOT_EMPTY = {"customer_id", "promocode_id", "promotion_id", "unique_code"}
# Bytes per row in a typical export, to estimate a file's rows before reading it.
_BYTES_PER_ROW = 90
_BYTES_PER_CODE = 12


def _stored_value(column: str, number: int) -> str:
    """The SQL that stores CSV cell `?number` in `column`, checked on the way in (in C, per
    row): a required value that is empty becomes NULL, which NOT NULL refuses; a date not
    in canonical UTC (an offset, no seconds...) is converted, and is NULL if it is no date."""
    cell = f"?{number}"
    if column == "allocated_at":
        return (
            f"CASE WHEN {cell} GLOB '{_CANONICAL_GLOB}' THEN {cell} "
            f"ELSE {_TO_CANONICAL.format(cell)} END"
        )
    if column in _NOT_EMPTY:
        return f"nullif({cell}, '')"
    return cell


def import_allocations(
    conn: sqlite3.Connection,
    source: SourceFile,
    detected: Detected,
    _: ImportHints,
    target: ImportTarget,
    result: ImportResult,
) -> None:
    """Rows go from csv.reader straight into SQLite, checked and normalised by the INSERT
    itself, and counted by promocode and file on the way. Only when a row is refused is the
    file read again, in Python, to name the exact line; the whole import then rolls back.
    A date that becomes equal to a row already there (the same allocation, written
    differently) is kept once, as the dedupe key says."""
    account_id = target.account_id
    existing = conn.execute("SELECT count(*) FROM optimove_allocations").fetchone()[0]
    last_id = conn.execute("SELECT coalesce(max(id), 0) FROM optimove_allocations").fetchone()[0]
    bulk = worth_bulk_loading(conn, OPTIMOVE_ALLOCATIONS, source.size // _BYTES_PER_ROW)
    with source.fast_text(detected.encoding) as text:
        reader = csv.reader(text, delimiter=detected.delimiter, strict=True)
        header = [cell.strip() for cell in next(reader)]
        check_allocation_header(source.path, header)
        by_lower = {name.lower(): name for name in ALLOCATION_COLUMNS}
        in_file_order = [_STORED[by_lower[name.lower()]] for name in header]
        values = ", ".join(
            _stored_value(column, number) for number, column in enumerate(in_file_order, 1)
        )
        tally: defaultdict[tuple[str, str, str], int] = defaultdict(int)
        rows = _tallied(
            filter(None, reader),  # skips blank lines, in C
            tally,
            *(in_file_order.index(name) for name in ("promocode_id", "file_id", "promotion_id")),
        )
        with bulk_load(conn, OPTIMOVE_ALLOCATIONS, enabled=bulk) as on_conflict:
            try:
                conn.executemany(
                    "INSERT INTO optimove_allocations(account_id, added_run, "
                    f"{', '.join(in_file_order)}) "
                    f"VALUES ({int(account_id)}, {int(target.run_id)}, {values}){on_conflict}",
                    rows,
                )
            # A row with the wrong number of columns; an empty value or a date that is none.
            except (sqlite3.ProgrammingError, sqlite3.IntegrityError, IndexError):
                raise _locate_bad_row(source, detected, header) from None
            except csv.Error as error:
                raise ImportFileError(
                    source.path, f"broken CSV: {error}", line=reader.line_num
                ) from None
    result.rows_read = sum(tally.values())
    result.rows_added = (
        conn.execute("SELECT count(*) FROM optimove_allocations").fetchone()[0] - existing
    )
    if result.rows_added == result.rows_read:
        groups = tally_groups(tally)
    else:  # some rows were already there: count what was actually added
        groups = tally_new_allocations(conn, account_id, last_id)
    add_allocation_counts(conn, account_id, groups, run_id=target.run_id)


def _tallied(
    rows: Iterator[list[str]],
    tally: defaultdict[tuple[str, str, str], int],
    promocode_at: int,
    file_at: int,
    promotion_at: int,
) -> Iterator[list[str]]:
    """Counts rows as they stream past: ~0.4 s per million rows, against ~0.8 s for a
    grouped pass over them once stored (it sorts them)."""
    for row in rows:
        tally[row[promocode_at], row[file_at], row[promotion_at]] += 1
        yield row


def _locate_bad_row(source: SourceFile, detected: Detected, header: list[str]) -> ImportFileError:
    """Read the file again to find the first row the import refused, and say why."""
    lowered = [name.lower() for name in header]
    required = [(lowered.index(name.lower()), name) for name in _REQUIRED]
    stamp_at = lowered.index("timestamp")
    checker = sqlite3.connect(":memory:")
    with source.path.open(encoding=detected.encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=detected.delimiter)
        next(reader)
        for row in reader:
            if not row:
                continue
            problem = ""
            if len(row) != len(header):
                problem = f"expected {len(header)} columns, found {len(row)}"
            else:
                for at, name in required:
                    if not row[at]:
                        problem = f"{name} is empty"
                        break
                else:
                    value = row[stamp_at]
                    if (
                        not is_canonical_utc(value)
                        and checker.execute(
                            f"SELECT {_TO_CANONICAL.format('?')}", (value,)
                        ).fetchone()[0]
                        is None
                    ):
                        problem = f"timestamp: not an ISO 8601 date: {value[:40]!r}"
            if problem:
                checker.close()
                return ImportFileError(source.path, problem, line=reader.line_num)
    checker.close()
    return ImportFileError(source.path, "a row could not be read")


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
    target: ImportTarget,
    result: ImportResult,
) -> None:
    account_id = target.account_id
    # The pool is identified by content, so the same file under another name is the same pool.
    file_id = "local-" + file_sha256(source.path)[:16]
    text = io.TextIOWrapper(source.buffered(), encoding=detected.encoding, newline=None)
    counter = [0]
    trimmed = [0]

    def codes() -> Iterator[tuple[int, int, str, str]]:
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
            yield (account_id, target.run_id, file_id, code)

    before = conn.execute(
        "SELECT count(*) FROM optimove_pool_codes WHERE account_id = ? AND file_id = ?",
        (account_id, file_id),
    ).fetchone()[0]
    bulk = worth_bulk_loading(conn, OPTIMOVE_POOL_CODES, source.size // _BYTES_PER_CODE)
    with bulk_load(conn, OPTIMOVE_POOL_CODES, enabled=bulk) as on_conflict:
        conn.executemany(
            "INSERT INTO optimove_pool_codes(account_id, added_run, file_id, code) "
            "VALUES (?, ?, ?, ?)" + on_conflict,
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
    # A local file (not uploaded to any promocode yet): its name and how many codes it holds.
    upsert(
        conn,
        OPTIMOVE_CODE_FILES,
        account_id,
        [optimove_code_file_row(file_id=file_id, file_name=source.path.name, code_count=after)],
        run_id=target.run_id,
        as_of=source.as_of(),
    )
