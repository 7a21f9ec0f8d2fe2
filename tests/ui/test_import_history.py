"""File ▸ Import history…: the list of imports, and removing a wrong one with its rows."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from promodesk.domain.vendors import Vendor
from promodesk.qt import QPushButton, Qt
from promodesk.ui.dialogs.import_history import HEADERS, ImportHistoryDialog, ImportHistoryModel
from promodesk.ui.main_window import MainWindow
from tests.ui.test_main_window import counts, show_panel


def rows_of(dialog: ImportHistoryDialog) -> list[list[str]]:
    model = dialog.model
    return [
        [model.data(model.index(row, column)) for column in range(len(HEADERS))]
        for row in range(model.rowCount())
    ]


def open_history(qtbot: Any, window: MainWindow) -> ImportHistoryDialog:
    window.import_history_action.trigger()
    dialog = window.import_history
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.model.rowCount() > 0, timeout=10_000)
    return dialog


def test_the_history_lists_every_import(qtbot: Any, window: MainWindow, qtmodeltester: Any) -> None:
    dialog = open_history(qtbot, window)
    qtmodeltester.check(dialog.model)
    listed = rows_of(dialog)
    assert {row[0] for row in listed} == {
        "altcraft_export_all_loyalty-5.json",
        "altcraft_export_all_loyalty-8.xml",
        "impact_promocodes_2pages.json",
        "optimove_allocations_2026-11-20.csv",
        "optimove_unique_codes_spring_batch3.csv",
    }
    allocations = next(row for row in listed if row[0].startswith("optimove_allocations"))
    assert allocations[1] == "Optimove allocation export (CSV)"
    assert allocations[3] == "20,000"
    assert allocations[5] == "20 Nov 2026 09:30"
    model = ImportHistoryModel()
    qtmodeltester.check(model)  # empty
    model.set_records(dialog.model.records[:2])


def test_a_wrong_import_is_removed_with_its_rows(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    """The issue's case: an Altcraft export imported without its loyalty program (as the
    command line does without --loyalty-id) lands as "? <file>" beside the right program."""
    export = tmp_path / "alt codes.json"
    export.write_text(json.dumps({"data": [{"code": f"DUP-{n}"} for n in range(300)]}))
    before = counts(window.session.path)
    session = window.session
    done = qtbot_run(qtbot, session.import_files([export]))
    assert done.summaries
    window.refresh()
    programs = show_panel(window, Vendor.ALTCRAFT).programs
    qtbot.waitUntil(lambda: programs.model.rowCount() == 3, timeout=10_000)

    dialog = open_history(qtbot, window)
    assert rows_of(dialog)[0][:4] == [
        "alt codes.json",
        "Altcraft promo codes (JSON)",
        "Imported files",
        "300",
    ]
    assert dialog.remove_button.isEnabled()
    assert "takes back the 300 rows it added" in dialog.note.text()
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    box = dialog.confirmation
    assert box is not None and box.isVisible()
    assert box.text() == "Remove the import of “alt codes.json” and the rows it added?"
    confirm = box.findChild(QPushButton, "confirmRemove")
    with qtbot.waitSignal(dialog.removed, timeout=30_000) as removed:
        qtbot.mouseClick(confirm, Qt.MouseButton.LeftButton)
    assert removed.args[0].rows_removed >= 300
    qtbot.waitUntil(lambda: len(rows_of(dialog)) == 5, timeout=10_000)
    assert "alt codes.json" not in {row[0] for row in rows_of(dialog)}
    assert "Removed alt codes.json" in dialog.note.text()
    assert counts(window.session.path) == before
    conn = sqlite3.connect(window.session.path)
    left = conn.execute("SELECT loyalty_id FROM altcraft_programs ORDER BY 1").fetchall()
    conn.close()
    assert left == [("5",), ("8",)]
    qtbot.waitUntil(lambda: programs.model.rowCount() == 2, timeout=10_000)


def test_removing_can_be_called_off(qtbot: Any, window: MainWindow) -> None:
    dialog = open_history(qtbot, window)
    before = counts(window.session.path)
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    box = dialog.confirmation
    assert box is not None
    box.reject()
    qtbot.waitUntil(lambda: dialog.confirmation is None, timeout=5_000)
    assert counts(window.session.path) == before
    assert len(rows_of(dialog)) == 5


def qtbot_run(qtbot: Any, coroutine: Any) -> Any:
    import asyncio

    task = asyncio.ensure_future(coroutine)
    qtbot.waitUntil(task.done, timeout=30_000)
    return task.result()


def test_nothing_to_show_without_a_workspace(windows: Any) -> None:
    main = windows()
    assert main.show_import_history() is None
    assert not main.import_history_action.isEnabled() or main.import_history is None


def test_the_note_after_a_removal_says_which_rows_stayed() -> None:
    from promodesk.store.imports import RemovalResult
    from promodesk.ui.dialogs.import_history import removal_note

    assert removal_note(RemovalResult(3, "a.json")) == "Removed a.json and the 3 rows it added."
    assert removal_note(RemovalResult(1, "a.json", rows_kept=25)) == (
        "Removed a.json and the 1 row it added. 25 rows it had added stayed: the vendor has "
        "confirmed them since, in a refresh or an operation."
    )
    assert removal_note(RemovalResult(0, "mon.csv", rows_shared=1)) == (
        "Removed the import of mon.csv; no row went with it. 1 row it had added stayed: a "
        "later import has it too."
    )


def test_an_empty_history_says_how_to_import(qtbot: Any, empty_window: MainWindow) -> None:
    window = empty_window
    window.import_history_action.trigger()
    dialog = window.import_history
    assert dialog is not None
    qtbot.waitUntil(dialog.empty.isVisible, timeout=10_000)
    assert not dialog.view.isVisible()
    assert "Open saved export" in dialog.empty.text()
    assert dialog.note.text() == "" and not dialog.remove_button.isEnabled()
