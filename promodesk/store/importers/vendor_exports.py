"""Saved Altcraft and impact.com responses (JSON or XML) -> the workspace.

Both vendors' records are validated with the same pydantic models the API clients use, and
upserted: importing a newer export of the same codes updates their state, importing the same
file again changes nothing.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel, ValidationError

from promodesk.domain.records import AltcraftCodeRecord, ImpactPromoCodeRecord
from promodesk.domain.text import storable
from promodesk.domain.vendors import Vendor
from promodesk.store.importers.base import (
    ImportFileError,
    ImportHints,
    ImportKind,
    ImportResult,
    SourceFile,
    imported_account,
    open_regular,
)
from promodesk.store.importers.detect import Detected
from promodesk.store.importers.streams import (
    json_envelope,
    json_records,
    loyalty_id_from_name,
    xml_records,
)
from promodesk.store.rollups import refresh_altcraft, refresh_impact

_ALTCRAFT_FIELDS = (
    "status",
    "created",
    "attached",
    "activated",
    "expired",
    "expire_date",
    "profile_id",
    "database_id",
)
_IMPACT_FIELDS = (
    "code",
    "status",
    "campaign_id",
    "campaign_name",
    "partner_id",
    "partner_name",
    "credit_policy",
    "code_type",
    "created_date",
    "start_date",
    "end_date",
    "deal_id",
    "deal_name",
    "details",
)


def _upsert_sql(table: str, key: tuple[str, ...], fields: tuple[str, ...]) -> str:
    columns = ("account_id", *key[1:], *fields, "as_of")
    placeholders = ", ".join("?" * len(columns))
    updates = ", ".join(f"{name} = excluded.{name}" for name in (*fields, "as_of"))
    current = ", ".join(fields)
    incoming = ", ".join(f"excluded.{name}" for name in fields)
    # Only a newer (or same-age) export overwrites, and only when something differs, so the
    # "updated" count means something changed.
    return (
        f"INSERT INTO {table}({', '.join(columns)}) VALUES ({placeholders}) "
        f"ON CONFLICT({', '.join(key)}) DO UPDATE SET {updates} "
        f"WHERE excluded.as_of >= {table}.as_of AND ({current}) IS NOT ({incoming})"
    )


def _load(
    conn: sqlite3.Connection,
    table: str,
    sql: str,
    rows: Iterable[tuple[Any, ...]],
    account_id: int,
    result: ImportResult,
) -> None:
    count_sql = f"SELECT count(*) FROM {table} WHERE account_id = ?"
    before = conn.execute(count_sql, (account_id,)).fetchone()[0]
    changes = conn.total_changes
    conn.executemany(sql, rows)
    changed = conn.total_changes - changes
    result.rows_added = conn.execute(count_sql, (account_id,)).fetchone()[0] - before
    result.rows_updated = changed - result.rows_added


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
    result: ImportResult,
) -> None:
    account_id = imported_account(conn, Vendor.ALTCRAFT)
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

    def rows() -> Iterator[tuple[Any, ...]]:
        for record in _validated(AltcraftCodeRecord, records, source, result):
            loyalty = named_loyalty or (str(record.loyalty_id) if record.loyalty_id else None)
            yield (
                account_id,
                loyalty or unknown_program,
                record.code,
                record.status.value,
                record.created,
                record.attached,
                record.activated,
                record.expired,
                record.expire_date,
                record.profile_id or "",
                record.database_id if record.database_id is not None else "",
                as_of,
            )

    sql = _upsert_sql("altcraft_codes", ("account_id", "loyalty_id", "code"), _ALTCRAFT_FIELDS)
    _load(conn, "altcraft_codes", sql, rows(), account_id, result)
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
    refresh_altcraft(conn, account_id)


# -- impact.com --------------------------------------------------------------------------------


def import_impact(
    conn: sqlite3.Connection,
    source: SourceFile,
    detected: Detected,
    _: ImportHints,
    result: ImportResult,
) -> None:
    account_id = imported_account(conn, Vendor.IMPACT)
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

    def rows() -> Iterator[tuple[Any, ...]]:
        for record in _validated(ImpactPromoCodeRecord, records, source, result):
            yield (
                account_id,
                int(record.id),
                record.code,
                record.status.value,
                record.campaign_id or "",
                record.campaign_name or "",
                record.partner_id or "",
                record.partner_name or "",
                record.credit_policy or "",
                record.type or "",
                record.created_date,
                record.start_date,
                record.end_date,
                record.deal_id or "",
                record.deal_name or "",
                json.dumps(record.extra_fields(), ensure_ascii=False, sort_keys=True),
                as_of,
            )

    sql = _upsert_sql("impact_codes", ("account_id", "promo_code_id"), _IMPACT_FIELDS)
    _load(conn, "impact_codes", sql, rows(), account_id, result)
    fields = _envelope(source, result, envelope, ("Status", "Message"), prefix, bom)
    if str(fields.get("Status") or "").upper() == "ERROR":
        message = str(fields.get("Message") or "no message")[:200]
        raise ImportFileError(source.path, f"this saved response is an impact.com error: {message}")
    if result.rows_read == 0:
        result.warnings.append("the export lists no promo codes")
    refresh_impact(conn, account_id)
