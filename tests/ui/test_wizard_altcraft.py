"""Create ▸ Add codes to an Altcraft program…, driven page by page against the Altcraft sandbox:
typed codes checked (a code the workspace has is left out, spaces are trimmed), then imported
with a result per code; codes from a dropped file and generated ones; a code file checked for
Altcraft handed on to this wizard."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promodesk.qt import Qt, QWizard
from promodesk.store.db import connect
from promodesk.ui.main_window import MainWindow
from promodesk.ui.wizards.altcraft import CODES_PAGE, REVIEW_PAGE, RUN_PAGE, AltcraftWizard
from promodesk.ui.wizards.code_files import DONE_PAGE, CodeFileWizard
from tests.ui.wizard_support import (
    Sandbox,
    drop_on,
    next_page,
    opened,
    press,
    sandbox_fixture,
    type_text,
    wait_for,
    wait_idle,
)

LEFT = Qt.MouseButton.LeftButton
IN_DEMO = "LOY5-ASFY8M"  # in the demo workspace's Altcraft export


@pytest.fixture
def sandbox(qtbot: Any, window: MainWindow) -> Iterator[Sandbox]:
    yield from sandbox_fixture(qtbot, window)


def open_wizard(qtbot: Any, window: MainWindow) -> AltcraftWizard:
    wizard = opened(qtbot, window, window.create_menu.actions()[1].trigger)
    assert isinstance(wizard, AltcraftWizard)
    wait_for(qtbot, lambda: wizard.program_page.accounts.ready)
    return wizard


def type_lines(qtbot: Any, edit: Any, lines: list[str]) -> None:
    edit.setFocus()
    for line in lines:
        qtbot.keyClicks(edit, line)
        qtbot.keyClick(edit, Qt.Key.Key_Return)


def stored_codes(window: MainWindow) -> set[str]:
    conn = connect(window.session.path, readonly=True)
    try:
        return {
            code
            for (code,) in conn.execute(
                "SELECT c.code FROM altcraft_codes c JOIN accounts a ON a.id = c.account_id "
                "WHERE a.key = 'sandbox-altcraft'"
            )
        }
    finally:
        conn.close()


def test_typed_codes_are_checked_then_added_with_a_result_for_each(
    qtbot: Any, window: MainWindow, sandbox: Sandbox, qtmodeltester: Any
) -> None:
    program = sandbox.altcraft.state.programs[5]
    program.limit = len(program.codes) + 2
    wizard = open_wizard(qtbot, window)
    assert "5, the account's program" in wizard.program_page.program.lineEdit().placeholderText()
    next_page(qtbot, wizard)
    assert wizard.currentId() == CODES_PAGE
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    type_lines(
        qtbot,
        wizard.codes_page.text,
        ["NEW-A", "LOY5-0001", "NEW-B", "", "NEW-C", IN_DEMO, " NEW-D "],
    )
    assert wizard.codes_page.counted.text().startswith("6 codes")
    next_page(qtbot, wizard)
    assert wizard.currentId() == REVIEW_PAGE
    wait_idle(qtbot, wizard)
    review = wizard.review_page
    assert review.summary.text().startswith(
        "5 codes will be added to loyalty program 5 (the account's)."
    )
    assert "are left out" in review.summary.text()
    assert "already in the workspace" in review.view.summary.text()
    assert wizard.codes == ["NEW-A", "LOY5-0001", "NEW-B", "NEW-C", "NEW-D"]
    assert set(program.codes).isdisjoint({"NEW-A", "NEW-B"})  # nothing sent yet
    assert wizard.button(QWizard.WizardButton.CommitButton).text() == "Add codes"

    next_page(qtbot, wizard)
    assert wizard.currentId() == RUN_PAGE
    wait_idle(qtbot, wizard)
    model = wizard.run_page.model
    qtmodeltester.check(model)
    results = dict(zip(model.column(0), model.column(1), strict=True))
    assert results == {
        "NEW-A": "Added",
        "LOY5-0001": "Already in the program",
        "NEW-B": "Added",
        "NEW-C": "Not added: the program's limit is reached",
        "NEW-D": "Not added: the program's limit is reached",
    }
    assert wizard.run_page.summary.text() == (
        "2 added, 1 already in the program, 2 over the program's limit."
    )
    assert {"NEW-A", "NEW-B"} <= set(program.codes) and "NEW-C" not in program.codes
    assert IN_DEMO not in program.codes
    assert {"NEW-A", "NEW-B", "LOY5-0001"} <= stored_codes(window)
    press(qtbot, wizard, QWizard.WizardButton.FinishButton)


def test_codes_from_a_dropped_file_and_generated_ones(
    qtbot: Any, window: MainWindow, sandbox: Sandbox, tmp_path: Path
) -> None:
    listed = tmp_path / "loyalty.txt"
    listed.write_text("FILE-1\nFILE-2\n")
    wizard = open_wizard(qtbot, window)
    type_text(qtbot, wizard.program_page.program.lineEdit(), "8")
    next_page(qtbot, wizard)
    page = wizard.codes_page
    drop_on(page.text.viewport(), [listed])
    wait_idle(qtbot, wizard)
    assert page.codes() == ["FILE-1", "FILE-2"]
    qtbot.mouseClick(page.show_generator, LEFT)
    assert page.generator.isVisible()
    page.count.setValue(25)
    type_text(qtbot, page.prefix, "GEN-")
    qtbot.mouseClick(page.generate_button, LEFT)
    wait_idle(qtbot, wizard)
    codes = page.codes()
    assert codes[:2] == ["FILE-1", "FILE-2"] and len(codes) == 27
    assert all(code.startswith("GEN-") for code in codes[2:])
    next_page(qtbot, wizard)
    wait_idle(qtbot, wizard)
    assert wizard.review_page.summary.text().startswith(
        "27 codes will be added to loyalty program 8."
    )
    next_page(qtbot, wizard)
    wait_idle(qtbot, wizard)
    program = sandbox.altcraft.state.programs[8]
    assert set(codes) <= set(program.codes)
    assert wizard.run_page.summary.text() == "27 added."


def test_a_code_file_checked_for_altcraft_continues_into_this_wizard(
    qtbot: Any, window: MainWindow, sandbox: Sandbox, tmp_path: Path
) -> None:
    source = tmp_path / "loyalty.csv"
    source.write_text("ALT-1\nALT-1\nALT-2\n")
    files = opened(qtbot, window, window.create_menu.actions()[3].trigger)
    assert isinstance(files, CodeFileWizard)
    files.source_page.vendor.setCurrentIndex(files.source_page.vendor.findData("altcraft"))
    files.source_page.files.add([source])
    next_page(qtbot, files)
    wait_idle(qtbot, files)
    next_page(qtbot, files)
    press(qtbot, files, QWizard.WizardButton.NextButton)  # writes the fixed file
    wait_for(qtbot, lambda: files.currentId() == DONE_PAGE)
    assert "loyalty-fixed.csv: 2 codes, ready for Altcraft" in files.done_page.summary.text()
    wizard = opened(qtbot, window, lambda: qtbot.mouseClick(files.done_page.altcraft_button, LEFT))
    assert isinstance(wizard, AltcraftWizard)
    wait_for(qtbot, lambda: wizard.codes_page.codes() == ["ALT-1", "ALT-2"])
