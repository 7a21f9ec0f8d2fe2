"""Redemptions from the user's own shop or CRM: a CSV export, mapped once, imported again.

No two shops export alike, so the first file of a source needs a *mapping*: which column holds
the code, and (optionally) the customer and the time of the redemption, and which time zone
times without an offset are in. It is saved with the source's name and the file's header, so
the next export (same header) needs no mapping at all.

Like every importer: one transaction, all or nothing; a bad row stops the import with the
file, the line and the problem in words; the same redemption imported twice is one row; the
import is a run, listed in the import history and removable with its rows. Codes are stored
with their match key (`domain.codes.match_key`: case, whitespace and invisible characters do
not count), customers likewise, times as canonical UTC (`domain.values.parse_instant`).
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from promodesk.domain.codes import match_key
from promodesk.domain.dates import zone_named, zone_problem
from promodesk.domain.jobs import CancelToken, JobCancelled, ProgressFn, ignore_progress
from promodesk.domain.values import CANONICAL_FORMAT, now_utc_text, parse_instant
from promodesk.store.db import transaction
from promodesk.store.importers.base import (
    ImportFileError,
    ImportKind,
    ImportResult,
    SourceFile,
    open_regular,
    record_import,
)
from promodesk.store.importers.detect import locate_bad_bytes
from promodesk.store.importers.limits import TextLineLimits
from promodesk.store.runs import start_run
from promodesk.store.shares import forget_shared, sharing_conflicts

_SNIFF_BYTES = 64 * 1024
_BATCH = 20_000
# Words shops and CRMs use for the columns a mapping needs (compared without case, spaces,
# '_' or '-'), for the suggestion shown when a file has no mapping yet.
_CODE_WORDS = (
    "code",
    "promocode",
    "couponcode",
    "coupon",
    "discountcode",
    "vouchercode",
    "voucher",
)
_CUSTOMER_WORDS = ("customerid", "customer", "clientid", "userid", "email", "customeremail")
_TIME_WORDS = (
    "redeemedat",
    "redemptiondate",
    "usedat",
    "createdat",
    "orderdate",
    "date",
    "time",
    "timestamp",
)
_NOISE = re.compile(r"[\s_\-.]")


@dataclass(frozen=True)
class RedemptionMapping:
    """Which columns (by their header text) hold what."""

    code_column: str
    customer_column: str = ""
    time_column: str = ""
    time_zone: str = "UTC"  # for times written without an offset

    def problems(self, header: Sequence[str]) -> list[str]:
        known = {name.strip().lower() for name in header}
        found = []
        for label, column in (
            ("code", self.code_column),
            ("customer", self.customer_column),
            ("time", self.time_column),
        ):
            if column and column.strip().lower() not in known:
                found.append(f"there is no column {column!r} for the {label}")
        if not self.code_column.strip():
            found.append("say which column holds the code")
        zone = zone_problem(self.time_zone)
        if zone:
            found.append(zone)
        return found


@dataclass(frozen=True)
class RedemptionSource:
    id: int
    name: str
    header: str
    mapping: RedemptionMapping


@dataclass
class RedemptionImport:
    source: RedemptionSource
    result: ImportResult
    without_code: int = 0  # rows skipped: no code (orders without a discount)
    warnings: list[str] = field(default_factory=list)


class MappingNeeded(ImportFileError):
    """The file's columns are not mapped yet: the message lists them and suggests a mapping."""

    def __init__(self, path: Path, header: Sequence[str], suggestion: RedemptionMapping | None):
        self.header = list(header)
        self.suggestion = suggestion
        shown = ", ".join(repr(name) for name in header[:20])
        hint = ""
        if suggestion is not None:
            hint = f"; perhaps the code is in {suggestion.code_column!r}"
            if suggestion.customer_column:
                hint += f", the customer in {suggestion.customer_column!r}"
            if suggestion.time_column:
                hint += f", the time in {suggestion.time_column!r}"
        super().__init__(
            path,
            "promodesk does not know this export yet: say which column holds the code (and "
            f"the customer and the time, if it has them). Its columns: {shown}{hint}",
            line=1,
        )


# -- reading the file --------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvShape:
    encoding: str
    delimiter: str
    header: list[str]

    @property
    def signature(self) -> str:
        return header_signature(self.header)


def header_signature(header: Sequence[str]) -> str:
    return "\t".join(name.strip().lower() for name in header)


