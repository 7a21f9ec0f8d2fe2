"""Exporting and copying table rows: in SQL, chunked, cancellable, formulas made inert."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest

from promodesk.codefiles.spreadsheet import safe_cell
from promodesk.domain.jobs import CancelToken, JobCancelled, Progress
from promodesk.services.row_export import CLIPBOARD_MAX_ROWS, clipboard_text, export_csv
from promodesk.store.importers.dispatch import import_file
from promodesk.store.query import Pager, RowQuery, RowSet
from promodesk.store.tables import OPTIMOVE_ALLOCATIONS
from tests.helpers import allocation_rows, new_workspace, write_allocations

FORMULAS = ['=HYPERLINK("http://x","y")', "@SUM(1+1)", "+cmd|' /C calc'!A0", "-2+3"]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path, conn = new_workspace(tmp_path)
    rows = allocation_rows(2_000)
    for n, formula in enumerate(FORMULAS):
        rows[n][4] = formula  # the code
        rows[n + 10][0] = formula  # the customer id
    import_file(conn, write_allocations(tmp_path / "a.csv", rows))
    conn.close()
    return path


def everything(query: RowQuery, workspace: Path) -> RowSet:
    conn = sqlite3.connect(workspace)
    count = Pager(query).count(conn)
    conn.close()
    return RowSet(query, None, count)


def read_back(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_export_writes_every_row_in_the_tables_order_with_formulas_inert(
    workspace: Path, tmp_path: Path
) -> None:
    query = RowQuery(OPTIMOVE_ALLOCATIONS, sort="unique_code", descending=True)
    columns = [column for column in OPTIMOVE_ALLOCATIONS.columns if column.visible]
    target = tmp_path / "out" / "allocations.csv"
    updates: list[Progress] = []
    written = export_csv(
        workspace, everything(query, workspace), columns, target, progress=updates.append
    )
    back = read_back(target)
    assert written == 2_000 and len(back) == 2_001
    assert back[0][:3] == ["Code", "Customer ID", "Allocated (UTC)"]
    codes = [row[0] for row in back[1:]]
    conn = sqlite3.connect(workspace)
    stored = [
        code
        for (code,) in conn.execute(
            "SELECT unique_code FROM optimove_allocations ORDER BY unique_code DESC, id DESC"
        )
    ]
    conn.close()
    assert codes == [safe_cell(code) for code in stored]
    for row in back[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert {"'" + formula for formula in FORMULAS} <= {row[1] for row in back[1:]}
    assert back[1][2].endswith("Z")  # stored UTC instants, as the header says
    assert updates and updates[-1].done == 2_000 and updates[-1].fraction == 1.0


def test_export_of_a_selection_takes_only_its_spans(workspace: Path, tmp_path: Path) -> None:
    query = RowQuery(OPTIMOVE_ALLOCATIONS, sort="customer_id")
    columns = [OPTIMOVE_ALLOCATIONS.column("customer_id")]
    rows = RowSet(query, ((5, 8), (1_990, 2_000)), 13)
    target = tmp_path / "some.csv"
    assert export_csv(workspace, rows, columns, target) == 13
    conn = sqlite3.connect(workspace)
    ordered = [
        safe_cell(value)
        for (value,) in conn.execute(
            "SELECT customer_id FROM optimove_allocations ORDER BY customer_id, id"
        )
    ]
    conn.close()
    assert [row[0] for row in read_back(target)[1:]] == ordered[5:8] + ordered[1_990:]


def test_a_cancelled_export_leaves_the_target_as_it_was(workspace: Path, tmp_path: Path) -> None:
    target = tmp_path / "keep.csv"
    target.write_text("the user's own file\n")
    token = CancelToken()

    def cancel_midway(update: Progress) -> None:
        if update.done >= 1_000:
            token.cancel()

    query = RowQuery(OPTIMOVE_ALLOCATIONS)
    with pytest.raises(JobCancelled):
        export_csv(
            workspace,
            everything(query, workspace),
            list(OPTIMOVE_ALLOCATIONS.columns),
            target,
            cancel=token,
            progress=cancel_midway,
        )
    assert target.read_text() == "the user's own file\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [
            "keep.csv",
            "a.csv",
            "test.promodesk",
            *[p.name for p in tmp_path.glob("test.promodesk-*")],
        ]
    )


def test_clipboard_text_shows_what_the_table_shows_and_refuses_past_the_cap(
    workspace: Path,
) -> None:
    query = RowQuery(OPTIMOVE_ALLOCATIONS, sort="customer_id")
    columns = [
        OPTIMOVE_ALLOCATIONS.column("customer_id"),
        OPTIMOVE_ALLOCATIONS.column("unique_code"),
    ]
    text, count = clipboard_text(
        workspace, RowSet(query, ((0, 12),), 12), columns, lambda _column, value: f"<{value}>"
    )
    lines = list(csv.reader(text.splitlines(), delimiter="\t"))
    assert count == 12 and lines[0] == ["Customer ID", "Code"]
    assert all(cell.startswith("<") for line in lines[1:] for cell in line)
    # A value starting like a formula is inert however the table shows it.
    text, _ = clipboard_text(
        workspace, RowSet(query, ((0, 12),), 12), columns, lambda _column, value: value
    )
    assert "'=HYPERLINK" in text and "\t=HYPERLINK" not in text and "\n=" not in text
    with pytest.raises(ValueError, match=f"{CLIPBOARD_MAX_ROWS:,}"):
        clipboard_text(workspace, RowSet(query, None, CLIPBOARD_MAX_ROWS + 1), columns, str)
