"""Create ▸ New impact.com codes…, driven page by page against the impact.com sandbox: one code
typed in a form (a pattern that does not compile is stopped before anything is sent), many
codes from a dropped CSV reviewed in a table with their time zones, created with an outcome
per row."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promodesk.qt import QWizard
from promodesk.store.db import connect
from promodesk.ui.main_window import MainWindow
from promodesk.ui.wizards.impact import FILE_PAGE, ONE_PAGE, REVIEW_PAGE, RUN_PAGE, ImpactWizard
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


@pytest.fixture
def sandbox(qtbot: Any, window: MainWindow) -> Iterator[Sandbox]:
    yield from sandbox_fixture(qtbot, window)


def open_wizard(qtbot: Any, window: MainWindow) -> ImpactWizard:
    wizard = opened(qtbot, window, window.create_menu.actions()[2].trigger)
    assert isinstance(wizard, ImpactWizard)
    wait_for(qtbot, lambda: wizard.start_page.accounts.ready)
    return wizard


def codes_named(sandbox: Sandbox, code: str) -> list[dict[str, Any]]:
    return [r for r in sandbox.impact.state.codes.values() if r["Code"] == code]


def test_one_code_typed_checked_and_created(
    qtbot: Any, window: MainWindow, sandbox: Sandbox
) -> None:
    wizard = open_wizard(qtbot, window)
    next_page(qtbot, wizard)
    assert wizard.currentId() == ONE_PAGE
    page = wizard.one_page
    type_text(qtbot, page.partner, "2552842")
    type_text(qtbot, page.program.lineEdit(), "1000")
    type_text(qtbot, page.code, "summer-[")
    page.match.setCurrentIndex(page.match.findData("RE"))
    page.credit.setCurrentIndex(page.credit.findData("WINNER"))
    assert page.credit.currentText().startswith("If last click: credit the partner when")
    press(qtbot, wizard, QWizard.WizardButton.NextButton)
    assert wizard.currentId() == ONE_PAGE  # the pattern does not compile
    assert "pattern does not compile" in page.problem.text()
    type_text(qtbot, page.code, "SUMMER-[A-Z]+")
    page.never_ends.setChecked(False)
    assert page.end.isEnabled()
    next_page(qtbot, wizard)
    assert wizard.currentId() == REVIEW_PAGE
    review = wizard.review_page
    assert review.summary.text() == "1 code ready to create."
    row = review.model.rows[0]
    assert row[1:7] == ("SUMMER-[A-Z]+", "Ready", "2552842", "1000", "If last click", "Pattern")
    assert row[7] == "Now" and row[8].endswith("UTC+00:00")  # tests run in UTC
    assert codes_named(sandbox, "SUMMER-[A-Z]+") == []
    next_page(qtbot, wizard)
    assert wizard.currentId() == RUN_PAGE
    wait_idle(qtbot, wizard)
    assert wizard.run_page.model.rows[0][2] == "Created"
    assert wizard.run_page.summary.text() == "1 code created."
    [record] = codes_named(sandbox, "SUMMER-[A-Z]+")
    assert (record["Type"], record["CreditPolicy"]) == ("RE", "WINNER")
    assert record["EndDate"]


CSV = """Code;Partner ID;Program ID;Credit policy;Type;Start;End
WINTER-ANNA;2552842;1000;If involved;Exact match;2026-12-01;2026-12-31
WINTER-[0-9]+;2552842;1000;Always;Pattern;2026-12-01 09:30;
WINTER-BAD;abc;1000;;;;
{taken};{other};1000;;;;
"""


def test_codes_from_a_dropped_csv_are_reviewed_then_created_row_by_row(
    qtbot: Any, window: MainWindow, sandbox: Sandbox, tmp_path: Path, qtmodeltester: Any
) -> None:
    taken = next(r for r in sandbox.impact.state.codes.values() if r["CampaignId"] == "1000")
    path = tmp_path / "winter codes.csv"
    path.write_text(
        CSV.format(taken=taken["Code"], other=int(taken["AssignedPartnerId"]) + 1),
        encoding="utf-8-sig",
    )
    wizard = open_wizard(qtbot, window)
    wizard.start_page.many.click()
    next_page(qtbot, wizard)
    assert wizard.currentId() == FILE_PAGE
    drop_on(wizard.file_page, [path])
    assert wizard.file_page.path.path() == path
    next_page(qtbot, wizard)
    wait_idle(qtbot, wizard)
    review = wizard.review_page
    qtmodeltester.check(review.model)
    assert review.summary.text() == (
        "3 codes ready to create; 1 row with problems (not sent: see Check)."
    )
    rows = {row[1]: row for row in review.model.rows}
    anna = rows["WINTER-ANNA"]
    assert anna[0] == "2" and anna[5:7] == ("If involved", "Exact match")
    assert anna[7] == "01 Dec 2026 00:00 UTC+00:00"
    assert anna[8] == "31 Dec 2026 23:59 UTC+00:00 (ends at the end of that day)"
    assert rows["WINTER-BAD"][2] == "the partner ID must be a number (found 'abc')"
    assert rows["WINTER-[0-9]+"][2] == "Ready"
    next_page(qtbot, wizard)
    wait_idle(qtbot, wizard)
    outcomes = dict(
        zip(wizard.run_page.model.column(1), wizard.run_page.model.column(2), strict=True)
    )
    assert outcomes["WINTER-ANNA"] == "Created"
    assert outcomes["WINTER-[0-9]+"] == "Created"
    assert outcomes[taken["Code"]].startswith("Refused: ")
    assert "WINTER-BAD" not in outcomes
    assert wizard.run_page.summary.text() == "2 codes created, 1 refused."
    assert len(codes_named(sandbox, "WINTER-ANNA")) == 1
    assert codes_named(sandbox, "WINTER-BAD") == []
    assert codes_named(sandbox, "WINTER-ANNA")[0]["CreditPolicy"] == "INVOLVED"
    conn = connect(window.session.path, readonly=True)
    try:
        stored = {
            c for (c,) in conn.execute("SELECT code FROM impact_codes WHERE code LIKE 'WINTER-%'")
        }
    finally:
        conn.close()
    assert stored == {"WINTER-ANNA", "WINTER-[0-9]+"}
