"""Saved Altcraft and impact.com responses (JSON or XML) -> the workspace.

Both vendors' records are validated with the same pydantic models the API clients use, and
upserted: importing a newer export of the same codes updates their state, importing the same
file again changes nothing.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from pydantic import BaseModel, ValidationError

from promodesk.domain.records import AltcraftCodeRecord, ImpactPromoCodeRecord
from promodesk.domain.text import storable
from promodesk.domain.values import fits_int64
from promodesk.store.importers.base import (
    ImportFileError,
    ImportHints,
    ImportKind,
    ImportResult,
    ImportTarget,
    SourceFile,
    open_regular,
)
from promodesk.store.importers.detect import Detected
from promodesk.store.importers.streams import (
    json_envelope,
    json_records,
    loyalty_id_from_name,
    xml_records,
)
from promodesk.store.records import (
    altcraft_details_known,
    altcraft_row,
    altcraft_sent_in_full,
    impact_row,
    keep_unsent_altcraft,
)
from promodesk.store.writes import ALTCRAFT_CODES, IMPACT_CODES, RecordTable, Staging, upsert

_KEEP_BATCH = 5_000  # Altcraft records completed from the workspace at a time


def _write(
    conn: sqlite3.Connection,
    table: RecordTable,
    target: ImportTarget,
    rows: Iterable[Sequence[Any]],
    as_of: str,
    result: ImportResult,
) -> None:
    outcome = upsert(conn, table, target.account_id, rows, run_id=target.run_id, as_of=as_of)
    result.rows_added = outcome.added
    result.rows_updated = outcome.changed


def _validated(
    model: type[BaseModel],
    records: Iterator[tuple[int | None, dict[str, Any]]],
    source: SourceFile,
    result: ImportResult,
    keepable: Callable[[Any], str] = lambda _record: "",
) -> Iterator[Any]:
    """Each record through its pydantic model, then `keepable` (which says what about a
    valid record the workspace cannot keep, or ""); the first bad one stops the import.

    XML records carry their exact line; JSON ones do not (ijson builds them in C), so the
    message says which record it is and roughly where the parser had got to.
    """
    for number, (line, item) in enumerate(records, start=1):
        try:
            record = model.model_validate(item)
            problem = keepable(record)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "record"
            problem = f"{field}: {str(first['msg']).removeprefix('Value error, ')}"
        if problem:
            where = f"record {number:,}"
            if line is None:
                where += f", near line {source.newlines + 1:,}"
            raise ImportFileError(source.path, f"{where}: {problem}", line=line) from None
        result.rows_read += 1
        yield record


def _impact_id_problem(record: ImpactPromoCodeRecord) -> str:
    # Stored as an SQLite INTEGER; the API client refuses such an answer in its own words.
    if fits_int64(record.id):
        return ""
    return f"Id: {record.id[:30]} is too large for an impact.com id"


def _json_items(
    source: SourceFile, prefix: str, bom: bool
) -> Iterator[tuple[int | None, dict[str, Any]]]:
    for item in json_records(source, prefix, bom=bom):
        yield None, item


def _envelope(
    source: SourceFile,
    result: ImportResult,
    xml_envelope: dict[str, str] | None,
    keys: tuple[str, ...],
    prefix: str,
    bom: bool,
) -> dict[str, Any]:
    """The envelope's fields (where a saved response says it is an error): collected while
    reading XML; for JSON, a second pass, made only when no record was found, since neither
    vendor sends records in an error answer (and the pass costs as much as the first)."""
    if xml_envelope is not None:
        return {key: xml_envelope[key] for key in keys if key in xml_envelope}
    if result.rows_read:
        return {}
    return json_envelope(source.path, keys, bom=bom, prefix=prefix)


# -- Altcraft ----------------------------------------------------------------------------------

_DATA_SHAPE = re.compile(rb'"data"\s*:\s*(.)')


def import_altcraft(
    conn: sqlite3.Connection,
    source: SourceFile,
    detected: Detected,
    hints: ImportHints,
    target: ImportTarget,
    result: ImportResult,
) -> None:
    as_of = source.as_of()
    named_loyalty = hints.loyalty_id or loyalty_id_from_name(source.path)
    if named_loyalty is not None and not (named_loyalty.isascii() and named_loyalty.isdigit()):
        raise ImportFileError(
            source.path, f"the loyalty program id must be a number, not {named_loyalty[:40]!r}"
        )
    unknown_program = f"? {storable(source.path.stem)}"  # filed under the file's name
    envelope: dict[str, str] | None = None
    bom = detected.encoding == "utf-8-sig"
    prefix = ""
    if detected.kind is ImportKind.ALTCRAFT_XML:
        items, envelope = xml_records(source, root="xml", record_path=("xml", "data"))
        records: Iterator[tuple[int | None, dict[str, Any]]] = (
            (line, fields) for line, fields in items
        )
    else:
        with open_regular(source.path) as handle:
            shape = _DATA_SHAPE.search(handle.read(1 << 16))
        prefix = "data" if shape and shape.group(1) == b"{" else "data.item"
        records = _json_items(source, prefix, bom)

    def row(record: AltcraftCodeRecord) -> tuple[Any, ...]:
        loyalty = named_loyalty or (str(record.loyalty_id) if record.loyalty_id else None)
        return altcraft_row(record, loyalty or unknown_program)

    validated = _validated(AltcraftCodeRecord, records, source, result)
    if altcraft_details_known(conn, target.account_id):
        # An export_all file leaves out when a code was created, its expiry and its holder:
        # what the workspace knows of them stays, as a Refresh keeps it (looked up a batch
        # at a time).
        staging = Staging(conn, ALTCRAFT_CODES, target.account_id)
        while batch := list(islice(validated, _KEEP_BATCH)):
            exported = [not altcraft_sent_in_full(record) for record in batch]
            rows = [row(record) for record in batch]
            staging.add(keep_unsent_altcraft(conn, target.account_id, rows, exported=exported))
        outcome = staging.write(run_id=target.run_id, as_of=as_of)
        result.rows_added, result.rows_updated = outcome.added, outcome.changed
    else:  # (nothing to keep: streamed in one go, a tenth faster than in batches)
        _write(conn, ALTCRAFT_CODES, target, map(row, validated), as_of, result)
    fields = _envelope(source, result, envelope, ("error", "error_text"), prefix, bom)
    error = fields.get("error")
    if error not in (None, "", "0", 0):
        text = fields.get("error_text")
        raise ImportFileError(
            source.path,
            f"this saved response is an Altcraft error ({str(error)[:40]}: "
            f"{str(text or 'no text')[:200]})",
        )
    if result.rows_read == 0:
        result.warnings.append("the export lists no promo codes")
    if not named_loyalty and result.rows_read:
        result.warnings.append(
            "the file does not say which loyalty program it is from (Altcraft exports do not); "
            "put the program id in its name, e.g. 'loyalty-5.json', to file it under that program"
        )


# -- impact.com --------------------------------------------------------------------------------


def import_impact(
    conn: sqlite3.Connection,
    source: SourceFile,
    detected: Detected,
    _: ImportHints,
    target: ImportTarget,
    result: ImportResult,
) -> None:
    as_of = source.as_of()
    bom = detected.encoding == "utf-8-sig"
    envelope: dict[str, str] | None = None
    prefix = ""
    if detected.kind is ImportKind.IMPACT_XML:
        items, envelope = xml_records(
            source,
            root="ImpactRadiusResponse",
            record_path=("ImpactRadiusResponse", "PromoCodes", "PromoCode"),
        )
        records: Iterator[tuple[int | None, dict[str, Any]]] = (
            (line, fields) for line, fields in items
        )
    else:
        with open_regular(source.path) as handle:
            head = handle.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
        # One page, several pages concatenated, or a JSON array of pages.
        prefix = "item.PromoCodes.item" if head.startswith(b"[") else "PromoCodes.item"
        records = _json_items(source, prefix, bom)

    valid = _validated(ImpactPromoCodeRecord, records, source, result, _impact_id_problem)
    rows = map(impact_row, valid)
    _write(conn, IMPACT_CODES, target, rows, as_of, result)
    fields = _envelope(source, result, envelope, ("Status", "Message"), prefix, bom)
    if str(fields.get("Status") or "").upper() == "ERROR":
        message = str(fields.get("Message") or "no message")[:200]
        raise ImportFileError(source.path, f"this saved response is an impact.com error: {message}")
    if result.rows_read == 0:
        result.warnings.append("the export lists no promo codes")
