"""Optimove files: the allocation export (nine-column CSV) and unique-code files (one code per
line, no header)."""

from __future__ import annotations

import csv
import io
import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, NoReturn

from promodesk.domain.records import ALLOCATION_COLUMNS
from promodesk.domain.text import file_label
from promodesk.domain.values import canonical_utc
from promodesk.domain.vendors import Vendor
from promodesk.store.bulk import bulk_load, worth_bulk_loading
from promodesk.store.code_keys import (
    needs_python_sql,
    python_match_key_sql,
    register_key_functions,
)
from promodesk.store.importers.base import (
    ImportFileError,
    ImportHints,
    ImportResult,
    ImportTarget,
    SourceFile,
    checked_reader,
    open_regular,
)
from promodesk.store.importers.detect import Detected, check_allocation_header
from promodesk.store.importers.limits import TextLineLimits
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
_NOT_EMPTY = {"customer_id", "promocode_id", "promotion_id", "unique_code"}
# The minutes, seconds and "Z" of canonical UTC text ("2026-09-01T10" + ":07:30Z").
_CANONICAL_TAILS = frozenset(
    f":{minute:02d}:{second:02d}Z" for minute in range(60) for second in range(60)
)
_MAX_CODE = Vendor.OPTIMOVE.max_code_length
# Bytes per row in a typical export, to estimate a file's rows before reading it.
_BYTES_PER_ROW = 90
_BYTES_PER_CODE = 12


