"""Every table model through pytest-qt's modeltester, and the model's paging behaviour."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from promodesk.domain.vendors import Vendor
from promodesk.qt import Qt
from promodesk.store.db import connect, transaction
from promodesk.store.importers.base import ensure_account
from promodesk.store.importers.dispatch import import_file
from promodesk.store.reader import StoreReader
from promodesk.store.runs import start_run
from promodesk.store.tables import ALL_TABLES, OPTIMOVE_ALLOCATIONS, TableSpec
from promodesk.store.writes import OPTIMOVE_LEGACY_CODES, OPTIMOVE_LEGACY_PROMOTIONS, upsert
from promodesk.ui.models.store_table import PAGE_SIZE, StoreTableModel
from tests.conftest import DEMO_DIR
from tests.helpers import allocation_rows, new_workspace, write_allocations


@pytest.fixture
def reader(demo_copy: Path):
    store = StoreReader(demo_copy)
    yield store
    store.close()


@pytest.fixture(scope="module")
def small_workspace(tmp_path_factory: pytest.TempPathFactory, demo_master: Path) -> Path:
    """Every table with a few hundred rows: the model tester reads every cell."""
    folder = tmp_path_factory.mktemp("small")
    path, conn = new_workspace(folder)
    import_file(conn, write_allocations(folder / "alloc.csv", allocation_rows(300)))
    (folder / "codes.txt").write_text("\n".join(f"POOL{n:05d}" for n in range(300)) + "\n")
    import_file(conn, folder / "codes.txt")
    for name in ("altcraft_export_all_loyalty-5.json", "impact_promocodes_2pages.json"):
        import_file(conn, DEMO_DIR / name)
    # The legacy Optimove lists only come from a live account: written as a sync would.
    with transaction(conn):
        account = ensure_account(conn, Vendor.OPTIMOVE, key="acme", name="Acme", kind="live")
        run = start_run(conn, "sync", account_id=account)
        upsert(
            conn,
            OPTIMOVE_LEGACY_PROMOTIONS,
            account,
            [(f"LEG{n:04d}", f"Legacy promotion {n}", "listed") for n in range(300)],
            run_id=run,
            as_of="2026-11-20T09:30:00Z",
        )
        upsert(
            conn,
            OPTIMOVE_LEGACY_CODES,
            account,
            [(f"LEG{n:04d}", n, n % 5, "2026-11-20", 7, 900 + n % 3) for n in range(300)],
            run_id=run,
            as_of="2026-11-20T09:30:00Z",
        )
    conn.close()
    return path


@pytest.fixture
def small_reader(small_workspace: Path):
    store = StoreReader(small_workspace)
    yield store
    store.close()


def loaded(qtbot: Any, model: StoreTableModel) -> StoreTableModel:
    qtbot.waitUntil(lambda: not model.busy, timeout=10_000)
    return model


def show(qtbot: Any, model: StoreTableModel, query_change: Any) -> None:
    with qtbot.waitSignal(model.query_applied, timeout=10_000):
        query_change()


@pytest.mark.parametrize("spec", ALL_TABLES, ids=lambda spec: spec.name)
@pytest.mark.parametrize("state", ["plain", "sorted", "searched"])
def test_every_table_model_passes_the_model_tester(
    qtbot, qtmodeltester, qloop, small_reader, spec: TableSpec, state: str
) -> None:
    model = StoreTableModel(spec)
    show(qtbot, model, lambda: model.set_reader(small_reader))
    assert model.rowCount() > 0
    if state == "sorted":
        sortable = [n for n, column in enumerate(model.columns) if column.sortable]
        show(qtbot, model, lambda: model.sort(sortable[-1], Qt.SortOrder.DescendingOrder))
    elif state == "searched":
        # Part of a value that is there, so the search has hits to show.
        first = model.row_at(0)
        assert first is not None
        value = str(model.value(first, spec.search_columns[0]))
        show(qtbot, model, lambda: model.search(value[1:4] or value))
    assert model.rowCount() > 0
    # One check per model: the tester keeps watching, so the resets below are checked too.
    qtmodeltester.check(model, force_py=True)
    show(qtbot, model, lambda: model.search("no such code anywhere"))
    assert model.rowCount() == 0
    show(qtbot, model, lambda: model.search(""))
    assert model.rowCount() > 0


def test_rows_arrive_page_by_page_and_match_sql(qtbot, qloop, reader, demo_copy: Path) -> None:
    model = StoreTableModel(OPTIMOVE_ALLOCATIONS)
    show(qtbot, model, lambda: model.set_reader(reader))
    assert model.rowCount() == 20_000
    # Newest first by default, like the panel shows them.
    conn = connect(demo_copy, readonly=True)
    expected = conn.execute(
        "SELECT unique_code FROM optimove_allocations ORDER BY allocated_at DESC, id DESC"
    ).fetchall()
    conn.close()
    code_column = [column.name for column in model.columns].index("unique_code")
    assert model.data(model.index(0, code_column)) == expected[0][0]
    last = model.rowCount() - 1
    assert model.data(model.index(last, code_column)) is None  # not loaded yet: no blocking read
    with qtbot.waitSignal(model.page_loaded, timeout=10_000):
        pass
    assert model.data(model.index(last, code_column)) == expected[last][0]
    middle = 7 * PAGE_SIZE + 3
    model.data(model.index(middle, code_column))
    qtbot.waitUntil(
        lambda: model.data(model.index(middle, code_column)) is not None, timeout=10_000
    )
    assert model.data(model.index(middle, code_column)) == expected[middle][0]


def test_a_new_query_replaces_an_unfinished_one(qtbot, qloop, reader) -> None:
    model = StoreTableModel(OPTIMOVE_ALLOCATIONS)
    show(qtbot, model, lambda: model.set_reader(reader))
    applied: list[int] = []
    model.query_applied.connect(lambda: applied.append(model.rowCount()))
    model.search("SUMS")
    model.search("SUMS-Z")
    model.search("SPRW-22")
    qtbot.waitUntil(lambda: not model.busy, timeout=10_000)
    qtbot.wait(100)
    assert model.query.search == "SPRW-22"
    assert applied[-1] == model.rowCount()
    codes = {model.data(model.index(row, 0)) for row in range(model.rowCount())}
    assert codes and all("SPRW-22" in code for code in codes)


def test_read_errors_are_reported_not_raised(qtbot, qloop, tmp_path: Path, demo_copy: Path) -> None:
    model = StoreTableModel(OPTIMOVE_ALLOCATIONS)
    store = StoreReader(demo_copy)
    show(qtbot, model, lambda: model.set_reader(store))
    conn = sqlite3.connect(demo_copy)
    conn.execute("DROP TABLE fts_optimove_allocations")
    conn.execute("DROP TABLE optimove_allocations")
    conn.close()
    with qtbot.waitSignal(model.failed, timeout=10_000) as blocker:
        model.search("zzz")
    assert "Could not read the workspace" in blocker.args[0]
    store.close()
