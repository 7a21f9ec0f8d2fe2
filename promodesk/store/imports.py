"""The import history, and removing an import with the rows it brought.

Every import is a run; every row knows the run that added it (`added_run`). Removing an import
deletes those rows, with their search index entries, their state events and the counts they
added, in one transaction. Rows the import only updated keep their current values (the state
events still say what it changed), and rows that were in the workspace before it stay. So do
rows the vendor has confirmed since, in a refresh or an operation of the account the file
was imported for (`keep_confirmed`): they are the account's as much as the file's.
Imports made before promodesk kept runs (workspace format 1) cannot be removed this way.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass

from promodesk.domain.jobs import CancelToken, Progress, ProgressFn, ignore_progress
from promodesk.domain.vendors import Vendor
from promodesk.store import tables
from promodesk.store.db import transaction
from promodesk.store.redemptions import remove_run as remove_redemptions
from promodesk.store.rollups import add_allocation_counts
from promodesk.store.schema import SHARED_TABLES
from promodesk.store.shares import hand_to_later_imports
from promodesk.store.writes import (
    ALTCRAFT_CODES,
    IMPACT_CODES,
    OPTIMOVE_CODE_FILES,
    OPTIMOVE_PROMOCODES,
    OPTIMOVE_PROMOTIONS,
    REMOVED_RUN,
    delete_rows,
    keep_confirmed,
    remove_added_by,
)


@dataclass(frozen=True)
class ImportRecord:
    id: int  # import_history id
    run_id: int | None  # None: imported before runs were kept; cannot be removed
    kind: str
    file_name: str
    file_path: str
    vendor: Vendor | None  # None for a merged workspace
    source: str  # the account's name ("Imported files" when its origin is unknown)
    rows_read: int
    rows_added: int
    as_of: str
    imported_at: str

    @property
    def removable(self) -> bool:
        return self.run_id is not None


@dataclass(frozen=True)
class RemovalResult:
    rows_removed: int
    file_name: str
    rows_kept: int = 0  # added by the import, since confirmed by the vendor: they stay
    rows_shared: int = 0  # added by the import, and in a later import too: they stay


def list_imports(conn: sqlite3.Connection) -> list[ImportRecord]:
    """Newest first."""
    return [
        ImportRecord(
            id=row[0],
            run_id=row[1],
            kind=row[2],
            file_name=row[3],
            file_path=row[4],
            vendor=Vendor(row[5]) if row[5] else None,
            source=row[6] or "",
            rows_read=row[7],
            rows_added=row[8],
            as_of=row[9],
            imported_at=row[10],
        )
        for row in conn.execute(
            "SELECT h.id, h.run_id, h.kind, h.file_name, h.file_path, a.vendor, a.name, "
            "h.rows_read, h.rows_added, h.as_of, h.imported_at FROM import_history h "
            "LEFT JOIN accounts a ON a.id = h.account_id ORDER BY h.id DESC"
        )
    ]


class ImportNotRemovable(ValueError):
    """An import this workspace cannot take back (e.g. made before runs were kept)."""


def remove_import(
    conn: sqlite3.Connection,
    import_id: int,
    *,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> RemovalResult:
    """Remove an import and the rows it added, all or nothing."""
    token = cancel or CancelToken()
    row = conn.execute(
        "SELECT run_id, file_name FROM import_history WHERE id = ?", (import_id,)
    ).fetchone()
    if row is None:
        raise ImportNotRemovable("this import is no longer in the workspace")
    run_id, file_name = row
    if run_id is None:
        raise ImportNotRemovable(
            f"{file_name} was imported by an older promodesk, which did not keep which rows "
            "each import added; it cannot be removed on its own"
        )
    unregister = token.on_cancel(conn.interrupt)
    try:
        with transaction(conn):
            kept = _keep_confirmed_rows(conn, int(run_id))
            shared = _hand_shared_rows(conn, int(run_id))
            removed = _remove_run_rows(conn, int(run_id), token, progress)
            conn.execute("DELETE FROM import_shares WHERE run_id = ?", (run_id,))
            conn.execute("DELETE FROM import_history WHERE id = ?", (import_id,))
            # Files of unknown origin are dated by the imports alone: as of the newest left
            # (nothing once the last goes), not the removed one's.
            conn.execute(
                "UPDATE accounts SET as_of = coalesce((SELECT max(h.as_of) FROM import_history "
                "h WHERE h.account_id = accounts.id), '') WHERE kind = 'imported'"
            )
            conn.execute("DELETE FROM state_events WHERE run_id = ?", (run_id,))
            conn.execute(
                "UPDATE runs SET status = 'removed', message = 'removed by the user' WHERE id = ?",
                (run_id,),
            )
    except sqlite3.OperationalError:
        token.raise_if_cancelled()
        raise
    finally:
        unregister()
    return RemovalResult(removed, str(file_name), kept, shared)


def _keep_confirmed_rows(conn: sqlite3.Connection, run_id: int) -> int:
    """The import's rows that a live run of their account has confirmed since, out of the
    removal (see `keep_confirmed`)."""
    tables_of = {
        Vendor.ALTCRAFT: (ALTCRAFT_CODES,),
        Vendor.IMPACT: (IMPACT_CODES,),
        Vendor.OPTIMOVE: (OPTIMOVE_PROMOTIONS, OPTIMOVE_PROMOCODES),
    }
    return sum(
        keep_confirmed(conn, table, run_id, account_id=int(account_id))
        for account_id, vendor in conn.execute("SELECT id, vendor FROM accounts").fetchall()
        for table in tables_of[Vendor(vendor)]
    )


# Rows an import brings along with its own (a code file with its codes, the promocode and
# promotion of allocations): not counted as the import's rows, removed once empty.
_PARENT_TABLES = frozenset(
    (OPTIMOVE_CODE_FILES.name, OPTIMOVE_PROMOCODES.name, OPTIMOVE_PROMOTIONS.name)
)


def _hand_shared_rows(conn: sqlite3.Connection, run_id: int) -> int:
    """The import's rows that a later import also had, out of the removal (see
    `hand_to_later_imports`): the later import has added them now, and its history says so
    (removing it takes them)."""
    handed: Counter[int] = Counter()
    for name in SHARED_TABLES:
        to = hand_to_later_imports(conn, name, run_id)
        if name not in _PARENT_TABLES:  # (what its history counts: codes, not their files)
            handed.update(to)
    conn.executemany(
        "UPDATE import_history SET rows_added = rows_added + ? WHERE run_id = ?",
        [(count, run) for run, count in handed.items()],
    )
    conn.executemany(
        "UPDATE runs SET added = added + ? WHERE id = ?",
        [(count, run) for run, count in handed.items()],
    )
    return sum(handed.values())


def _remove_run_rows(
    conn: sqlite3.Connection, run_id: int, token: CancelToken, progress: ProgressFn
) -> int:
    accounts = [
        (int(account_id), Vendor(vendor))
        for account_id, vendor in conn.execute("SELECT id, vendor FROM accounts")
    ]
    removed = 0
    steps = 4
    for step, (account_id, vendor) in enumerate(accounts):
        token.raise_if_cancelled()
        progress(Progress(step, len(accounts) * steps, "Removing the import's rows"))
        if vendor is Vendor.ALTCRAFT:
            removed += remove_added_by(conn, ALTCRAFT_CODES, run_id, account_id=account_id)
            _remove_empty_parents(conn, "altcraft_programs", account_id, run_id)
        elif vendor is Vendor.IMPACT:
            removed += remove_added_by(conn, IMPACT_CODES, run_id, account_id=account_id)
            conn.execute(
                "DELETE FROM impact_program_partners WHERE account_id = ? AND codes <= 0",
                (account_id,),
            )
            _remove_empty_parents(conn, "impact_programs", account_id, run_id)
        else:
            removed += _remove_optimove(conn, account_id, run_id)
    removed += remove_redemptions(conn, run_id)  # (a redemption export belongs to no account)
    progress(Progress(1, 1, "Removed"))
    return removed


def _none_in(*referrers: tuple[str, str]) -> str:
    """No row of any (table, column) of `referrers` (of t's account) refers to t by that
    column."""
    return " AND ".join(
        f"NOT EXISTS (SELECT 1 FROM {table} r WHERE r.account_id = t.account_id "
        f"AND r.{column} = t.{column})"
        for table, column in referrers
    )


def _remove_optimove(conn: sqlite3.Connection, account_id: int, run_id: int) -> int:
    groups = [
        (str(promocode), str(file_id), str(promotion), -int(count))
        for promocode, file_id, promotion, count in conn.execute(
            "SELECT promocode_id, file_id, max(promotion_id), count(*) FROM optimove_allocations "
            "WHERE account_id = ? AND added_run = ? GROUP BY promocode_id, file_id",
            (account_id, run_id),
        )
    ]
    removed = delete_rows(
        conn,
        tables.OPTIMOVE_ALLOCATIONS,
        "SELECT id FROM optimove_allocations WHERE account_id = ? AND added_run = ?",
        account_id,
        run_id,
    )
    if groups:
        add_allocation_counts(conn, account_id, groups, run_id=run_id)
        conn.execute(
            "DELETE FROM optimove_allocation_counts WHERE account_id = ? AND allocations <= 0",
            (account_id,),
        )
    removed += delete_rows(
        conn,
        tables.OPTIMOVE_POOL_CODES,
        "SELECT id FROM optimove_pool_codes WHERE account_id = ? AND added_run = ?",
        account_id,
        run_id,
    )
    # Files, promocodes and promotions the import made, once nothing else refers to them
    # (and those an import removed earlier made, once no row at all refers to them). Not
    # counted: the import's rows are its allocations or codes, what its history shows.
    remove_added_by(
        conn,
        OPTIMOVE_CODE_FILES,
        run_id,
        account_id=account_id,
        only_if="t.allocation_count = 0 AND NOT EXISTS (SELECT 1 FROM optimove_pool_codes p "
        "WHERE p.account_id = t.account_id AND p.file_id = t.file_id)",
        orphan_if=_none_in(("optimove_allocations", "file_id")),
    )
    remove_added_by(
        conn,
        OPTIMOVE_PROMOCODES,
        run_id,
        account_id=account_id,
        only_if="t.allocation_count = 0 AND t.file_count = 0",
        orphan_if=_none_in(
            ("optimove_allocations", "promocode_id"), ("optimove_code_files", "promocode_id")
        ),
    )
    remove_added_by(
        conn,
        OPTIMOVE_PROMOTIONS,
        run_id,
        account_id=account_id,
        only_if="t.promocode_count = 0",
        orphan_if=_none_in(
            ("optimove_promocodes", "promotion_id"), ("optimove_allocations", "promotion_id")
        ),
    )
    return removed


# A program's codes (t: the program), for programs an import removed earlier created.
_PROGRAM_CODES = {
    "altcraft_programs": "altcraft_codes c WHERE c.account_id = t.account_id "
    "AND c.loyalty_id = t.loyalty_id",
    "impact_programs": "impact_codes c WHERE c.account_id = t.account_id "
    "AND c.campaign_id = t.campaign_id",
}


def _remove_empty_parents(
    conn: sqlite3.Connection, table: str, account_id: int, run_id: int
) -> int:
    """A program the import created (e.g. "? alt-codes" for a file without its program) goes
    with it once it holds no codes; so does one an import removed earlier created and that
    has no code at all left (its codes had been handed to this one). One whose codes are only
    gone at the vendor stays, with them."""
    return int(
        conn.execute(
            f"DELETE FROM {table} AS t WHERE t.account_id = ? AND t.code_count <= 0 AND "
            f"(t.added_run = ? OR ({REMOVED_RUN.format(column='t.added_run')} "
            f"AND NOT EXISTS (SELECT 1 FROM {_PROGRAM_CODES[table]})))",
            (account_id, run_id),
        ).rowcount
    )