def _stored_value(column: str, number: int) -> str:
    """The SQL that stores CSV cell `?number` in `column`, checked on the way in (in C, per
    row): a required value that is empty becomes NULL, which NOT NULL refuses. Timestamps
    arrive already checked and in canonical form (see _CheckedRows)."""
    cell = f"?{number}"
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
    """Rows go from csv.reader straight into SQLite: the bytes pass TextLineLimits, each row
    is checked, its timestamp made canonical and counted by promocode and file on the way
    (_CheckedRows), and empty values are refused by the INSERT itself. When SQLite refuses a
    row, the file is read again in Python to name the exact line; the whole import then rolls
    back. A date that becomes equal to a row already there (the same allocation, written
    differently) is kept once, as the dedupe key says."""
    account_id = target.account_id
    existing = conn.execute("SELECT count(*) FROM optimove_allocations").fetchone()[0]
    last_id = conn.execute("SELECT coalesce(max(id), 0) FROM optimove_allocations").fetchone()[0]
    bulk = worth_bulk_loading(conn, OPTIMOVE_ALLOCATIONS, source.size // _BYTES_PER_ROW)
    limits = TextLineLimits(
        source.path, encoding=detected.encoding, allow_tab=detected.delimiter == "\t"
    )
    with source.fast_text(detected.encoding, limits) as text:
        reader = csv.reader(text, delimiter=detected.delimiter, strict=True)
        header = [cell.strip() for cell in next(reader)]
        check_allocation_header(source.path, header)
        by_lower = {name.lower(): name for name in ALLOCATION_COLUMNS}
        in_file_order = [_STORED[by_lower[name.lower()]] for name in header]
        values = ", ".join(
            _stored_value(column, number) for number, column in enumerate(in_file_order, 1)
        )
        checked = _CheckedRows(source, reader, in_file_order)
        with bulk_load(
            conn, OPTIMOVE_ALLOCATIONS, enabled=bulk, run_id=target.run_id
        ) as on_conflict:
            try:
                conn.executemany(
                    "INSERT INTO optimove_allocations(account_id, added_run, "
                    f"{', '.join(in_file_order)}) "
                    f"VALUES ({int(account_id)}, {int(target.run_id)}, {values}){on_conflict}",
                    checked.rows(),
                )
            # A row with the wrong number of columns, or an empty value.
            except (sqlite3.ProgrammingError, sqlite3.IntegrityError, IndexError):
                raise _locate_bad_row(source, detected, header) from None
            except csv.Error as error:
                raise ImportFileError(
                    source.path, f"broken CSV: {error}", line=reader.line_num
                ) from None
            if reader.line_num != 1 + checked.rows_seen:  # a quoted value held a line break
                raise _locate_bad_row(source, detected, header)
    if limits.non_ascii:
        _store_python_keys(conn, last_id)
    tally = checked.tally
    result.rows_read = sum(tally.values())
    result.rows_added = (
        conn.execute("SELECT count(*) FROM optimove_allocations").fetchone()[0] - existing
    )
    if result.rows_added == result.rows_read:
        groups = tally_groups(tally)
    else:  # some rows were already there: count what was actually added
        groups = tally_new_allocations(conn, account_id, last_id)
    add_allocation_counts(conn, account_id, groups, run_id=target.run_id)


def _store_python_keys(conn: sqlite3.Connection, last_id: int) -> None:
    """The match keys of the new rows whose codes only Python keys (schema version 4): a pass
    over them that only a file with a non-ASCII character needs."""
    register_key_functions(conn)
    conn.execute(
        f"UPDATE optimove_allocations SET code_key = {python_match_key_sql('unique_code')} "
        f"WHERE id > ? AND {needs_python_sql('unique_code')}",
        (int(last_id),),
    )


class _CheckedRows:
    """The rows of an allocation export on their way to executemany: blank lines skipped,
    each row counted by promocode and file (~0.4 s per million rows, against ~0.8 s for a
    grouped pass over them once stored: it sorts them), its code's length checked, and its
    timestamp checked and made canonical.

    A canonical timestamp is checked by its hour ("2026-09-01T10", kept once seen valid) and
    its minutes and seconds (one of 3,600 tails): two set lookups per row, cheaper than the
    SQLite GLOB they replace. Anything else goes through the one date parser, which refuses
    "now", Julian day numbers, impossible dates and years outside 1 to 9999.
    """

    def __init__(self, source: SourceFile, reader: Any, columns: list[str]) -> None:
        self.source = source
        self.reader = reader
        self.tally: defaultdict[tuple[str, str, str], int] = defaultdict(int)
        self.rows_seen = 0  # rows and blank lines, once all are read
        self._at = {name: columns.index(name) for name in columns}
        self._valid_hours: set[str] = set()

    def rows(self) -> Iterator[list[str]]:
        tally, valid_hours, tails = self.tally, self._valid_hours, _CANONICAL_TAILS
        promocode_at, file_at, promotion_at, stamp_at, code_at = (
            self._at[name]
            for name in ("promocode_id", "file_id", "promotion_id", "allocated_at", "unique_code")
        )
        blank = 0
        for row in self.reader:
            if not row:
                blank += 1
                continue
            stamp = row[stamp_at]
            if stamp[13:] not in tails or stamp[:13] not in valid_hours:
                row[stamp_at] = self._canonical(stamp)
            if len(row[code_at]) > _MAX_CODE:
                self._refuse(
                    f"the code is {len(row[code_at]):,} characters long; Optimove codes have "
                    f"at most {_MAX_CODE}"
                )
            tally[row[promocode_at], row[file_at], row[promotion_at]] += 1
            yield row
        self.rows_seen = sum(tally.values()) + blank

    def _canonical(self, stamp: str) -> str:
        if not stamp:
            self._refuse("timestamp is empty")
        try:
            canonical = canonical_utc(stamp)
        except ValueError as error:
            self._refuse(f"timestamp: {error}")
        if canonical == stamp:
            self._valid_hours.add(stamp[:13])
        return canonical

    def _refuse(self, problem: str) -> NoReturn:
        raise ImportFileError(self.source.path, problem, line=self.reader.line_num)


def _locate_bad_row(source: SourceFile, detected: Detected, header: list[str]) -> ImportFileError:
    """Read the file again to find the first row the import refused, and say why."""
    lowered = [name.lower() for name in header]
    required = [(lowered.index(name.lower()), name) for name in _REQUIRED]
    limits = TextLineLimits(
        source.path, encoding=detected.encoding, allow_tab=detected.delimiter == "\t"
    )
    with open_regular(source.path) as raw:
        handle = io.TextIOWrapper(
            checked_reader(raw, limits), encoding=detected.encoding, newline=""
        )
        reader = csv.reader(handle, delimiter=detected.delimiter)
        next(reader)
        last_line = reader.line_num
        for row in reader:
            problem = ""
            if reader.line_num > last_line + 1:
                problem = "a value holds a line break (inside quotes); codes and ids cannot"
            elif row and len(row) != len(header):
                problem = f"expected {len(header)} columns, found {len(row)}"
            elif row:
                problem = next((f"{name} is empty" for at, name in required if not row[at]), "")
            if problem:
                return ImportFileError(source.path, problem, line=reader.line_num)
            last_line = reader.line_num
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
    limits = TextLineLimits(source.path, encoding=detected.encoding, allow_tab=True)
    file_id = "local-" + file_sha256(source.path, limits)[:16]
    limits = TextLineLimits(source.path, encoding=detected.encoding, allow_tab=True)
    text = io.TextIOWrapper(source.buffered(limits), encoding=detected.encoding, newline=None)
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
            if len(code) > _MAX_CODE:
                raise ImportFileError(
                    source.path,
                    f"a code {len(code):,} characters long; Optimove codes have at most "
                    f"{_MAX_CODE}",
                    line=number,
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
    with bulk_load(conn, OPTIMOVE_POOL_CODES, enabled=bulk, run_id=target.run_id) as on_conflict:
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
        [
            optimove_code_file_row(
                file_id=file_id, file_name=file_label(source.path), code_count=after
            )
        ],
        run_id=target.run_id,
        as_of=source.as_of(),
    )
