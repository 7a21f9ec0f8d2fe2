"""Create ▸ Export allocations…, driven page by page: from the workspace by promocode and by code
file (nine columns, cells safe for spreadsheets, an optional BOM, written atomically), from the
live sandbox account through the executor, and a refused export that leaves no file."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promodesk.domain.records import ALLOCATION_COLUMNS
from promodesk.qt import QWizard
from promodesk.store.db import connect
from promodesk.ui.main_window import MainWindow
from promodesk.ui.wizards.allocations import RUN_PAGE, SAVE_PAGE, AllocationExportWizard
from tests.helpers import allocation_rows, write_allocations
from tests.ui.wizard_support import (
    Sandbox,
    next_page,
    opened,
    sandbox_fixture,
    type_text,
    wait_for,
    wait_idle,
)


@pytest.fixture
def sandbox(qtbot: Any, window: MainWindow) -> Iterator[Sandbox]:
    yield from sandbox_fixture(qtbot, window)


def open_wizard(qtbot: Any, window: MainWindow) -> AllocationExportWizard:
    wizard = opened(qtbot, window, window.create_menu.actions()[4].trigger)
    assert isinstance(wizard, AllocationExportWizard)
    wait_for(qtbot, lambda: wizard.scope_page.promocode.count() > 0)
    return wizard


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def export(qtbot: Any, wizard: AllocationExportWizard, target: Path) -> None:
    next_page(qtbot, wizard)
    assert wizard.currentId() == SAVE_PAGE
    type_text(qtbot, wizard.save_page.target.edit, str(target))
    assert wizard.button(QWizard.WizardButton.CommitButton).text() == "Export"
    next_page(qtbot, wizard)
    assert wizard.currentId() == RUN_PAGE
    wait_idle(qtbot, wizard)


def test_a_promocode_from_the_workspace_with_cells_safe_for_spreadsheets(
    qtbot: Any, window: MainWindow, sandbox: Sandbox, tmp_path: Path
) -> None:
    rows = allocation_rows(5, promocode="pc-risky", file_id="f-risky")
    rows[0][0] = '=HYPERLINK("http://evil")'
    rows[1][4] = "+CMD-1"
    source = write_allocations(tmp_path / "risky.csv", rows)
    with qtbot.waitSignal(window.imported, timeout=30_000):
        window.import_paths([source])
    wizard = open_wizard(qtbot, window)
    scope = wizard.scope_page
    items = [scope.promocode.itemText(n) for n in range(scope.promocode.count())]
    assert {"pc-risky", "pc-summer-sale"} <= set(items)
    type_text(qtbot, scope.promocode.lineEdit(), "pc-risky")
    wait_for(
        qtbot,
        lambda: scope.described.text() == "5 allocations of promocode pc-risky in this workspace.",
    )
    target = tmp_path / "out" / "risky-allocations.csv"
    target.parent.mkdir()
    wizard.save_page.bom.setChecked(True)
    export(qtbot, wizard, target)
    assert wizard.rows == 5
    assert wizard.run_page.summary.text() == f"Saved 5 allocations to {target}."
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")
    table = read_csv(target)
    assert table[0] == ["\ufeffcustomerId", *ALLOCATION_COLUMNS[1:]]
    assert table[1][0] == '\'=HYPERLINK("http://evil")'
    assert table[2][4] == "'+CMD-1"
    assert [p.name for p in target.parent.iterdir()] == ["risky-allocations.csv"]  # no temp


def test_one_code_file_of_a_promocode(
    qtbot: Any, window: MainWindow, sandbox: Sandbox, tmp_path: Path
) -> None:
    wizard = open_wizard(qtbot, window)
    scope = wizard.scope_page
    type_text(qtbot, scope.promocode.lineEdit(), "pc-summer-sale")
    scope.one_file.click()
    wait_for(qtbot, lambda: scope.file.count() == 1)
    assert scope.file.currentText() == "f-sums-01"
    wait_for(qtbot, lambda: scope.described.text().startswith("7,000 allocations of code file"))
    target = tmp_path / "summer.csv"
    export(qtbot, wizard, target)
    table = read_csv(target)
    assert table[0] == list(ALLOCATION_COLUMNS)
    assert len(table) == 7_001 and {row[3] for row in table[1:]} == {"f-sums-01"}


def test_the_live_account_through_the_executor_and_a_refusal_that_writes_nothing(
    qtbot: Any, window: MainWindow, sandbox: Sandbox, tmp_path: Path
) -> None:
    state = sandbox.optimove.state
    for number in range(30):
        state.allocate(state.promocodes["pc-spring-welcome"], f"cust{number}", 42)
    wizard = open_wizard(qtbot, window)
    scope = wizard.scope_page
    scope.live.click()
    wait_for(qtbot, lambda: scope.accounts.isEnabled() and scope.accounts.account() is not None)
    type_text(qtbot, scope.promocode.lineEdit(), "pc-spring-welcome")
    out = tmp_path / "exports"
    out.mkdir()
    target = out / "live.csv"
    export(qtbot, wizard, target)
    assert wizard.rows == 30
    table = read_csv(target)
    assert table[0] == list(ALLOCATION_COLUMNS) and len(table) == 31
    assert {row[0] for row in table[1:]} == {f"cust{n}" for n in range(30)}
    conn = connect(window.session.path, readonly=True)
    try:
        runs = conn.execute("SELECT title, status FROM runs WHERE kind = 'operation'").fetchall()
    finally:
        conn.close()
    assert runs == [("Export allocations…", "done")]
    wizard.accept()

    refused = open_wizard(qtbot, window)
    refused.scope_page.live.click()
    wait_for(qtbot, lambda: refused.scope_page.accounts.account() is not None)
    type_text(qtbot, refused.scope_page.promocode.lineEdit(), "pc-nowhere")
    missing = out / "missing.csv"
    export(qtbot, refused, missing)
    assert refused.run_page.summary.text().startswith("Could not export: ")
    assert "Nothing was written" in refused.run_page.summary.text()
    assert not missing.exists() and sorted(p.name for p in out.iterdir()) == ["live.csv"]
