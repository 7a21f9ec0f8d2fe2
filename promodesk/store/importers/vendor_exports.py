"""Saved Altcraft and impact.com responses (JSON or XML) -> the workspace.

Both vendors' records are validated with the same pydantic models the API clients use, and
upserted: importing a newer export of the same codes updates their state, importing the same
file again changes nothing.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from promodesk.domain.records import AltcraftCodeRecord, ImpactPromoCodeRecord
from promodesk.store.importers.base import (
    ImportFileError,
    ImportHints,
    ImportKind,
    ImportResult,
    ImportTarget,
    SourceFile,
)
from promodesk.store.importers.detect import Detected
from promodesk.store.importers.streams import (
    json_records,
    json_scalar,
    loyalty_id_from_name,
    xml_records,
)
from promodesk.store.records import altcraft_row, impact_row
from promodesk.store.writes import ALTCRAFT_CODES, IMPACT_CODES, RecordTable, upsert


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
) -> Iterator[Any]:
    """Each record through its pydantic model; the first bad one stops the import.

    XML records carry their exact line; JSON ones do not (ijson builds them in C), so the
    message says which record it is and roughly where the parser had got to.
    """
    for number, (line, item) in enumerate(records, start=1):
        try:
            record = model.model_validate(item)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "record"
            message = str(first["msg"]).removeprefix("Value error, ")
            where = f"record {number:,}"
            if line is None:
                where += f", near line {source.newlines + 1:,}"
            raise ImportFileError(source.path, f"{where}: {field}: {message}", line=line) from None
        result.rows_read += 1
        yield record


def _json_items(
    source: SourceFile, prefix: str, bom: bool
) -> Iterator[tuple[int | None, dict[str, Any]]]:
    for item in json_records(source, prefix, bom=bom):
        yield None, item


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
    envelope: dict[str, str] = {}
    bom = detected.encoding == "utf-8-sig"
    if detected.kind is ImportKind.ALTCRAFT_XML:
        items, envelope = xml_records(source, root="xml", record_path=("xml", "data"))
        records: Iterator[tuple[int | None, dict[str, Any]]] = (
            (line, fields) for line, fields in items
        )
    else:
        with source.path.open("rb") as handle:
            shape = _DATA_SHAPE.search(handle.read(1 << 16))
        prefix = "data" if shape and shape.group(1) == b"{" else "data.item"
        records = _json_items(source, prefix, bom)

    def rows() -> Iterator[tuple[Any, ...]]:
        for record in _validated(AltcraftCodeRecord, records, source, result):
            loyalty = named_loyalty or (str(record.loyalty_id) if record.loyalty_id else None)
            yield altcraft_row(record, loyalty or _unknown_program(source))

    _write(conn, ALTCRAFT_CODES, target, rows(), as_of, result)
    error = envelope.get("error") if envelope else json_scalar(source.path, "error", bom=bom)
    if error not in (None, "", "0", 0):
        text = (
            envelope.get("error_text")
            if envelope
            else json_scalar(source.path, "error_text", bom=bom)
        )
        raise ImportFileError(
            source.path, f"this saved response is an Altcraft error ({error}: {text or 'no text'})"
        )
    if result.rows_read == 0:
        result.warnings.append("the export lists no promo codes")
    if not named_loyalty and result.rows_read:
        result.warnings.append(
            "the file does not say which loyalty program it is from (Altcraft exports do not); "
            "put the program id in its name, e.g. 'loyalty-5.json', to file it under that program"
        )


def _unknown_program(source: SourceFile) -> str:
    return f"? {source.path.stem}"


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
    envelope: dict[str, str] = {}
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
        with source.path.open("rb") as handle:
            head = handle.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
        # One page, several pages concatenated, or a JSON array of pages.
        prefix = "item.PromoCodes.item" if head.startswith(b"[") else "PromoCodes.item"
        records = _json_items(source, prefix, bom)

    rows = map(impact_row, _validated(ImpactPromoCodeRecord, records, source, result))
    _write(conn, IMPACT_CODES, target, rows, as_of, result)
    status = envelope.get("Status") if envelope else json_scalar(source.path, "Status", bom=bom)
    if str(status or "").upper() == "ERROR":
        message = (
            envelope.get("Message") if envelope else json_scalar(source.path, "Message", bom=bom)
        )
        raise ImportFileError(
            source.path, f"this saved response is an impact.com error: {message or 'no message'}"
        )
    if result.rows_read == 0:
        result.warnings.append("the export lists no promo codes")
