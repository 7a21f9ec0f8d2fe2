"""Copying and exporting rows like a user: keys on a focused table, menus, the file dialog."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from promodesk.codefiles.spreadsheet import FORMULA_STARTS
from promodesk.domain.vendors import Vendor
from promodesk.qt import (
    QFileDialog,
    QGuiApplication,
    QItemSelection,
    QItemSelectionModel,
    Qt,
)
from promodesk.services import row_export
from promodesk.ui.main_window import MainWindow
from promodesk.ui.models.store_table import StoreTableModel
from tests.helpers import allocation_rows, write_allocations
from tests.ui.conftest import wait_job
from tests.ui.test_main_window import activate, drop_files, search, show_panel

FORMULAS = ['=HYPERLINK("http://evil.example","open me")', "+cmd|' /C calc'!A0", "@SUM(1+1)"]


def press_copy(qtbot: Any, window: MainWindow, view: Any) -> None:
    """Ctrl+C as the user presses it: on the focused table of the active window."""
    activate(qtbot, window)
    view.setFocus()
    qtbot.waitUntil(view.hasFocus, timeout=5_000)
    with qtbot.waitSignal(window.row_transfer.copied, timeout=15_000):
        qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)


def clipboard_rows() -> list[list[str]]:
    text = QGuiApplication.clipboard().text()
    return list(csv.reader(text.splitlines(keepends=True), delimiter="\t"))


def test_ctrl_c_on_a_focused_table_copies_the_selected_rows(qtbot: Any, window: MainWindow) -> None:
    QGuiApplication.clipboard().clear()
    codes = show_panel(window, Vendor.IMPACT).codes
    codes.view.selectRow(0)
    qtbot.keyClick(codes.view, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(codes.view, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    press_copy(qtbot, window, codes.view)
    rows = clipboard_rows()
    assert rows[0][:3] == ["Code", "State", "Partner"]
    assert len(rows) == 4
    assert rows[1][0] == codes.model.data(codes.model.index(0, 0))
    assert window.message_bar.text.text() == "Copied 3 rows to the clipboard."
    # Ctrl+A then Ctrl+C: rows never scrolled to are read from the workspace.
    qtbot.keyClick(codes.view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    press_copy(qtbot, window, codes.view)
    assert len(clipboard_rows()) == 301
    assert window.message_bar.text.text() == "Copied 300 rows to the clipboard."
    # In the search box, Ctrl+C is the line edit's own copy.
    codes.search_box.setText("not rows")
    codes.search_box.selectAll()
    codes.search_box.setFocus()
    qtbot.keyClick(codes.search_box, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "not rows"


def test_copied_formulas_are_inert(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    rows = allocation_rows(3, promocode="pc-formula", promotion="formula-promo")
    for row, formula in zip(rows, FORMULAS, strict=True):
        row[0] = formula  # the customer id
    with qtbot.waitSignal(window.imported, timeout=30_000):
        drop_files(window, [write_allocations(tmp_path / "formulas.csv", rows)])
    allocations = window.panels[Vendor.OPTIMOVE].allocations
    search(qtbot, allocations, "CODE000000")
    assert allocations.model.rowCount() == 3
    qtbot.keyClick(allocations.view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    press_copy(qtbot, window, allocations.view)
    copied = clipboard_rows()
    at = copied[0].index("Customer ID")
    assert sorted(row[at] for row in copied[1:]) == sorted("'" + f for f in FORMULAS)
    for row in copied[1:]:
        assert not any(cell.startswith(FORMULA_STARTS) for cell in row)


def test_a_selection_bigger_than_the_clipboard_is_offered_as_an_export(
    qtbot: Any, window: MainWindow, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr(row_export, "CLIPBOARD_MAX_ROWS", 1_000)
    monkeypatch.setattr("promodesk.ui.row_transfer.CLIPBOARD_MAX_ROWS", 1_000)
    allocations = window.panels[Vendor.OPTIMOVE].allocations
    QGuiApplication.clipboard().setText("before")
    activate(qtbot, window)
    allocations.view.setFocus()
    qtbot.keyClick(allocations.view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(allocations.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    bar = window.message_bar
    assert bar.level == "warning"
    assert "20,000 rows are selected" in bar.text.text()
    assert "at most 1,000 rows" in bar.text.text() and "nothing was copied" in bar.text.text()
    assert QGuiApplication.clipboard().text() == "before"
    assert bar.action_button.isVisible() and bar.action_button.text() == "Export 20,000 rows…"
    qtbot.mouseClick(bar.action_button, Qt.MouseButton.LeftButton)
    dialog = window.findChild(QFileDialog, "exportRowsDialog")
    assert dialog is not None and dialog.isVisible()
    target = tmp_path / "all allocations.csv"
    with qtbot.waitSignal(window.row_transfer.exported, timeout=60_000) as exported:
        dialog.fileSelected.emit(str(target))
        dialog.close()
    assert exported.args == [target, 20_000]
    with target.open(encoding="utf-8-sig", newline="") as handle:
        back = list(csv.reader(handle))
    assert len(back) == 20_001 and back[0][:3] == ["Code", "Customer ID", "Allocated (UTC)"]
    assert "Exported 20,000 rows of Allocations to all allocations.csv." in bar.text.text()


def test_export_rows_from_the_menu_takes_the_selection_and_can_be_cancelled(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    codes = show_panel(window, Vendor.ALTCRAFT).codes
    codes.view.selectRow(4)
    qtbot.keyClick(codes.view, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    window.export_rows_action.trigger()
    dialog = window.findChild(QFileDialog, "exportRowsDialog")
    assert dialog is not None and dialog.windowTitle() == "Export 2 rows"
    target = tmp_path / "two.csv"
    with qtbot.waitSignal(window.row_transfer.exported, timeout=30_000):
        dialog.fileSelected.emit(str(target))
        dialog.close()
    with target.open(encoding="utf-8-sig", newline="") as handle:
        back = list(csv.reader(handle))
    shown = [codes.model.data(codes.model.index(row, 0)) for row in (4, 5)]
    assert [row[0] for row in back[1:]] == shown
    # A cancelled export writes nothing, and leaves an existing file alone.
    target.write_text("keep me\n")
    job = window.row_transfer.export("Promo codes", codes.all_rows(), codes.shown_columns(), target)
    job.cancel()
    wait_job(qtbot, job)
    assert job.cancelled and target.read_text() == "keep me\n"
    assert "Export cancelled" in window.message_bar.text.text()


def test_refreshing_a_table_with_every_row_selected_does_not_walk_the_selection(
    qtbot: Any, window: MainWindow, monkeypatch: Any
) -> None:
    """Qt's selection model expands a selection into one persistent index per cell when the
    model reorders its rows: a million selected rows froze the window for over a minute,
    asking `flags` ten million times. Counted here, not timed."""
    allocations = window.panels[Vendor.OPTIMOVE].allocations
    asked = []
    original = StoreTableModel.flags

    def counting_flags(self: StoreTableModel, index: Any) -> Any:
        asked.append(index.row())
        return original(self, index)

    monkeypatch.setattr(StoreTableModel, "flags", counting_flags)
    activate(qtbot, window)
    allocations.view.setFocus()
    qtbot.keyClick(allocations.view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    selection = allocations.view.selectionModel()
    assert selection.isSelected(allocations.model.index(19_999, 0))
    selected = allocations.selected_rows()
    assert selected is not None and selected.everything and selected.count == 20_000
    asked.clear()
    with qtbot.waitSignal(allocations.model.query_applied, timeout=10_000):
        allocations.model.refresh()  # same rows, same count: a layout change
    assert len(asked) < 2_000, f"flags() asked {len(asked):,} times"
    assert not selection.hasSelection()
    # A selection made of pieces stays pieces: two spans, not 20,000 positions.
    selection.select(
        allocations.model.index(10, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    selection.select(
        allocations.model.index(15_000, 0),
        QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
    )
    selected = allocations.selected_rows()
    assert selected is not None and selected.spans == ((10, 11), (15_000, 15_001))


class CountingModel(StoreTableModel):
    """The real model, counting the flags() Qt asks for (defined as a subclass, so that Qt's
    calls from C++ reach it)."""

    asked = 0

    def flags(self, index: Any) -> Any:
        CountingModel.asked += 1
        return super().flags(index)


def test_painting_a_big_partial_selection_does_not_walk_it(
    qtbot: Any, windows: Any, demo_copy: Path, monkeypatch: Any
) -> None:
    """With the view's selection model, the header asked for every column it painted whether
    the column was selected, and Qt walked every selected row to answer: 100,000 selected
    rows stalled every repaint for 4 s."""
    monkeypatch.setattr("promodesk.ui.panels.table_browser.StoreTableModel", CountingModel)
    main = windows()
    main.show()
    wait_job(qtbot, main.open_workspace(demo_copy))
    allocations = main.panels[Vendor.OPTIMOVE].allocations
    qtbot.waitUntil(lambda: allocations.model.rowCount() == 20_000, timeout=10_000)
    model = allocations.model
    allocations.view.selectionModel().select(
        QItemSelection(model.index(0, 0), model.index(14_999, 0)),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    CountingModel.asked = 0
    for _ in range(3):
        allocations.view.horizontalHeader().viewport().update()
        allocations.view.viewport().update()
        qtbot.wait(20)
    assert CountingModel.asked < 2_000, f"flags() asked {CountingModel.asked:,} times"
