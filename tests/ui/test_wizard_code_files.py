"""Create ▸ Check and upload code files…, driven page by page: dropped files checked with every
problem on its line (paged, never all in memory), a fixed file and a rejects file, an upload to
the Optimove sandbox; generated codes; an upload that stops on a failure and is resumed after
the wizard was closed, with no part uploaded twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promodesk.codefiles.generator import SAFE
from promodesk.codefiles.problems import ProblemKind
from promodesk.qt import Qt, QWizard
from promodesk.store.db import connect, transaction
from promodesk.store.runs import claim_run
from promodesk.ui.main_window import MainWindow
from promodesk.ui.wizards.code_files import (
    CHECK_PAGE,
    FIX_PAGE,
    UPLOAD_PAGE,
    UPLOAD_RUN_PAGE,
    CodeFileWizard,
)
from promodesk.ui.wizards.problems import PAGE_SIZE
from promodesk.ui.wizards.resume import ResumeDialog
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
IN_DEMO = "SPRW-79X92KUA"  # a code of the demo workspace's unique-code file


@pytest.fixture
def sandbox(qtbot: Any, window: MainWindow) -> Iterator[Sandbox]:
    yield from sandbox_fixture(qtbot, window)


def open_wizard(qtbot: Any, window: MainWindow) -> CodeFileWizard:
    wizard = opened(qtbot, window, window.create_menu.actions()[3].trigger)
    assert isinstance(wizard, CodeFileWizard)
    return wizard


def to_upload(qtbot: Any, wizard: CodeFileWizard, promocode: str) -> None:
    page = wizard.upload_page
    wait_for(qtbot, lambda: page.accounts.ready)
    type_text(qtbot, page.promocode.lineEdit(), promocode)
    assert wizard.button(QWizard.WizardButton.CommitButton).text() == "Upload"
    next_page(qtbot, wizard)
    assert wizard.currentId() == UPLOAD_RUN_PAGE
    wait_idle(qtbot, wizard)


def all_problems(qtbot: Any, wizard: CodeFileWizard) -> list[Any]:
    model = wizard.check_page.view.model
    for row in range(0, model.rowCount(), PAGE_SIZE):
        wait_for(qtbot, lambda row=row: model.problem(row) is not None, 10_000)
    return [model.problem(row) for row in range(model.rowCount())]


def code_files(path: Path, promocode: str) -> list[tuple[Any, ...]]:
    conn = connect(path, readonly=True)
    try:
        return conn.execute(
            "SELECT file_name, code_count FROM optimove_code_files WHERE promocode_id = ? "
            "ORDER BY file_name",
            (promocode,),
        ).fetchall()
    finally:
        conn.close()


def test_dropped_files_are_checked_fixed_and_uploaded(
    qtbot: Any, window: MainWindow, sandbox: Sandbox, tmp_path: Path, qtmodeltester: Any
) -> None:
    legacy = tmp_path / "winter.csv"  # Excel's plain CSV: Windows-1252, CR LF
    legacy.write_bytes(
        f"WIN-0001\r\nWIN-0002\r\n  WIN-0003 \r\nWIN-0002\r\n\r\n{IN_DEMO}\r\nCAFÉ-01\r\n".encode(
            "cp1252"
        )
    )
    clean = tmp_path / "extra.csv"
    clean.write_text("WIN-1001\nWIN-1002\n")
    wizard = open_wizard(qtbot, window)
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    drop_on(wizard.source_page, [legacy, clean])
    assert wizard.source_page.files.paths() == [legacy, clean]

    next_page(qtbot, wizard)
    assert wizard.currentId() == CHECK_PAGE
    wait_idle(qtbot, wizard)
    view = wizard.check_page.view
    assert view.files.count() == 2
    assert view.files.item(0).text().startswith("!  winter.csv: 7 lines")
    assert view.files.item(1).text().startswith("✓  extra.csv")
    assert view.encoding_row.isVisible() and view.encoding_note.isVisible()
    assert "winter.csv reads as Windows-1252" in view.encoding_note.text()
    summary = view.summary.text()
    assert "1 duplicate" in summary and "already in the workspace" in summary
    qtmodeltester.check(view.model)
    problems = all_problems(qtbot, wizard)
    found = {(problem.line, problem.kind) for problem in problems}
    assert {
        (3, ProblemKind.WHITESPACE),
        (4, ProblemKind.DUPLICATE),
        (5, ProblemKind.EMPTY_LINE),
        (6, ProblemKind.IN_WORKSPACE),
    } <= found
    assert [problem.line for problem in problems] == sorted(p.line for p in problems)
    assert view.model.data(view.model.index(0, 0)) == f"{problems[0].line:,}"

    # "Read as": the marketer picks the encoding; the files are checked again.
    view.encoding.setCurrentIndex(view.encoding.findData("cp1251"))
    view.encoding.activated.emit(view.encoding.currentIndex())
    wait_idle(qtbot, wizard)
    assert "Read as Windows-1251" in wizard.check_page.view.summary.text()
    view.encoding.setCurrentIndex(0)
    view.encoding.activated.emit(0)
    wait_idle(qtbot, wizard)

    next_page(qtbot, wizard)
    assert wizard.currentId() == FIX_PAGE
    fix = wizard.fix_page
    assert fix.fixed.path() == tmp_path / "winter-fixed.csv"
    assert fix.rejects.path() == tmp_path / "winter-rejects.csv"
    press(qtbot, wizard, QWizard.WizardButton.NextButton)  # writes, then moves on
    wait_for(qtbot, lambda: wizard.currentId() == UPLOAD_PAGE)
    fixed = (tmp_path / "winter-fixed.csv").read_text(encoding="utf-8").splitlines()
    assert len(fixed) == len(set(fixed)) and IN_DEMO not in fixed
    assert {"WIN-0001", "WIN-0002", "WIN-0003", "WIN-1001", "WIN-1002"} <= set(fixed)
    rejects = (tmp_path / "winter-rejects.csv").read_text(encoding="utf-8")
    assert rejects.startswith("file,line,code,reason") and IN_DEMO in rejects
    assert legacy.read_bytes().startswith(b"WIN-0001\r\n")  # the original is untouched

    to_upload(qtbot, wizard, "pc-spring-welcome")
    plan = wizard.plan
    assert plan is not None and plan.finished
    assert not wizard.button(QWizard.WizardButton.NextButton).isVisible()  # the last page
    assert wizard.upload_run_page.steps.texts()[0].startswith(
        "✓  Uploaded winter-fixed.csv to pc-spring-welcome"
    )
    promocode = sandbox.optimove.state.promocodes["pc-spring-welcome"]
    [uploaded] = [f for f in promocode.files.values() if f.file_name == "winter-fixed.csv"]
    assert sorted(uploaded.codes) == sorted(fixed)
    assert ("winter-fixed.csv", len(fixed)) in code_files(window.session.path, "pc-spring-welcome")


def test_generated_codes_are_new_to_the_workspace_and_uploaded(
    qtbot: Any, window: MainWindow, sandbox: Sandbox, tmp_path: Path
) -> None:
    wizard = open_wizard(qtbot, window)
    source = wizard.source_page
    source.generate.click()
    source.count.setValue(300)
    source.length.setValue(6)
    type_text(qtbot, source.prefix, "GEN-")
    type_text(qtbot, source.target.edit, str(tmp_path / "generated.csv"))
    source.count.setValue(2_000_000)
    source.length.setValue(4)
    assert "at most" in source.spec_problem.text() and source.spec_problem.isVisible()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    source.count.setValue(300)
    source.length.setValue(6)
    next_page(qtbot, wizard)
    wait_idle(qtbot, wizard)
    assert "Generated 300 new codes in generated.csv" in wizard.check_page.generated_note.text()
    assert wizard.report is not None and wizard.report.clean
    next_page(qtbot, wizard)
    assert "Nothing to fix" in wizard.fix_page.explanation.text()
    next_page(qtbot, wizard)
    to_upload(qtbot, wizard, "pc-spring-welcome")
    assert wizard.plan is not None and wizard.plan.finished
    promocode = sandbox.optimove.state.promocodes["pc-spring-welcome"]
    [uploaded] = [f for f in promocode.files.values() if f.file_name == "generated.csv"]
    assert len(set(uploaded.codes)) == 300
    assert all(c.startswith("GEN-") and set(c[4:]) <= set(SAFE) for c in uploaded.codes)


def test_a_stopped_upload_resumes_after_the_wizard_was_closed_without_duplicates(
    qtbot: Any, window: MainWindow, sandbox: Sandbox, tmp_path: Path
) -> None:
    parts = []
    for name in ("batch-a.csv", "batch-b.csv", "batch-c.csv"):
        path = tmp_path / name
        path.write_text("".join(f"{name[6].upper()}-{n:04d}\n" for n in range(40)))
        parts.append(path)
    wizard = open_wizard(qtbot, window)
    wizard.source_page.files.add(parts)
    next_page(qtbot, wizard)
    wait_idle(qtbot, wizard)
    next_page(qtbot, wizard)
    next_page(qtbot, wizard)
    # Listing before the plan, listing at the start of the run, then part 1 (upload URL, PUT,
    # listing, promocode); part 2's upload URL meets 500s: its outcome is not known.
    sandbox.optimove.faults.configure({"script": [None] * 6 + ["500"] * 5})
    to_upload(qtbot, wizard, "pc-spring-welcome")
    plan = wizard.plan
    assert plan is not None
    assert [step.status for step in plan.steps] == ["ok", "unknown", "pending"]
    page = wizard.upload_run_page
    assert page.retry_button.isVisible()
    assert "1 of 3 files uploaded" in page.summary.text()
    press(qtbot, wizard, QWizard.WizardButton.FinishButton)  # closed, unfinished
    sandbox.optimove.faults.configure({})
    promocode = sandbox.optimove.state.promocodes["pc-spring-welcome"]
    slots_before = len(sandbox.optimove.state.uploads)

    window.create_menu.actions()[-1].trigger()  # Resume unfinished…
    dialog = window.findChild(ResumeDialog, "resumeDialog")
    assert dialog is not None
    wait_for(qtbot, lambda: dialog.model.rowCount() == 1)
    assert dialog.model.rows[0][0] == "Code file upload"
    assert dialog.model.rows[0][3] == "1 of 3 done"
    # Another window (or a command) resumes it meanwhile: neither Resume nor Leave undone.
    conn = connect(window.session.path)
    try:
        with transaction(conn):
            assert claim_run(conn, plan.run_id, "another window") is None
        reloaded = dialog.reload()
        wait_for(qtbot, lambda: reloaded.done and dialog.model.rows[0][3].endswith("going on now"))
        assert not dialog.resume_button.isEnabled() and not dialog.leave_button.isEnabled()
        assert dialog.note.text().startswith("Going on now")
        with transaction(conn):  # that one was killed: silent for more than a minute
            conn.execute(
                "UPDATE runs SET heartbeat = '2026-01-01T00:00:00Z' WHERE id = ?", (plan.run_id,)
            )
    finally:
        conn.close()
    reloaded = dialog.reload()
    wait_for(qtbot, lambda: reloaded.done and dialog.resume_button.isEnabled())
    assert dialog.model.rows[0][3] == "1 of 3 done"
    resumed = opened(qtbot, window, lambda: qtbot.mouseClick(dialog.resume_button, LEFT))
    assert isinstance(resumed, CodeFileWizard) and resumed.currentId() == UPLOAD_RUN_PAGE
    wait_for(qtbot, lambda: resumed.plan is not None and not resumed.busy)
    qtbot.mouseClick(resumed.upload_run_page.retry_button, LEFT)
    wait_for(qtbot, lambda: not resumed.busy and resumed.plan.finished)
    names = sorted(f.file_name for f in promocode.files.values())
    assert names == ["batch-a.csv", "batch-b.csv", "batch-c.csv", "spring_batch1.csv"]
    assert len(sandbox.optimove.state.uploads) == slots_before + 2  # parts 2 and 3 only
    assert len(promocode.pool) == 500 + 120


def test_problems_are_paged_from_the_report_not_loaded(
    qtbot: Any, window: MainWindow, sandbox: Sandbox, tmp_path: Path
) -> None:
    repeated = tmp_path / "repeated.csv"
    repeated.write_text("SAME-CODE\n" * 20_000)
    wizard = open_wizard(qtbot, window)
    wizard.source_page.files.add([repeated])
    next_page(qtbot, wizard)
    wait_idle(qtbot, wizard)
    model = wizard.check_page.view.model
    assert model.rowCount() == 19_999
    table = wizard.check_page.view.table
    table.scrollToBottom()
    wait_for(qtbot, lambda: model.problem(19_998) is not None)
    assert model.data(model.index(19_998, 0)) == "20,000"
    assert model.loaded_pages <= 4  # the pages on screen, not 40 pages of 500
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()  # one code is good