def read_shape(path: Path) -> CsvShape:
    """The file's encoding, delimiter and header row (what a mapping step shows)."""
    path = Path(path)
    with open_regular(path) as handle:  # (a FIFO or a device is refused before it blocks)
        head = handle.read(_SNIFF_BYTES)
    if not head.strip():
        raise ImportFileError(path, "the file is empty")
    if b"\x00" in head:
        raise ImportFileError(path, "this is a binary file, not a CSV export")
    encoding = "utf-8-sig" if head.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        text = head.decode(encoding, errors="strict")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not just a character cut by the sniff's end
            raise locate_bad_bytes(path) from None
        text = head[: error.start].decode(encoding)
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    delimiter = max((",", ";", "\t"), key=first.count)
    header = next(csv.reader([first], delimiter=delimiter), [])
    header = [name.strip() for name in header]
    if not any(header):
        raise ImportFileError(path, "the first line should name the columns; it is empty", line=1)
    return CsvShape(encoding, delimiter, header)


def suggest_mapping(header: Sequence[str]) -> RedemptionMapping | None:
    """A guess from the column names (for the mapping step to start from); None: no idea."""
    plain = {_NOISE.sub("", name.lower()): name for name in header}

    def pick(words: Sequence[str]) -> str:
        for word in words:
            if word in plain:
                return plain[word]
        return ""

    code = pick(_CODE_WORDS)
    if not code:
        return None
    return RedemptionMapping(code, pick(_CUSTOMER_WORDS), pick(_TIME_WORDS))


# -- sources -----------------------------------------------------------------------------------


def sources(conn: sqlite3.Connection) -> list[RedemptionSource]:
    return [_source(row) for row in conn.execute(_SOURCE_SELECT + " ORDER BY name")]


_SOURCE_SELECT = (
    "SELECT id, name, header, code_column, customer_column, time_column, time_zone "
    "FROM redemption_sources"
)


def _source(row: Sequence[object]) -> RedemptionSource:
    source_id, name, header, code, customer, time, zone = row
    return RedemptionSource(
        int(str(source_id)),
        str(name),
        str(header),
        RedemptionMapping(str(code), str(customer), str(time), str(zone)),
    )


def find_source(
    conn: sqlite3.Connection, *, name: str | None = None, signature: str | None = None
) -> RedemptionSource | None:
    """A saved source by its name, else by its files' header."""
    if name:
        row = conn.execute(_SOURCE_SELECT + " WHERE name = ?", (name,)).fetchone()
        return _source(row) if row else None
    if signature:
        row = conn.execute(
            _SOURCE_SELECT + " WHERE header = ? ORDER BY updated_at DESC LIMIT 1", (signature,)
        ).fetchone()
        return _source(row) if row else None
    return None


def save_source(
    conn: sqlite3.Connection, name: str, signature: str, mapping: RedemptionMapping
) -> RedemptionSource:
    now = now_utc_text()
    conn.execute(
        "INSERT INTO redemption_sources(name, header, code_column, customer_column, time_column, "
        "time_zone, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(name) DO UPDATE SET header = excluded.header, "
        "code_column = excluded.code_column, customer_column = excluded.customer_column, "
        "time_column = excluded.time_column, time_zone = excluded.time_zone, "
        "updated_at = excluded.updated_at",
        (
            name,
            signature,
            mapping.code_column.strip(),
            mapping.customer_column.strip(),
            mapping.time_column.strip(),
            zone_named(mapping.time_zone).key,
            now,
            now,
        ),
    )
    found = find_source(conn, name=name)
    assert found is not None
    return found


def _resolve_source(
    conn: sqlite3.Connection,
    path: Path,
    shape: CsvShape,
    name: str | None,
    mapping: RedemptionMapping | None,
) -> RedemptionSource:
    known = find_source(conn, name=name) if name else find_source(conn, signature=shape.signature)
    if mapping is None:
        if known is None:
            raise MappingNeeded(path, shape.header, suggest_mapping(shape.header))
        mapping = known.mapping
    problems = mapping.problems(shape.header)
    if problems:
        saved = f" (the mapping saved for {known.name})" if known is not None else ""
        raise ImportFileError(path, "; ".join(problems) + saved, line=1)
    chosen = name or (known.name if known is not None else path.stem)
    return save_source(conn, chosen, shape.signature, mapping)


# -- importing ---------------------------------------------------------------------------------


