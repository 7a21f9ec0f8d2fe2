"""Reading a promocode's allocations out of the workspace, streamed, in the export's columns.

The rows come out in the vendor's nine-column order (domain.records.ALLOCATION_COLUMNS), in the
order they were stored, a batch at a time: a million allocations never sit in memory at once.
A caller may wrap each column in an SQL expression (`cell`), e.g. to make cells safe for a
spreadsheet in C rather than with a Python call per cell.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from promodesk.domain.jobs import CancelToken
from promodesk.domain.records import ALLOCATION_COLUMNS

# Stored column for each export column, in the export's order.
EXPORT_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    zip(
        ALLOCATION_COLUMNS,
        (
            "customer_id",
            "promocode_id",
            "promotion_id",
            "file_id",
            "unique_code",
            "allocated_at",
            "occurence_id",
            "series_id",
            "action_id",
        ),
        strict=True,
    )
)
_BATCH = 5_000


@dataclass(frozen=True)
class AllocationScope:
    promocode_id: str
    file_id: str | None = None

    def where(self, *, use_indexes: bool = True) -> tuple[str, tuple[str, ...]]:
        # A unary + keeps SQLite from using the column's index (for a scan of the table).
        plus = "" if use_indexes else "+"
        if self.file_id is None:
            return f"{plus}promocode_id = ?", (self.promocode_id,)
        return (
            f"{plus}promocode_id = ? AND {plus}file_id = ?",
            (self.promocode_id, self.file_id),
        )


class UnknownPromocodeError(LookupError):
    """The workspace has never heard of the promocode (or of the file within it)."""


def count_allocations(conn: sqlite3.Connection, scope: AllocationScope) -> int:
    """From the counts kept per promocode and file: no pass over the allocations."""
    where, values = scope.where()
    row = conn.execute(
        f"SELECT coalesce(sum(allocations), 0) FROM optimove_allocation_counts WHERE {where}",
        values,
    ).fetchone()
    return int(row[0])


def check_scope(conn: sqlite3.Connection, scope: AllocationScope) -> None:
    """Raise UnknownPromocodeError, with the names the workspace does know, when the scope
    names nothing in it. A known promocode with no allocations is fine (an empty export)."""
    known = conn.execute(
        "SELECT 1 FROM optimove_promocodes WHERE promocode_id = ?1 UNION ALL "
        "SELECT 1 FROM optimove_allocation_counts WHERE promocode_id = ?1 LIMIT 1",
        (scope.promocode_id,),
    ).fetchone()
    if known is None:
        names = [
            name
            for (name,) in conn.execute(
                "SELECT promocode_id FROM optimove_promocodes UNION "
                "SELECT promocode_id FROM optimove_allocation_counts ORDER BY 1 LIMIT 6"
            )
        ]
        hint = (
            f" (it knows {', '.join(names[:5])}{', …' if len(names) > 5 else ''})" if names else ""
        )
        raise UnknownPromocodeError(f"the workspace has no promocode {scope.promocode_id!r}{hint}")
    if scope.file_id is not None:
        files = conn.execute(
            "SELECT 1 FROM optimove_code_files WHERE file_id = ?1 UNION ALL "
            "SELECT 1 FROM optimove_allocation_counts WHERE promocode_id = ?2 AND file_id = ?1 "
            "LIMIT 1",
            (scope.file_id, scope.promocode_id),
        ).fetchone()
        if files is None:
            raise UnknownPromocodeError(
                f"the workspace has no code file {scope.file_id!r} for promocode "
                f"{scope.promocode_id!r}"
            )


def allocation_rows(
    conn: sqlite3.Connection,
    scope: AllocationScope,
    *,
    cell: Callable[[str], str] = lambda column: column,
    cancel: CancelToken | None = None,
) -> Iterator[tuple[object, ...]]:
    """The allocations in scope, nine values each in the export's order, as stored (rows of
    every source in the workspace that has them)."""
    token = cancel or CancelToken()
    # When the scope is a good share of the table (the export of a big promocode), one pass
    # over the table beats an index look-up per row.
    in_scope = count_allocations(conn, scope)
    stored = int(
        conn.execute("SELECT coalesce(max(id), 0) FROM optimove_allocations").fetchone()[0]
    )
    where, values = scope.where(use_indexes=in_scope * 4 < stored)
    columns = ", ".join(cell(stored) for _, stored in EXPORT_COLUMNS)
    cursor = conn.execute(
        f"SELECT {columns} FROM optimove_allocations WHERE {where} ORDER BY id", values
    )
    try:
        while rows := cursor.fetchmany(_BATCH):
            token.raise_if_cancelled()
            yield from rows
    finally:
        cursor.close()
