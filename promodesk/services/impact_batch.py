"""impact.com codes from a marketer's CSV: read, check, then create one by one.

A row is Code, partner, program, credit policy, type, start, end, in any column order, with
the header in the marketer's words or impact.com's ("Partner ID", "AssignedPartnerId";
"If last click", "WINNER"; "Exact match", "LI"). Every row is checked with the `create`
operation's own input model before anything is sent (a pattern that does not compile, an end
before the start), and a problem names its line. Dates without a time zone are read in the
zone the caller gives (the computer's by default) and kept with it; a date without a time
starts at midnight, or for an end, lasts the whole day.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, tzinfo
from pathlib import Path
from typing import Any

from promodesk.domain.jobs import Progress, ProgressFn, ignore_progress
from promodesk.domain.vendors import Vendor
from promodesk.services.operations import operation as find_operation
from promodesk.services.operations.executor import (
    Executor,
    InputError,
    NotAllowed,
    OperationOutcome,
    validate_inputs,
)

MAX_ROWS = 10_000  # impact.com takes about 1,000 requests an hour: more is a job for a script
_MAX_BYTES = 20 * 1024 * 1024

CREDIT_WORDS: dict[str, str] = {
    "always": "ALWAYS",
    "ifinvolved": "INVOLVED",
    "involved": "INVOLVED",
    "iflastclick": "WINNER",
    "lastclick": "WINNER",
    "winner": "WINNER",
}
MATCH_WORDS: dict[str, str] = {
    "exact": "LI",
    "exactmatch": "LI",
    "li": "LI",
    "pattern": "RE",
    "regex": "RE",
    "regularexpression": "RE",
    "re": "RE",
}
CREDIT_SHOWN = {"ALWAYS": "Always", "INVOLVED": "If involved", "WINNER": "If last click"}
MATCH_SHOWN = {"LI": "Exact match", "RE": "Pattern"}
COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("code", "promocode", "promocodes", "coupon"),
    "partner_id": ("partner", "partnerid", "assignedpartnerid", "mediapartner", "mediapartnerid"),
    "campaign_id": ("program", "programid", "campaign", "campaignid"),
    "credit_policy": ("creditpolicy", "credit", "creditrule"),
    "type_": ("type", "match", "matchtype", "matchmode"),
    "start_date": ("start", "starts", "startdate"),
    "end_date": ("end", "ends", "enddate"),
}
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ImpactFileError(ValueError):
    """The file cannot be read as a list of codes at all (the message names file and line)."""


@dataclass
class CodeRow:
    line: int  # in the file, from 1 (the header is line 1)
    code: str
    values: dict[str, Any]  # the create operation's inputs
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. "ends at the end of the day"

    @property
    def ready(self) -> bool:
        return not self.problems


def _key(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


def _column_of(header: str) -> str | None:
    key = _key(header)
    return next((name for name, words in COLUMNS.items() if key in words), None)


def parse_when(text: str, zone: tzinfo, *, end: bool) -> tuple[datetime | None, str]:
    """A date as a marketer writes it, with the zone it is in; (None, problem) if unreadable."""
    value = text.strip()
    if not value:
        return None, ""
    try:
        moment = datetime.fromisoformat(value.replace(" ", "T", 1) if " " in value else value)
    except ValueError:
        return None, (
            f"{value!r} is not a date promodesk can read: write 2026-12-01, 2026-12-01 09:30, "
            "or 2026-12-01T09:30:00+01:00"
        )
    if _DATE_ONLY.match(value) and end:
        moment = datetime.combine(moment.date(), time(23, 59, 59))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment, ""


def row_values(
    fields: dict[str, str], zone: tzinfo, line: int, defaults: dict[str, Any] | None = None
) -> CodeRow:
    """One row's cells (by column name) as the create operation's inputs, checked."""
    values: dict[str, Any] = dict(defaults or {})
    problems: list[str] = []
    notes: list[str] = []
    code = fields.get("code", "").strip()
    values["code"] = code
    for name, what in (("partner_id", "partner ID"), ("campaign_id", "program ID")):
        raw = fields.get(name, "").strip()
        if raw:
            if raw.isdigit():
                values[name] = int(raw)
            else:
                problems.append(f"the {what} must be a number (found {raw!r})")
        elif name not in values:
            problems.append(f"the {what} is missing")
    for name, words, what in (
        ("credit_policy", CREDIT_WORDS, "credit policy"),
        ("type_", MATCH_WORDS, "type"),
    ):
        raw = fields.get(name, "").strip()
        if raw:
            chosen = words.get(_key(raw))
            if chosen is None:
                shown = CREDIT_SHOWN if name == "credit_policy" else MATCH_SHOWN
                problems.append(f"{raw!r} is not a {what}: use {', '.join(shown.values())}")
            else:
                values[name] = chosen
    for name in ("start_date", "end_date"):
        raw = fields.get(name, "")
        moment, problem = parse_when(raw, zone, end=name == "end_date")
        if problem:
            problems.append(problem)
        elif moment is not None:
            values[name] = moment
            if name == "end_date" and _DATE_ONLY.match(raw.strip()):
                notes.append("ends at the end of that day")
    if not problems:
        try:
            validate_inputs(find_operation(Vendor.IMPACT, "create"), values)
        except InputError as error:
            problems.extend(
                f"{_FIELD_WORDS.get(name, name)}: {text}" if name else text
                for name, text in error.problems
            )
    return CodeRow(line, code, values, problems, notes)


_FIELD_WORDS = {
    "code": "code",
    "partner_id": "partner ID",
    "campaign_id": "program ID",
    "credit_policy": "credit policy",
    "type_": "type",
    "start_date": "start",
    "end_date": "end",
}


def read_code_rows(path: Path, zone: tzinfo | None = None) -> list[CodeRow]:
    """Every row of a CSV of codes, each with its problems (blocking: call from a thread)."""
    path = Path(path)
    chosen_zone = zone or datetime.now().astimezone().tzinfo
    assert chosen_zone is not None
    try:
        size = path.stat().st_size
        if size > _MAX_BYTES:
            raise ImpactFileError(
                f"{path.name} is {size / 1e6:,.0f} MB: far more codes than impact.com takes "
                f"in a day; split it into files of at most {MAX_ROWS:,} rows"
            )
        raw = path.read_bytes()
    except OSError as error:
        raise ImpactFileError(f"{path.name} cannot be read ({error.strerror or error})") from None
    if b"\x00" in raw[:4096] or raw.startswith(b"PK\x03\x04"):
        raise ImpactFileError(
            f"{path.name} is not a text file (a workbook?): save the sheet as CSV UTF-8 first"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", "replace")
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise ImpactFileError(f"{path.name} is empty") from None
    columns = [_column_of(cell) for cell in header]
    if "code" not in columns:
        raise ImpactFileError(
            f"{path.name}, line 1: no “Code” column. The first line names the columns: Code, "
            "Partner ID, Program ID, Credit policy, Type, Start, End"
        )
    rows: list[CodeRow] = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise ImpactFileError(
                    f"{path.name} has more than {MAX_ROWS:,} codes: impact.com takes about "
                    "1,000 requests an hour; split the file"
                )
            fields = {
                name: cell for name, cell in zip(columns, cells, strict=False) if name is not None
            }
            rows.append(row_values(fields, chosen_zone, reader.line_num))
    except csv.Error as error:
        raise ImpactFileError(f"{path.name}, line {reader.line_num}: {error}") from None
    if not rows:
        raise ImpactFileError(f"{path.name} has a header but no codes")
    seen: dict[tuple[str, Any, Any], int] = {}
    for row in rows:
        key = (row.code.lower(), row.values.get("partner_id"), row.values.get("campaign_id"))
        if key in seen:
            row.problems.append(f"the same code for the same partner is on line {seen[key]}")
        else:
            seen[key] = row.line
    return rows


@dataclass(frozen=True)
class RowOutcome:
    row: CodeRow
    status: str  # ok | failed | unknown | skipped
    message: str
    outcome: OperationOutcome | None = None


async def create_codes(
    executor: Executor,
    account: Any,
    rows: Sequence[CodeRow],
    *,
    progress: ProgressFn = ignore_progress,
    on_row: Callable[[RowOutcome], None] | None = None,
) -> list[RowOutcome]:
    """One create per ready row, through the executor (impact.com's create takes one code);
    a refused row does not stop the others. Cancelling stops before the next row."""
    create = find_operation(Vendor.IMPACT, "create")
    ready = [row for row in rows if row.ready]
    outcomes: list[RowOutcome] = []
    for number, row in enumerate(ready, start=1):
        progress(
            Progress(number - 1, len(ready), f"Creating {row.code} ({number} of {len(ready)})")
        )
        try:
            outcome = await executor.run(account, create, row.values)
            ended = RowOutcome(row, outcome.status, outcome.message, outcome)
        except (InputError, NotAllowed) as refusal:
            ended = RowOutcome(row, "failed", str(refusal))
        outcomes.append(ended)
        if on_row is not None:
            on_row(ended)
    progress(Progress(len(ready), len(ready), "Done"))
    return outcomes