def import_redemptions(
    conn: sqlite3.Connection,
    path: Path,
    *,
    source_name: str | None = None,
    mapping: RedemptionMapping | None = None,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> RedemptionImport:
    """Import one redemption export, all or nothing. Without a mapping, the source's saved
    one is used (found by `source_name`, else by the file's header); with one, it is saved
    for the source (named `source_name`, else after the file)."""
    path = Path(path)
    token = cancel or CancelToken()
    shape = read_shape(path)
    unregister = token.on_cancel(conn.interrupt)
    try:
        with transaction(conn):
            source = _resolve_source(conn, path, shape, source_name, mapping)
            run_id = start_run(conn, "import", account_id=None, title=f"Import {path.name}")
            result = ImportResult(path=path, kind=ImportKind.REDEMPTIONS)
            imported = RedemptionImport(source, result)
            reading = SourceFile(path, cancel=token, progress=progress)
            try:
                before = conn.execute("SELECT count(*) FROM redemptions").fetchone()[0]
                with sharing_conflicts(conn, "redemptions", REDEMPTION_KEY, run_id) as on_conflict:
                    conn.executemany(
                        "INSERT INTO redemptions(source_id, added_run, code, code_key, "
                        "customer_id, customer_key, redeemed_at, line) "
                        f"VALUES (?, ?, ?, ?, ?, ?, ?, ?){on_conflict}",
                        _rows(reading, shape, source, run_id, imported),
                    )
                after = conn.execute("SELECT count(*) FROM redemptions").fetchone()[0]
                result.rows_added = after - before
                record_import(
                    conn,
                    account_id=None,
                    run_id=run_id,
                    result=result,
                    sha256=reading.hexdigest_of_whole_file(),
                    size=reading.size,
                    as_of=reading.as_of(),
                )
            finally:
                reading.close()
    except sqlite3.OperationalError:
        if token.cancelled:
            raise JobCancelled() from None
        raise
    finally:
        unregister()
    if imported.without_code:
        imported.warnings.append(
            f"{imported.without_code:,} row(s) without a code (orders without a discount) "
            "were skipped"
        )
    result.warnings.extend(imported.warnings)
    return imported


def _rows(
    reading: SourceFile,
    shape: CsvShape,
    source: RedemptionSource,
    run_id: int,
    imported: RedemptionImport,
) -> Iterator[tuple[object, ...]]:
    path = reading.path
    lowered = [name.strip().lower() for name in shape.header]
    mapping = source.mapping

    def at(column: str) -> int | None:
        return lowered.index(column.strip().lower()) if column else None

    code_at, customer_at, time_at = (
        at(mapping.code_column),
        at(mapping.customer_column),
        at(mapping.time_column),
    )
    assert code_at is not None
    needed = max(index for index in (code_at, customer_at, time_at) if index is not None) + 1
    zone = zone_named(mapping.time_zone)
    # Like every CSV import: no line past the bounds, no control characters (a bad byte is
    # refused with its line before the CSV parser holds it).
    limits = TextLineLimits(path, encoding=shape.encoding, allow_tab=True)
    text = io.TextIOWrapper(reading.buffered(limits), encoding=shape.encoding, newline="")
    reader = csv.reader(text, delimiter=shape.delimiter, strict=True)
    try:
        next(reader)  # the header
        for row in reader:
            if not row or not any(cell.strip() for cell in row):
                continue
            imported.result.rows_read += 1
            if len(row) < needed:
                raise ImportFileError(
                    path,
                    f"expected at least {needed} columns, found {len(row)}",
                    line=reader.line_num,
                )
            code = row[code_at].strip()
            key = match_key(code)
            if not key:
                imported.without_code += 1
                continue
            customer = row[customer_at].strip() if customer_at is not None else ""
            redeemed_at = ""
            if time_at is not None and row[time_at].strip():
                try:
                    redeemed_at = parse_instant(row[time_at], assume=zone).strftime(
                        CANONICAL_FORMAT
                    )
                except ValueError as error:
                    raise ImportFileError(
                        path, f"{mapping.time_column}: {error}", line=reader.line_num
                    ) from None
            yield (
                source.id,
                run_id,
                code,
                key,
                customer,
                match_key(customer),
                redeemed_at,
                reader.line_num,
            )
    except csv.Error as error:
        raise ImportFileError(path, f"broken CSV: {error}", line=reader.line_num) from None
    except UnicodeDecodeError:
        raise locate_bad_bytes(path) from None


# The redemptions table's dedupe key (ux_redemptions): the same redemption imported twice.
REDEMPTION_KEY = ("code_key", "customer_key", "redeemed_at", "source_id")


def remove_run(conn: sqlite3.Connection, run_id: int) -> int:
    """The redemptions an import brought (removing that import; those a later import has too
    were handed to it first)."""
    mine = "SELECT id FROM redemptions WHERE added_run = ?"
    forget_shared(conn, "redemptions", mine, run_id)
    return int(conn.execute("DELETE FROM redemptions WHERE added_run = ?", (run_id,)).rowcount)
