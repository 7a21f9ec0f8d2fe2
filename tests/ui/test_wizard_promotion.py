"""Create ▸ New promotion with code…, driven page by page against the Optimove sandbox: a global
code, a unique one continuing into the code files, a failure after the promotion was made,
retried in the wizard and resumed after the window was closed, never making a second
promotion or promocode."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promodesk.qt import QApplication, QWizard
from promodesk.store.db import connect
from promodesk.ui.main_window import MainWindow
from promodesk.ui.wizards.promotion import CODE_PAGE, REVIEW_PAGE, RUN_PAGE, PromotionWizard
from tests.ui.conftest import close_window, wait_job
from tests.ui.wizard_support import (
    Sandbox,
    next_page,
    opened,
    press,
    sandbox_fixture,
    type_text,
    wait_for,
    wait_idle,
)


@pytest.fixture
def sandbox(qtbot: Any, window: MainWindow) -> Iterator[Sandbox]:
    yield from sandbox_fixture(qtbot, window)


def open_wizard(qtbot: Any, window: MainWindow) -> PromotionWizard:
    wizard = opened(qtbot, window, window.create_menu.actions()[0].trigger)
    assert isinstance(wizard, PromotionWizard) and wizard.isVisible()
    wait_for(qtbot, lambda: wizard.promotion_page.accounts.ready)
    return wizard


def fill_promotion(qtbot: Any, wizard: PromotionWizard, name: str, code: str) -> None:
    page = wizard.promotion_page
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()  # name, code first
    type_text(qtbot, page.name, name)
    type_text(qtbot, page.code, code)
    type_text(qtbot, page.description, "From the wizard test")
    next_page(qtbot, wizard)
    assert wizard.currentId() == CODE_PAGE


def promotions(sandbox: Sandbox, name: str) -> list[dict[str, Any]]:
    return [p for p in sandbox.optimove.state.promotions.values() if p["name"] == name]


def promocodes_of(sandbox: Sandbox, promotion_id: str) -> list[Any]:
    return [p for p in sandbox.optimove.state.promocodes.values() if p.promotion_id == promotion_id]


def rows(path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = connect(path, readonly=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def test_a_global_code_is_created_with_its_promotion(
    qtbot: Any, window: MainWindow, sandbox: Sandbox
) -> None:
    wizard = open_wizard(qtbot, window)
    assert wizard.promotion_page.accounts.currentText().startswith("Sandbox")
    fill_promotion(qtbot, wizard, "Winter sale", "WINTER26")
    code_page = wizard.code_page
    assert code_page.global_kind.isChecked()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()  # the code first
    type_text(qtbot, code_page.global_code, "WINTER10")
    next_page(qtbot, wizard)
    assert wizard.currentId() == REVIEW_PAGE
    review = wizard.review_page.summary.text()
    assert "Create the draft promotion “Winter sale” (promotion code WINTER26)" in review
    assert "every customer types WINTER10" in review
    promotion_id = wizard.planned[0].inputs["promotion_id"]
    assert promotion_id in review and promotions(sandbox, "Winter sale") == []  # not sent yet
    assert wizard.button(QWizard.WizardButton.CommitButton).text() == "Create"

    next_page(qtbot, wizard)
    assert wizard.currentId() == RUN_PAGE
    wait_idle(qtbot, wizard)
    assert wizard.plan is not None and wizard.plan.finished
    assert [text[0] for text in wizard.run_page.steps.texts()] == ["✓", "✓"]
    assert "Created the draft promotion" in wizard.run_page.summary.text()
    [promotion] = promotions(sandbox, "Winter sale")
    assert promotion["promotionId"] == promotion_id and promotion["code"] == "WINTER26"
    [promocode] = promocodes_of(sandbox, promotion_id)
    assert (promocode.type, promocode.code) == ("global", "WINTER10")
    workspace = window.session.path
    assert rows(
        workspace,
        "SELECT name, state FROM optimove_promotions WHERE promotion_id = ?",
        promotion_id,
    ) == [("Winter sale", "draft")]
    assert rows(
        workspace,
        "SELECT global_code FROM optimove_promocodes WHERE promotion_id = ?",
        promotion_id,
    ) == [("WINTER10",)]
    assert rows(workspace, "SELECT kind, status FROM runs WHERE kind = 'wizard'") == [
        ("wizard", "done")
    ]
    assert not wizard.run_page.retry_button.isVisible()
    press(qtbot, wizard, QWizard.WizardButton.FinishButton)
    assert window.wizards.open_wizards == []


def test_a_failure_after_the_promotion_is_retried_without_a_second_promotion(
    qtbot: Any, window: MainWindow, sandbox: Sandbox
) -> None:
    wizard = open_wizard(qtbot, window)
    fill_promotion(qtbot, wizard, "Spring sale", "SPRING27")
    wizard.code_page.unique_kind.click()
    wizard.code_page.varying.click()
    type_text(qtbot, wizard.code_page.fallback, "SPRING-FB")
    next_page(qtbot, wizard)
    assert "Varying allocation, fallback code SPRING-FB" in wizard.review_page.summary.text()
    # The promotion is made (POST, GET); every try of the promocode meets a 500.
    sandbox.optimove.faults.configure({"script": [None, None, *["500"] * 5]})
    next_page(qtbot, wizard)
    wait_idle(qtbot, wizard)
    plan = wizard.plan
    assert plan is not None and [s.status for s in plan.steps] == ["ok", "unknown"]
    page = wizard.run_page
    summary = page.summary.text()
    promotion_id = plan.steps[0].inputs["promotion_id"]
    assert f"The promotion {promotion_id} exists in Optimove" in summary
    assert "never makes a second" in summary
    assert page.retry_button.isVisible() and not page.change_button.isVisible()
    assert [text[0] for text in page.steps.texts()] == ["✓", "?"]
    assert promocodes_of(sandbox, promotion_id) == []

    sandbox.optimove.faults.configure({})
    qtbot.mouseClick(page.retry_button, qtbot_left())
    wait_idle(qtbot, wizard)
    assert wizard.plan is not None and wizard.plan.finished
    assert len(promotions(sandbox, "Spring sale")) == 1
    [promocode] = promocodes_of(sandbox, promotion_id)
    assert (promocode.type, promocode.allocation_method, promocode.default_code) == (
        "unique",
        "Varying",
        "SPRING-FB",
    )
    assert [s.attempts for s in wizard.plan.steps] == [1, 2]
    # A unique promocode continues into its code files.
    assert page.files_button.isVisible()
    files = opened(qtbot, window, lambda: qtbot.mouseClick(page.files_button, qtbot_left()))
    assert files.objectName() == "codeFileWizard"
    assert files.promocode_id == promocode.promocode_id
    files.reject()


def qtbot_left() -> Any:
    from promodesk.qt import Qt

    return Qt.MouseButton.LeftButton


def test_an_unfinished_promotion_resumes_after_the_window_was_closed(
    qtbot: Any, window: MainWindow, sandbox: Sandbox, windows: Any, tmp_path: Path
) -> None:
    wizard = open_wizard(qtbot, window)
    fill_promotion(qtbot, wizard, "Autumn sale", "AUTUMN26")
    type_text(qtbot, wizard.code_page.global_code, "AUTUMN5")
    next_page(qtbot, wizard)
    # The promocode's create lands, but its answer is lost and later tries meet 500s.
    sandbox.optimove.faults.configure(
        {"script": [None, None, "lost", *["500"] * 4], "slow_seconds": 2.0}
    )
    next_page(qtbot, wizard)
    wait_idle(qtbot, wizard)
    assert wizard.plan is not None
    run_id = wizard.plan.run_id
    assert [s.status for s in wizard.plan.steps] == ["ok", "unknown"]
    assert "may or may not have been created" in wizard.run_page.summary.text()
    press(qtbot, wizard, QWizard.WizardButton.FinishButton)  # closed, unfinished
    workspace = window.session.path
    close_window(qtbot, window)

    sandbox.optimove.faults.configure({})
    again = windows(tmp_path / "again")
    again.show()
    assert wait_job(qtbot, again.open_workspace(workspace)).error is None
    again.wizards.clients = sandbox.client
    # What the History view does:
    resumed = opened(qtbot, again, lambda: again.resume_requested.emit(run_id, "wizard"))
    assert isinstance(resumed, PromotionWizard) and resumed.currentId() == RUN_PAGE
    wait_for(qtbot, lambda: resumed.plan is not None and not resumed.busy)
    page = resumed.run_page
    assert [text[0] for text in page.steps.texts()] == ["✓", "?"]
    qtbot.mouseClick(page.retry_button, qtbot_left())
    wait_for(qtbot, lambda: not resumed.busy and resumed.plan.finished)
    promotion_id = resumed.plan.steps[0].inputs["promotion_id"]
    assert len(promotions(sandbox, "Autumn sale")) == 1
    [promocode] = promocodes_of(sandbox, promotion_id)
    assert (promocode.type, promocode.code) == ("global", "AUTUMN5")
    assert rows(workspace, "SELECT status FROM runs WHERE id = ?", run_id) == [("done",)]


def test_a_refused_promotion_id_can_be_changed_and_sent_again(
    qtbot: Any, window: MainWindow, sandbox: Sandbox
) -> None:
    wizard = open_wizard(qtbot, window)
    type_text(qtbot, wizard.promotion_page.promotion_id, "spring-welcome-2026")  # taken
    fill_promotion(qtbot, wizard, "Taken", "TAKEN1")
    type_text(qtbot, wizard.code_page.global_code, "TAKEN-CODE")
    next_page(qtbot, wizard)
    next_page(qtbot, wizard)
    wait_idle(qtbot, wizard)
    assert wizard.plan is not None
    assert [s.status for s in wizard.plan.steps] == ["failed", "pending"]
    assert "Nothing was created" in wizard.run_page.summary.text()
    change = wizard.run_page.change_button
    assert change.isVisible()
    qtbot.mouseClick(change, qtbot_left())
    assert wizard.currentPage() is wizard.promotion_page
    assert wizard.promotion_page.name.isEnabled()  # nothing exists: everything can change
    type_text(qtbot, wizard.promotion_page.promotion_id, "taken-mine")
    next_page(qtbot, wizard)
    next_page(qtbot, wizard)
    assert "ID taken-mine" in wizard.review_page.summary.text()
    next_page(qtbot, wizard)
    wait_idle(qtbot, wizard)
    assert wizard.plan is not None and wizard.plan.finished
    assert sandbox.optimove.state.promotions["taken-mine"]["name"] == "Taken"
    assert len(promocodes_of(sandbox, "taken-mine")) == 1
    assert rows(window.session.path, "SELECT count(*) FROM runs WHERE kind = 'wizard'") == [(1,)]


def test_keyboard_tab_enter_and_escape_that_stops_before_it_closes(
    qtbot: Any, window: MainWindow, sandbox: Sandbox
) -> None:
    from promodesk.qt import QApplication, Qt

    wizard = open_wizard(qtbot, window)
    wizard.raise_()
    wizard.activateWindow()
    qtbot.waitUntil(wizard.isActiveWindow, timeout=5_000)
    page = wizard.promotion_page
    page.name.setFocus()
    qtbot.keyClicks(page.name, "Keyboard sale")
    order = []
    for _ in range(3):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        order.append(QApplication.focusWidget())
    assert order == [page.code, page.description, page.promotion_id]
    page.code.setFocus()
    qtbot.keyClicks(page.code, "KEYS1")
    qtbot.keyClick(page.code, Qt.Key.Key_Return)  # Enter is Next
    qtbot.waitUntil(lambda: wizard.currentId() == CODE_PAGE, timeout=5_000)
    type_text(qtbot, wizard.code_page.global_code, "KEYS-10")
    qtbot.keyClick(wizard.code_page.global_code, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: wizard.currentId() == REVIEW_PAGE, timeout=5_000)

    # The promotion's create waits; Escape stops it, and the wizard stays to say so.
    sandbox.optimove.faults.configure({"script": ["slow"], "slow_seconds": 0.9})
    press(qtbot, wizard, QWizard.WizardButton.CommitButton)
    qtbot.waitUntil(lambda: sandbox.optimove.faults.injected["slow"] == 1, timeout=5_000)
    assert wizard.busy
    assert wizard.button(QWizard.WizardButton.CancelButton).text() == "Stop"
    qtbot.keyClick(wizard, Qt.Key.Key_Escape)
    wait_for(qtbot, lambda: not wizard.busy and wizard.plan is not None)
    assert wizard.isVisible()
    assert wizard.plan is not None and wizard.plan.steps[0].status == "unknown"
    assert wizard.run_page.summary.text().startswith("Stopped. Whether the promotion")
    assert wizard.run_page.retry_button.isVisible()
    assert rows(window.session.path, "SELECT status FROM runs WHERE kind = 'wizard'") == [
        ("cancelled",)
    ]
    qtbot.keyClick(wizard, Qt.Key.Key_Escape)  # nothing runs now: Escape closes
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=5_000)
    assert window.wizards.open_wizards == []


def test_a_wizard_closed_before_its_accounts_load_is_no_error(
    qtbot: Any, window: MainWindow, sandbox: Sandbox
) -> None:
    from promodesk.qt import QEvent

    started: list[Any] = []
    window.runner.job_started.connect(started.append)
    wizard = opened(qtbot, window, window.create_menu.actions()[0].trigger)
    assert not wizard.promotion_page.accounts.ready  # still loading off the GUI thread
    wizard.reject()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)  # the picker is gone
    for job in started:
        wait_job(qtbot, job)
    # Each job ended cleanly: the late answer found no picker and was dropped.
    assert [job._task.exception() for job in started if job._task is not None] == [None] * len(
        started
    )
