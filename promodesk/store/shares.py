"""Rows two imports share (`import_shares`, schema 6): an import that finds a row an earlier
import brought (a later export of the same codes) says so, and removing the earlier import
then hands the row to the later one rather than deleting it from under it.

Imports find such rows three ways: the record writer's merge (store/writes.py), a bulk load's
dedupe (store/bulk.py), and an INSERT's conflict clause (`sharing_conflicts`)."""

from __future__ import annotations

import sqlite3
from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from promodesk.store.schema import SHARED_TABLES


@contextmanager
def sharing_conflicts(
    conn: sqlite3.Connection, table: str, key: Sequence[str], run_id: int
) -> Iterator[str]:
    """Inside a transaction: yields the end of an INSERT of import `run_id`'s rows into
    `table` (unique on `key`): a row the key refuses leaves the one there as it is (as DO
    NOTHING would; not INSERT OR IGNORE, which would also skip rows that break NOT NULL), and
    those another run brought are listed as shared once the INSERT is done."""
    # Each refused row is shown to a function in the upsert's WHERE, which then says no: the
    # row there is not rewritten (a no-op update rewrote a million rows in 7 s).
    shared = array("q")  # (8 bytes a row: a million shared rows are 8 MB)

    def seen_again(row_id: int, added_run: int) -> int:
        if added_run != run_id:  # (not a row the import itself sent twice)
            shared.append(row_id)
        return 0

    conn.create_function("promodesk_seen_again", 2, seen_again)
    try:
        yield (
            f" ON CONFLICT({', '.join(key)}) DO UPDATE SET added_run = added_run "
            "WHERE promodesk_seen_again(id, added_run)"
        )
        table_no = SHARED_TABLES[table]
        conn.executemany(
            "INSERT OR IGNORE INTO import_shares(table_no, row_id, run_id) VALUES (?, ?, ?)",
            ((table_no, row_id, run_id) for row_id in shared),
        )
    finally:
        conn.create_function("promodesk_seen_again", 2, None)


def hand_to_later_imports(conn: sqlite3.Connection, table: str, run_id: int) -> Counter[int]:
    """Before the rows `run_id` added to `table` are removed (removing an import): the ones
    another import still in the workspace also had stay, as added by the earliest of those.
    Returns how many each of those imports was handed."""
    handed = conn.execute(
        f"UPDATE main.{table} AS t SET added_run = (SELECT min(s.run_id) FROM import_shares s "
        "WHERE s.table_no = :table AND s.row_id = t.id AND s.run_id != :run) "
        "WHERE t.added_run = :run AND t.id IN (SELECT row_id FROM import_shares "
        "WHERE table_no = :table AND run_id != :run) RETURNING added_run",
        {"table": SHARED_TABLES[table], "run": run_id},
    )
    return Counter(run for (run,) in handed)


def forget_shared(conn: sqlite3.Connection, table: str, ids_sql: str, *params: Any) -> None:
    """Rows being deleted: an id a new row reuses must not inherit what an import had of the
    old one."""
    if table in SHARED_TABLES:
        conn.execute(
            f"DELETE FROM import_shares WHERE table_no = ? AND row_id IN ({ids_sql})",
            (SHARED_TABLES[table], *params),
        )
