"""Workspaces as a new user meets them: the Demo apart from their own work, a new workspace,
a file that went missing, the loyalty program an Altcraft export does not name."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from promodesk.domain.vendors import Vendor
from promodesk.qt import QDialog, QFileDialog, QMessageBox, QPushButton, Qt
from promodesk.services.paths import default_workspace
from promodesk.ui.main_window import MainWindow
from tests.helpers import allocation_rows, write_allocations
from tests.ui.conftest import wait_job
from tests.ui.test_main_window import counts, drop_files, show_panel
from tests.unit.test_cli import promodesk


def button(box: QMessageBox | QDialog, name: str) -> QPushButton:
    found = box.findChild(QPushButton, name)
    assert found is not None, f"no button {name!r}"
    return found


def question(qtbot: Any, owner: Any) -> Any:
    qtbot.waitUntil(
        lambda: owner.question is not None and owner.question.isVisible(), timeout=10_000
    )
    return owner.question


def test_new_workspace_from_the_file_menu(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    window.new_workspace_action.trigger()
    dialog = window.findChild(QFileDialog, "newWorkspaceDialog")
    assert dialog is not None and dialog.isVisible()
    target = tmp_path / "Client B.promodesk"
    with qtbot.waitSignal(window.workspace_opened, timeout=30_000):
        dialog.fileSelected.emit(str(target))
        dialog.close()
    assert window.session is not None and window.session.path == target
    assert window.windowTitle() == "Client B — promodesk"
    assert counts(target) == dict.fromkeys(counts(target), 0)
    codes = show_panel(window, Vendor.IMPACT).codes
    qtbot.waitUntil(lambda: codes.empty_label.isVisible(), timeout=10_000)
    # An existing name is refused, never replaced: a workspace holds the user's data.
    job = wait_job(qtbot, window.workspaces.create(target.with_name("Client B.promodesk")))
    assert isinstance(job.error, FileExistsError)
    assert "already exists" in window.message_bar.text.text()


def test_a_first_import_into_the_demo_offers_the_users_own_workspace_shared_with_the_cli(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    window.importing.demo_confirmed = False  # as a new user: nothing answered yet
    demo = window.session.path
    before = counts(demo)
    export = write_allocations(tmp_path / "mine.csv", allocation_rows(40, promocode="pc-mine"))
    drop_files(window, [export])
    box = question(qtbot, window.importing)
    assert box.objectName() == "demoImportQuestion"
    assert "Demo" in box.text()
    with qtbot.waitSignal(window.imported, timeout=30_000):
        qtbot.mouseClick(button(box, "importIntoMine"), Qt.MouseButton.LeftButton)
    mine = default_workspace()
    assert window.session.path == mine and mine.exists()
    assert counts(mine)["optimove_allocations"] == 40
    assert counts(demo) == before  # the Demo stays the sample it was
    assert window.windowTitle() == f"{mine.stem} — promodesk"
    # The command line, without --workspace, imports into that same workspace.
    more = write_allocations(tmp_path / "more.csv", allocation_rows(5, start=100))
    done = promodesk("import", str(more))
    assert done.returncode == 0, done.stderr
    assert str(mine) in done.stderr
    assert counts(mine)["optimove_allocations"] == 45


def test_the_demo_question_can_import_into_the_demo_or_cancel(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    window.importing.demo_confirmed = False
    demo = window.session.path
    export = write_allocations(tmp_path / "x.csv", allocation_rows(3, promocode="pc-x"))
    job = window.import_paths([export])
    box = question(qtbot, window.importing)
    box.reject()  # Cancel / Esc
    wait_job(qtbot, job)
    assert counts(demo)["optimove_allocations"] == 20_000
    assert window.message_bar.text.text() == "Nothing was imported."
    job = window.import_paths([export])
    box = question(qtbot, window.importing)
    qtbot.mouseClick(button(box, "importIntoDemo"), Qt.MouseButton.LeftButton)
    wait_job(qtbot, job)
    assert counts(demo)["optimove_allocations"] == 20_003
    assert window.session.path == demo


def test_a_missing_workspace_file_gets_a_message_and_a_choice(
    qtbot: Any, windows: Any, tmp_path: Path, demo_copy: Path
) -> None:
    gone = tmp_path / "Moved away.promodesk"
    main = windows()
    main.settings.setValue("workspace/last", str(gone))
    main.show()
    assert main.start(None) is None
    box = question(qtbot, main.workspaces)
    assert box.objectName() == "missingWorkspace"
    assert "“Moved away” is not where it was" in box.text()
    assert str(gone) in box.informativeText()
    # No workspace is open yet, so the choices do not include staying without one.
    assert {b.text() for b in box.buttons()} == {"Find it…", "New workspace…", "Open the Demo"}
    with qtbot.waitSignal(main.workspace_opened, timeout=60_000):
        qtbot.mouseClick(button(box, "openDemo"), Qt.MouseButton.LeftButton)
    assert main.session is not None and main.session.info.label == "Demo"
    # With a workspace open, the file going missing later offers to stay in it.
    assert main.open_workspace(gone) is None
    box = question(qtbot, main.workspaces)
    assert "Stay in Demo" in {b.text() for b in box.buttons()}
    qtbot.mouseClick(button(box, "findWorkspace"), Qt.MouseButton.LeftButton)
    finder = main.findChild(QFileDialog, "openWorkspaceDialog")
    assert finder is not None and finder.isVisible()
    with qtbot.waitSignal(main.workspace_opened, timeout=30_000):
        finder.fileSelected.emit(str(demo_copy))
        finder.close()
    assert main.session.path == demo_copy


def test_an_import_while_the_workspace_opens_waits_for_it(
    qtbot: Any, windows: Any, demo_copy: Path, tmp_path: Path
) -> None:
    main = windows()
    main.show()
    main.importing.demo_confirmed = True
    export = write_allocations(tmp_path / "early.csv", allocation_rows(9, promocode="pc-early"))
    main.open_workspace(demo_copy)
    assert main.session is None
    with qtbot.waitSignal(main.imported, timeout=30_000) as imported:
        main.import_paths([export])
    assert imported.args[0].summaries == ["early.csv: 9 new allocations"]
    assert counts(demo_copy)["optimove_allocations"] == 20_009
    assert "Wait" not in main.message_bar.text.text()


def altcraft_export(path: Path, codes: list[str]) -> Path:
    path.write_text(json.dumps({"error": 0, "data": [{"code": code} for code in codes]}))
    return path


def test_an_altcraft_export_without_its_program_asks_for_it(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    unnamed = altcraft_export(tmp_path / "codes from monday.json", ["MON-1", "MON-2", "MON-3"])
    named = altcraft_export(tmp_path / "loyalty-8 extra.json", ["EXTRA-1"])
    job = window.import_paths([unnamed, named])
    dialog = question(qtbot, window.importing)
    assert dialog.objectName() == "loyaltyProgramDialog"
    import_button = button(dialog, "importWithProgram")
    assert not import_button.isEnabled()  # nothing typed yet
    program = dialog.program
    assert [program.itemText(i) for i in range(program.count())] == ["5", "8"]  # known ones
    qtbot.keyClicks(program.lineEdit(), "x7")  # letters are not a program ID
    assert program.currentText() == "7"
    qtbot.mouseClick(import_button, Qt.MouseButton.LeftButton)
    wait_job(qtbot, job)
    assert job.error is None and not job.cancelled
    conn = sqlite3.connect(window.session.path)
    placed = dict(
        conn.execute(
            "SELECT code, loyalty_id FROM altcraft_codes WHERE code LIKE 'MON-%' "
            "OR code = 'EXTRA-1'"
        ).fetchall()
    )
    unknown = conn.execute(
        "SELECT count(*) FROM altcraft_programs WHERE loyalty_id LIKE '?%'"
    ).fetchone()[0]
    conn.close()
    assert placed == {"MON-1": "7", "MON-2": "7", "MON-3": "7", "EXTRA-1": "8"}
    assert unknown == 0
    # Leaving the file out imports nothing of it, and says so.
    other = altcraft_export(tmp_path / "tuesday.json", ["TUE-1"])
    job = window.import_paths([other])
    dialog = question(qtbot, window.importing)
    qtbot.mouseClick(button(dialog, "skipFile"), Qt.MouseButton.LeftButton)
    wait_job(qtbot, job)
    assert window.message_bar.text.text() == "Nothing was imported."
    assert "tuesday.json: left out (no loyalty program was given)" in (
        window.message_bar.details.toPlainText()
    )
