"""What changed between two snapshots (store/changes.py), on a workspace written through the
real importers and the one writer, whose history is known: additions, removals, state
changes, codes that came back, and a date and now."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promodesk.domain.records import ImpactPromoCodeRecord
from promodesk.domain.vendors import Vendor
from promodesk.store.changes import (
    WHAT_CHANGED,
    RunRange,
    changed_rows,
    compute_changes,
    latest_ranges,
    run_at,
    since_ranges,
    snapshots,
)
from promodesk.store.db import connect, transaction
from promodesk.store.importers.base import ImportHints, SourceRef
from promodesk.store.importers.dispatch import import_file
from promodesk.store.query import Pager, RowQuery
from promodesk.store.records import impact_row, optimove_code_file_row
from promodesk.store.runs import start_run
from promodesk.store.writes import (
    IMPACT_CODES,
    OPTIMOVE_CODE_FILES,
    OPTIMOVE_PROMOCODES,
    Staging,
    update_fields,
)
from tests.helpers import (
    allocation_rows,
    impact_code,
    impact_page,
    new_workspace,
    write_allocations,
    write_json,
)

AS_OF = "2099-01-01T00:00:00Z"  # newer than any file's own date, so every write is taken
SHOP = SourceRef(Vendor.IMPACT, key="acc-impact", name="Shop impact")


def impact(n: int, **fields: object) -> tuple[Any, ...]:
    return impact_row(ImpactPromoCodeRecord.model_validate(impact_code(n, **fields)))


class History:
    """A workspace with a known history. Runs:
    1 import impact codes 0-9 (all active) for the account "Shop impact"
    2 sync: code 3 inactive, code 10 new, codes 8 and 9 gone
    3 operation: code 4 inactive
    4 import 40 Optimove allocations (a promocode, a promotion, a code file)
    5 sync: code 8 back (active)
    6 operation: the promocode is hidden; its code file gone
    """

    def __init__(self, folder: Path) -> None:
        self.path, self.conn = new_workspace(folder)
        conn = self.conn
        import_file(
            conn,
            write_json(folder / "codes.json", impact_page([impact_code(n) for n in range(10)])),
            hints=ImportHints(source=SHOP),
        )
        self.account = conn.execute("SELECT id FROM accounts WHERE key = 'acc-impact'").fetchone()[
            0
        ]
        self.sync([impact(n, State="INACTIVE" if n == 3 else "ACTIVE") for n in (*range(8), 10)])
        self.operation(IMPACT_CODES, {"promo_code_id": 7_000_004}, {"status": "inactive"})
        import_file(conn, write_allocations(folder / "a.csv", allocation_rows(40)))
        self.optimove = conn.execute(
            "SELECT id FROM accounts WHERE vendor = 'optimove'"
        ).fetchone()[0]
        self.sync(
            [impact(n, State="INACTIVE" if n in (3, 4) else "ACTIVE") for n in (*range(9), 10)]
        )
        with transaction(conn):
            run = start_run(conn, "operation", account_id=self.optimove)
            update_fields(
                conn,
                OPTIMOVE_PROMOCODES,
                self.optimove,
                {"promocode_id": "pc-1"},
                {"hidden": 1, "state": "hidden"},
                run_id=run,
                as_of=AS_OF,
            )
            staging = Staging(conn, OPTIMOVE_CODE_FILES, self.optimove)
            staging.add([optimove_code_file_row(file_id="f-other", promocode_id="pc-1")])
            staging.write(run_id=run, as_of=AS_OF, gone_scope={"promocode_id": "pc-1"})

    def sync(self, rows: list[tuple[Any, ...]]) -> None:
        with transaction(self.conn):
            run = start_run(self.conn, "sync", account_id=self.account)
            staging = Staging(self.conn, IMPACT_CODES, self.account)
            staging.add(rows)
            staging.write(run_id=run, as_of=AS_OF, gone_scope={})
            self.conn.execute("UPDATE runs SET status = 'done' WHERE id = ?", (run,))

    def operation(self, table: Any, key: dict[str, Any], changes: dict[str, Any]) -> None:
        with transaction(self.conn):
            run = start_run(self.conn, "operation", account_id=self.account)
            update_fields(self.conn, table, self.account, key, changes, run_id=run, as_of=AS_OF)


@pytest.fixture
def history(tmp_path: Path) -> Iterator[History]:
    built = History(tmp_path)
    yield built
    built.conn.close()


def listed(conn: sqlite3.Connection, ranges: list[RunRange]) -> set[tuple[str, str, str, str]]:
    summary = compute_changes(conn, ranges)
    rows = {
        (name, change, old, new)
        for name, change, old, new in conn.execute(
            "SELECT name, change, old_state, new_state FROM temp.what_changed"
        )
    }
    assert summary.total == len(rows)
    return rows


def test_a_sync_against_the_import_before_it(history: History) -> None:
    assert listed(history.conn, [RunRange(1, 2, history.account)]) == {
        ("IMP0010", "added", "", "active"),
        ("IMP0003", "changed", "active", "inactive"),
        ("IMP0008", "removed", "active", "gone"),
        ("IMP0009", "removed", "active", "gone"),
    }


def test_later_runs_code_back_and_the_state_as_of_the_snapshot(history: History) -> None:
    conn = history.conn
    assert listed(conn, [RunRange(2, 5, history.account)]) == {
        ("IMP0004", "changed", "active", "inactive"),
        ("IMP0008", "back", "gone", "active"),
    }
    # Gone and back within the range is no change; added codes show their state as of the
    # later snapshot, not as they are now (code 4 changed after run 2).
    assert listed(conn, [RunRange(0, 2, history.account)]) == {
        *{(f"IMP000{n}", "added", "", "active") for n in (0, 1, 2, 4, 5, 6, 7)},
        ("IMP0003", "added", "", "inactive"),
        ("IMP0010", "added", "", "active"),
        ("1000", "added", "", ""),  # the program
    }
    assert listed(conn, [RunRange(1, 5, history.account)]) == {
        ("IMP0010", "added", "", "active"),
        ("IMP0003", "changed", "active", "inactive"),
        ("IMP0004", "changed", "active", "inactive"),
        ("IMP0009", "removed", "active", "gone"),
    }


def test_promotions_allocations_and_code_files_of_every_source(history: History) -> None:
    conn = history.conn
    summary = compute_changes(conn, [RunRange(3, 6)])
    assert summary.tally(codes=True) == {"added": 40, "back": 1}
    promotions = conn.execute(
        "SELECT what, name, change, old_state, new_state FROM temp.what_changed "
        "WHERE what NOT IN ('code', 'allocation') ORDER BY what, name"
    ).fetchall()
    # The promocode the allocations made is listed with its state as of run 6 (hidden);
    # their code file f-1 came and went inside the range, so it is no change at all.
    assert promotions == [
        ("code file", "f-other", "added", "", ""),
        ("promocode", "pc-1", "added", "", "hidden"),
        ("promotion", "promo-1", "added", "", ""),
    ]
    compute_changes(conn, [RunRange(4, 6)])
    assert conn.execute(
        "SELECT what, name, change, old_state, new_state FROM temp.what_changed ORDER BY what, name"
    ).fetchall() == [
        ("code", "IMP0008", "back", "gone", "active"),
        ("code file", "f-1", "removed", "", "gone"),
        ("code file", "f-other", "added", "", ""),
        ("promocode", "pc-1", "changed", "", "hidden"),
    ]


def test_each_sources_latest_snapshot_against_the_one_before(history: History) -> None:
    conn = history.conn
    by_account = {
        s.account_id: [s.run_id for s in snapshots(conn, s.account_id)] for s in snapshots(conn)
    }
    assert by_account == {history.account: [1, 2, 5], history.optimove: [4]}
    assert latest_ranges(conn) == [
        RunRange(2, 5, history.account),
        RunRange(0, 4, history.optimove),
    ]
    summary = compute_changes(conn, latest_ranges(conn))
    by_source = {(c.account_id, c.change) for c in summary.counts}
    assert (history.account, "changed") in by_source and (history.optimove, "added") in by_source
    assert summary.tally(codes=True) == {"changed": 1, "back": 1, "added": 40}


def test_a_date_and_now(history: History) -> None:
    conn = history.conn
    conn.execute("UPDATE runs SET started_at = '2026-11-0' || id || 'T10:00:00Z'")
    assert run_at(conn, "2026-11-03T00:00:00Z") == 2
    assert run_at(conn, "2020-01-01T00:00:00Z") == 0
    assert since_ranges(conn, "2026-11-03") == [RunRange(2, 6)]
    # An offset is honoured: 2026-11-03T12:00+03:00 is 09:00 UTC, before run 3 started.
    assert since_ranges(conn, "2026-11-03T12:00:00+03:00") == [RunRange(2, 6)]
    assert since_ranges(conn, "2026-11-03T14:00:00+03:00") == [RunRange(3, 6)]


def test_pages_and_export_of_the_list(history: History) -> None:
    conn = history.conn
    compute_changes(conn, [RunRange(1, 5, history.account)])
    pager = Pager(RowQuery(WHAT_CHANGED, equals=(("change", "changed"),)))
    assert pager.count(conn) == 2
    names = WHAT_CHANGED.column_names
    assert [row[names.index("name")] for row in pager.fetch(conn, 0, 10)] == [
        "IMP0003",
        "IMP0004",
    ]
    exported = list(changed_rows(conn))
    assert (
        "Shop impact",
        "impact",
        "code",
        "IMP0009",
        "Acme Campaign",
        "removed",
        "active",
        "gone",
    ) in exported
    assert len(exported) == 4


def test_a_read_only_connection_can_compare(history: History) -> None:
    reader = connect(history.path, readonly=True)
    try:
        assert compute_changes(reader, [RunRange(1, 2)]).total == 4
    finally:
        reader.close()
