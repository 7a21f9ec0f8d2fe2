"""Live work in the window beyond one operation: sources and Refresh, every kind of error in
the panel's message bar, cancel, closing during work, offline, bulk with faults and Retry
failed, the History view, the jobs list, and the models under qtmodeltester."""

from __future__ import annotations

import asyncio
import csv
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from promodesk.domain.vendors import Vendor
from promodesk.qt import QApplication, QFileDialog, QHeaderView, Qt
from promodesk.services.accounts import Account
from promodesk.store.db import connect, transaction
from promodesk.store.runs import claim_run, finish_run, start_run
from promodesk.ui.live.sources import why_not_writable
from promodesk.ui.operations.bulk import COUNT_EVERY_MS, BulkDialog
from tests.helpers import allocation_rows, write_allocations
from tests.ui.conftest import close_window, wait_job
from tests.ui.live_driver import LiveDriver

O, A, I = Vendor.OPTIMOVE, Vendor.ALTCRAFT, Vendor.IMPACT  # noqa: E741
LEFT = Qt.MouseButton.LeftButton


def activate(qtbot: Any, window: Any) -> None:
    window.raise_()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)


def codes(live: LiveDriver) -> Any:
    return live.panel(I).codes


# -- sources and Refresh -----------------------------------------------------------------------


def test_refresh_reads_the_sandbox_with_progress_and_as_of(live_window: LiveDriver) -> None:
    live = live_window
    panel = live.panel(I)
    assert panel.account_bar.picker.currentText() == "Sandbox (built in)"
    assert panel.account_bar.as_of.text() == "never refreshed"
    heard: list[Any] = []
    live.window.runner.job_started.connect(
        lambda job: job.progressed.connect(lambda update: heard.append(update))
    )
    activate(live.qtbot, live.window)
    before = len(live.finished)
    live.qtbot.keyClick(live.window, Qt.Key.Key_F5)
    live.wait_for(lambda: len(live.finished) > before)
    live.wait_idle(I)
    job = live.last_job(I)
    assert job.error is None and job.result.seen == 25
    assert any(update.total == 25 for update in heard)  # a bar, not just a spinner
    live.wait_for(lambda: len(live.rows(codes(live), "code")) == 25)
    assert panel.account_bar.as_of.text().startswith("as of ")
    assert live.window.offline_label.text().startswith("Sandbox · online · data as of ")
    assert "25 read, 25 new" in live.message(I)


def test_the_picker_filters_by_source_and_imports_show_under_imported_files(
    live_window: LiveDriver, tmp_path: Path
) -> None:
    live = live_window
    live.sync(I)
    panel = live.panel(I)
    picker = panel.account_bar.picker
    assert [picker.itemText(n) for n in range(picker.count())] == [
        "Imported files",
        "Sandbox (built in)",
    ]
    picker.setCurrentIndex(0)
    picker.activated.emit(0)
    live.wait_for(lambda: codes(live).model.rowCount() == 0 and not codes(live).model.busy)
    assert "Open a saved export" in codes(live).empty_label.text()
    assert not live.action(I, "expire").isEnabled()
    assert "Imported files are a snapshot" in live.action(I, "expire").toolTip()
    assert live.window.online_switch is not None and not live.window.online_switch.isVisible()
    # Back on the sandbox: its rows again; an Optimove import then shows under Imported files.
    picker.setCurrentIndex(1)
    picker.activated.emit(1)
    live.wait_for(lambda: codes(live).model.rowCount() == 25)
    optimove = live.panel(O)
    assert optimove.source is not None and optimove.source.sandbox
    live.window.importing.demo_confirmed = True
    path = write_allocations(tmp_path / "mine.csv", allocation_rows(5, promocode="pc-mine"))
    assert wait_job(live.qtbot, live.window.import_paths([path])).error is None
    live.wait_for(lambda: optimove.source is not None and optimove.source.imported)
    live.wait_for(lambda: optimove.allocations.model.rowCount() == 5)


def test_a_saved_account_is_a_source_and_keeps_its_own_rows(live_window: LiveDriver) -> None:
    live = live_window
    live.sync(I)
    account = Account(
        vendor=I,
        name="Brand EU",
        settings={
            "base_url": "http://127.0.0.1:9",
            "account_sid": "IRabc",
            "response_format": "json",
        },
    )
    job = live.window.runner.start(
        "Saving", lambda _progress: live.window.accounts.save(account, "a-token")
    )
    wait_job(live.qtbot, job)
    live.window.accounts_changed.emit()
    picker = live.panel(I).account_bar.picker
    live.wait_for(lambda: picker.findText("Brand EU") >= 0)
    picker.setCurrentIndex(picker.findText("Brand EU"))
    picker.activated.emit(picker.currentIndex())
    live.wait_for(lambda: codes(live).model.rowCount() == 0 and not codes(live).model.busy)
    assert "No codes from Brand EU" in codes(live).empty_label.text()


# -- errors in the panel's message bar -------------------------------------------------------------


def test_a_vendor_refusal_shows_in_the_message_bar_with_details(live_window: LiveDriver) -> None:
    live = live_window
    live.sync(I)
    live.select(codes(live), "promo_code_id", 7_000_004)
    del live.fakes[I].state.codes[7_000_004]  # deleted in impact.com meanwhile
    job = live.run(I, "expire")
    assert job.result.status == "failed"
    assert live.level(I) == "error"
    bar = live.window.panels[I].message_bar
    assert "impact.com" in bar.text.text()
    assert bar.details.toPlainText()  # the vendor's own words, a click away
    assert bar._toggle.isVisible()


def test_a_refusal_in_a_form_stays_in_the_form(live_window: LiveDriver) -> None:
    live = live_window
    live.panel(O)
    known = set(live.fakes[O].state.promotions)
    dialog = live.trigger(O, "create_promotion")
    live.fill(dialog, {"name": "Bad", "code": "BAD1", "promotion_id": "no spaces allowed"})
    live.qtbot.mouseClick(dialog.run_button, LEFT)
    assert dialog.form.problem_text("promotion_id") == "Not in the form expected here."
    assert dialog.isVisible() and dialog.job is None  # nothing was sent
    assert set(live.fakes[O].state.promotions) == known
    dialog.reject()


def test_an_answer_lost_after_sending_is_unknown_and_said_so(live_window: LiveDriver) -> None:
    live = live_window
    live.sync(I)
    live.select(codes(live), "promo_code_id", 7_000_005)
    live.fakes[I].faults.configure({"script": ["500"] * 5})  # longer than the client retries
    job = live.run(I, "expire")
    assert job.result.status == "unknown"
    assert live.level(I) == "warning"
    assert "may or may not have been made" in live.message(I)


def test_rate_limited_for_too_long_is_a_failure_in_words(live_window: LiveDriver) -> None:
    live = live_window
    live.fakes[I].faults.configure({"script": ["429"] * 5})
    job = live.run(I, "list_all", {"campaign_id": 1000})
    assert job.result.status == "failed"
    assert live.level(I) == "error"
    assert "impact.com" in live.message(I)


def test_a_state_that_forbids_it_is_refused_before_sending(live_window: LiveDriver) -> None:
    live = live_window
    live.sync(I)
    panel = live.window.panels[I]
    assert panel.live_panel is not None
    operation = live.operations(I).by_name["expire"]
    ok = live.run(I, "list_all", {})  # noqa: F841 - a read first, as a user might
    # The workspace says 7000001 is expired: the executor refuses before sending anything.
    conn = connect(live.workspace)
    with transaction(conn):
        conn.execute("UPDATE impact_codes SET status = 'inactive' WHERE promo_code_id = 7000001")
    conn.close()
    # Waited for by itself: other jobs (the index builder after the read) may end meanwhile.
    job = panel.live_panel.run(operation, {"promo_code_id": 7_000_001})
    live.wait_for(lambda: job.done and "already expired" in live.message(I))
    assert live.fakes[I].state.codes[7_000_001]["State"] == "ACTIVE"


def test_no_network_switches_the_account_offline_and_offers_to_come_back(
    live_window: LiveDriver,
) -> None:
    live = live_window
    account = Account(
        vendor=I,
        name="Brand EU",
        # A closed port: the connection is refused, as with no network at all.
        settings={
            "base_url": "http://127.0.0.1:9",
            "account_sid": "IRabc",
            "response_format": "json",
        },
    )
    wait_job(
        live.qtbot,
        live.window.runner.start(
            "Saving", lambda _progress: live.window.accounts.save(account, "a-token")
        ),
    )
    live.window.accounts_changed.emit()
    picker = live.panel(I).account_bar.picker
    live.wait_for(lambda: picker.findText("Brand EU") >= 0)
    picker.setCurrentIndex(picker.findText("Brand EU"))
    picker.activated.emit(picker.currentIndex())
    job = live.sync(I)
    assert job.error is not None
    panel = live.window.panels[I]
    assert panel.source is not None and not live.window.live.is_online(panel.source)
    assert live.level(I) == "warning"
    assert "offline now" in live.message(I)
    assert panel.message_bar.action_button.text() == "Go online and refresh"
    assert not live.action(I, "create").isEnabled()
    assert "Brand EU is offline" in live.action(I, "create").toolTip()
    switch = live.window.online_switch
    assert switch is not None and switch.isVisible() and switch.text() == "○ Offline"
    assert live.window.offline_label.text().startswith("Brand EU · offline")


def test_offline_by_choice_then_back_online_offers_a_refresh(live_window: LiveDriver) -> None:
    live = live_window
    live.sync(I)
    switch = live.window.online_switch
    assert switch is not None and switch.text() == "● Online"
    live.qtbot.mouseClick(switch, LEFT)
    assert switch.text() == "○ Offline"
    assert not live.action(I, "list_all").isEnabled()
    assert "offline" in live.action(I, "list_all").toolTip()
    # The tables keep showing the workspace; F5 reads the workspace again, with no network.
    assert codes(live).model.rowCount() == 25
    live.window.refresh_action.trigger()
    assert "Read the workspace again" in live.message(I)
    assert not live.window.runner.owned(live.window.panels[I])
    live.qtbot.mouseClick(switch, LEFT)
    assert switch.text() == "● Online"
    bar = live.window.panels[I].message_bar
    assert bar.action_button.text() == "Refresh now"
    before = len(live.finished)
    live.qtbot.mouseClick(bar.action_button, LEFT)
    live.wait_for(lambda: len(live.finished) > before)
    live.wait_idle(I)  # the refresh itself (another job, e.g. the index builder, may end first)
    assert live.last_job(I).error is None


# -- cancel, replace, close ------------------------------------------------------------------------


def test_cancel_a_refresh_from_the_panel_keeps_the_workspace_as_it_was(
    live_window: LiveDriver,
) -> None:
    live = live_window
    live.window.accounts.connections.client_options["total_timeout"] = 60.0
    live.fakes[I].faults.configure({"script": ["slow"], "slow_seconds": 30.0})
    panel = live.panel(I)
    before = len(live.finished)
    live.window.refresh_action.trigger()
    bar = panel.account_bar
    live.wait_for(lambda: bar.busy_cancel.isVisible())
    assert bar.busy_text.text().startswith("Refreshing Sandbox")
    live.wait_for(lambda: live.fakes[I].faults.injected["slow"] == 1)  # asked, waiting
    live.qtbot.mouseClick(bar.busy_cancel, LEFT)
    live.wait_for(lambda: len(live.finished) > before)
    assert live.last_job(I).cancelled
    assert "Refresh cancelled" in live.message(I)
    assert live.one("SELECT count(*) FROM impact_codes") == 0
    assert live.one("SELECT status FROM runs WHERE kind = 'sync'") == "cancelled"
    live.wait_for(lambda: not bar.busy_bar.isVisible())


def test_a_refresh_cancelled_at_once_leaves_nothing_running(live_window: LiveDriver) -> None:
    live = live_window
    live.panel(I)
    for _ in range(3):
        before = len(live.finished)
        live.window.refresh_action.trigger()
        live.qtbot.mouseClick(live.window.panels[I].account_bar.busy_cancel, LEFT)
        live.wait_for(lambda before=before: len(live.finished) > before)
    conn = connect(live.workspace, readonly=True)
    statuses = {row[0] for row in conn.execute("SELECT status FROM runs WHERE kind = 'sync'")}
    conn.close()
    assert statuses <= {"cancelled", "done"}  # never left "running"


def test_a_second_refresh_of_the_same_account_replaces_the_first(live_window: LiveDriver) -> None:
    live = live_window
    live.window.accounts.connections.client_options["total_timeout"] = 60.0
    live.fakes[I].faults.configure({"script": ["slow"], "slow_seconds": 30.0})
    live.panel(I)
    live.window.refresh_action.trigger()
    [first] = live.window.runner.owned(live.window.panels[I])
    live.wait_for(lambda: live.fakes[I].faults.injected["slow"] == 1)  # its answer is slow
    live.window.refresh_action.trigger()
    live.wait_for(lambda: first.done)
    assert first.replaced and first.cancelled
    live.wait_idle(I)
    assert live.last_job(I).error is None
    assert live.one("SELECT count(*) FROM impact_codes") == 25


def test_the_jobs_list_shows_every_job_with_its_own_cancel(live_window: LiveDriver) -> None:
    live = live_window
    live.window.accounts.connections.client_options["total_timeout"] = 60.0
    for vendor in (I, A):
        live.fakes[vendor].faults.configure({"script": ["slow"], "slow_seconds": 30.0})
        live.panel(vendor)
        live.window.refresh_action.trigger()
    status = live.window.job_status
    live.wait_for(lambda: status.jobs_button.isVisible())
    assert status.jobs_button.text() == "2 jobs ▴"
    jobs_list = status.show_list()
    assert len(jobs_list.rows) == 2
    first = next(iter(jobs_list.rows))
    live.qtbot.mouseClick(jobs_list.rows[first].cancel_button, LEFT)
    live.wait_for(lambda: first.done)
    assert first.cancelled
    live.wait_for(lambda: len(jobs_list.rows) == 1)
    assert not status.jobs_button.isVisible()
    live.window.runner.cancel_all()
    live.wait_idle()


def slow_bulk_expire(live: LiveDriver) -> Any:
    """A bulk expire of twelve impact.com codes whose answers after the fourth take 30 s,
    started and with those four done: its dialog."""
    live.sync(I)
    live.select_many(codes(live), "promo_code_id", list(range(7_000_001, 7_000_013)))
    live.window.accounts.connections.client_options["total_timeout"] = 60.0
    live.fakes[I].faults.configure({"script": [None] * 4 + ["slow"] * 20, "slow_seconds": 30.0})
    dialog = live.operations(I).start_bulk(live.operations(I).by_name["expire"], codes(live))
    live.wait_for(lambda: dialog.start_button.isEnabled())
    live.qtbot.mouseClick(dialog.start_button, LEFT)
    live.qtbot.mouseClick(dialog.confirm_box.findChild(object, "confirmYes"), LEFT)
    live.wait_for(lambda: dialog.model.counts().get("ok", 0) >= 4)
    return dialog


def test_closing_the_window_during_a_bulk_run_keeps_what_was_done(
    qtbot: Any, live_window: LiveDriver, windows: Any, tmp_path: Path
) -> None:
    live = live_window
    # Every answer after the fourth takes long: the window is closed while they wait.
    slow_bulk_expire(live)
    close_window(qtbot, live.window)
    conn = connect(live.workspace, readonly=True)
    statuses = dict(conn.execute("SELECT status, count(*) FROM journal GROUP BY status").fetchall())
    inactive = conn.execute(
        "SELECT count(*) FROM impact_codes WHERE status = 'inactive'"
    ).fetchone()[0]
    conn.close()
    assert statuses.get("ok", 0) >= 4 and statuses.get("pending", 0) > 0
    assert inactive == statuses["ok"]  # what was done is in the workspace, nothing else
    # A new window lists the run as unfinished, with Resume.
    again = windows(tmp_path / "again")
    again.show()
    assert wait_job(qtbot, again.open_workspace(live.workspace)).error is None
    history = again.show_history()
    qtbot.waitUntil(lambda: history.unfinished.isVisible(), timeout=10_000)
    assert "Expire code" in history.unfinished_table.item(0, 0).text()
    assert history.unfinished_table.cellWidget(0, 3).text() == "Resume"
    # Resume opens the run with its codes named as the tables name them (the journal keeps
    # impact.com's ids), and those never sent say so.
    qtbot.mouseClick(history.unfinished_table.cellWidget(0, 3), LEFT)
    dialog = again.findChild(BulkDialog)
    assert dialog is not None
    qtbot.waitUntil(lambda: len(dialog.model.rows) == 12, timeout=10_000)
    assert "run " not in dialog.heading.text()
    assert [row.label for row in dialog.model.rows] == [f"SANDBOX{n:02d}" for n in range(12)]
    assert all(
        row.message.startswith("Not sent yet")
        for row in dialog.model.rows
        if row.status == "pending"
    )
    dialog.reject()


# -- bulk -------------------------------------------------------------------------------------------


def test_a_stopped_bulk_run_shows_each_code_as_its_journal_has_it(
    live_window: LiveDriver,
) -> None:
    """Stop while answers are slow: the codes asked for and not answered are "not sure" in
    the journal, and so in the rows (they said "Waiting"); those never sent say so; the retry
    does not call the unsure ones failed."""
    live = live_window
    dialog = slow_bulk_expire(live)
    live.wait_for(lambda: live.fakes[I].faults.injected["slow"] >= 1)  # one is being asked
    live.qtbot.mouseClick(dialog.stop_button, LEFT)
    live.wait_for(lambda: dialog.retry_button.isVisible(), timeout=30_000)
    conn = connect(live.workspace, readonly=True)
    journal = dict(conn.execute("SELECT position, status FROM journal").fetchall())
    conn.close()
    assert "unknown" in journal.values() and "pending" in journal.values()
    assert {row.position: row.status for row in dialog.model.rows} == journal
    unsure = [row for row in dialog.model.rows if row.status == "unknown"]
    assert all(
        dialog.model.data(dialog.model.index(dialog.model.rows.index(row), 2))
        == "Not sure it was done"
        for row in unsure
    )
    waiting = [row for row in dialog.model.rows if row.status == "pending"]
    assert all(row.message.startswith("Not sent yet") for row in waiting)
    assert dialog.retry_button.text() == (
        "Retry the code (not sure it was done)"
        if len(unsure) == 1
        else f"Retry {len(unsure)} codes (not sure they were done)"
    )


def test_bulk_expire_with_faults_review_progress_and_retry_failed(live_window: LiveDriver) -> None:
    live = live_window
    live.sync(I)
    targets = list(range(7_000_001, 7_000_010))
    live.fakes[I].state.codes[7_000_009]["State"] = "INACTIVE"
    live.sync(I)
    live.select_many(codes(live), "promo_code_id", targets)
    operations = live.operations(I)
    menu_texts: list[str] = []
    from promodesk.qt import QMenu

    menu = QMenu()
    operations.fill_menu(menu, codes(live))
    menu_texts = [action.text() for action in menu.actions()]
    assert "Expire code (9 codes)…" in menu_texts
    assert not live.action(I, "get").isEnabled()
    assert "one code at a time" in live.action(I, "get").toolTip()

    dialog = operations.start_bulk(operations.by_name["expire"], codes(live))
    live.wait_for(lambda: dialog.start_button.isEnabled())
    assert dialog.model.counts() == {"todo": 8, "skipped": 1}
    assert "8 codes to expire, 1 skipped (This code is already expired: impact.com shows " in (
        dialog.summary.text()
    )
    # The "#" column fits its numbers and heading, sized once (not measured at every layout).
    view = dialog.view
    assert view.horizontalHeader().sectionResizeMode(0) != QHeaderView.ResizeMode.ResizeToContents
    assert view.columnWidth(0) >= max(
        view.sizeHintForColumn(0), view.horizontalHeader().sectionSizeHint(0)
    )
    # Numbers wider than the heading, out of order: the column fits the widest, whole.
    kept = dialog.model.rows
    dialog.model.set_rows([replace(kept[0], position=7), replace(kept[1], position=100_000)])
    assert (
        view.columnWidth(0)
        >= view.sizeHintForColumn(0)
        > view.sizeHintForIndex(dialog.model.index(0, 0)).width()
    )
    dialog.model.set_rows(kept)
    assert dialog.start_button.text() == "Expire 8 codes"
    # Two of them are gone at the vendor for a while (impact.com answers 404): they fail.
    state = live.fakes[I].state.codes
    away = {promo_id: state.pop(promo_id) for promo_id in (7_000_003, 7_000_006)}
    live.qtbot.mouseClick(dialog.start_button, LEFT)
    # It cannot be undone: asked first, with the table's words.
    assert "cannot be undone" in dialog.confirm_box.informativeText()
    live.qtbot.mouseClick(dialog.confirm_box.findChild(object, "confirmYes"), LEFT)
    live.wait_for(lambda: dialog.retry_button.isVisible(), timeout=30_000)
    counts = dialog.model.counts()
    assert (counts.get("ok"), counts.get("failed"), counts.get("skipped")) == (6, 2, 1)
    failed = [row.label for row in dialog.model.rows if row.status == "failed"]
    assert sorted(failed) == ["SANDBOX02", "SANDBOX05"]
    assert dialog.retry_button.text() == "Retry 2 failed codes"
    assert dialog.model.headerData(1, Qt.Orientation.Horizontal) == "Code"
    assert live.level(I) == "warning"
    state.update(away)  # back at the vendor
    live.qtbot.mouseClick(dialog.retry_button, LEFT)
    live.wait_for(lambda: dialog.model.counts().get("ok") == 8, timeout=30_000)
    live.wait_for(lambda: not dialog.retry_button.isVisible())
    # Counted as the items ended (not recounted each time), through a retry: as a recount.
    assert dialog.model.counts() == dict(Counter(row.status for row in dialog.model.rows))
    # (the run's own summary, read from its journal: the skipped one was never in the run)
    live.wait_for(lambda: dialog.summary.text() == "8 of 8 codes done.")
    live.qtbot.wait(3 * COUNT_EVERY_MS)
    assert dialog.summary.text() == "8 of 8 codes done."  # not overwritten by a running line
    assert all(live.fakes[I].state.codes[i]["State"] == "INACTIVE" for i in targets)
    # The table shows the new states in place; the selection stays.
    live.wait_for(
        lambda: live.one("SELECT count(*) FROM impact_codes WHERE status = 'inactive'") == 9
    )
    live.wait_for(
        lambda: (
            sorted(set(live.rows(codes(live), "status")[:9])) == ["inactive"]
            or live.rows(codes(live), "status").count("inactive") == 9
        )
    )
    assert len(codes(live).view.selectionModel().selectedRows()) == 9
    # The programs beside it count them too (their counts come from the same write).
    programs = live.panel(I).programs
    expected = {
        program: live.one(
            "SELECT count(*) FROM impact_codes WHERE status = 'active' AND campaign_id = ?",
            program,
        )
        for program in ("1000", "1001")
    }
    assert sum(expected.values()) == 25 - 9
    live.wait_for(
        lambda: (
            dict(
                zip(
                    live.rows(programs, "campaign_id"),
                    live.rows(programs, "active_count"),
                    strict=True,
                )
            )
            == expected
        )
    )
    dialog.close()


def test_bulk_update_takes_the_shared_expiry_from_its_form(live_window: LiveDriver) -> None:
    from datetime import datetime

    live = live_window
    live.sync(A)
    browser = live.panel(A).codes
    live.select_many(browser, "code", ["LOY5-0001", "LOY5-0002"])
    operations = live.operations(A)
    dialog = operations.start_bulk(operations.by_name["update"], browser)
    live.wait_for(lambda: dialog.start_button.isEnabled())
    live.qtbot.mouseClick(dialog.start_button, LEFT)
    assert "Change the activation, the expiry date, or both" in dialog.form.top_problem.text()
    live.fill(dialog, {"expire_date": datetime(2027, 3, 1, 12, 0).astimezone()})
    live.qtbot.mouseClick(dialog.start_button, LEFT)
    live.wait_for(lambda: dialog.model.counts().get("ok") == 2, timeout=30_000)
    assert not dialog.form.top_problem.isVisible()  # (mended: it said so until the end)
    program = live.fakes[A].state.programs[5]
    assert program.codes["LOY5-0001"].expire_date.startswith("2027-03-01T12:00:00")
    assert program.codes["LOY5-0002"].expire_date.startswith("2027-03-01T12:00:00")
    dialog.close()


# -- History --------------------------------------------------------------------------------------


def test_history_filters_finds_a_code_by_its_value_and_exports_csv(
    live_window: LiveDriver, tmp_path: Path
) -> None:
    live = live_window
    live.sync(A)
    live.select(live.panel(A).codes, "code", "LOY5-0003")
    live.run(A, "attach", {"email": "ann@example.com"})
    live.sync(I)
    live.select(codes(live), "promo_code_id", 7_000_002)
    live.run(I, "expire")
    activate(live.qtbot, live.window)
    live.qtbot.keyClick(live.window, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    history = live.window.history
    assert history is not None and history.isVisible()
    browser = history.browser
    live.wait_for(lambda: browser.model.rowCount() == 2 and not browser.model.busy)
    assert browser.status_combo is not None
    assert browser.status_combo.itemText(0) == "All outcomes"  # the column's own word
    # The log keeps codes hashed; typing the code finds its change all the same.
    assert "LOY5-0003" not in " ".join(map(str, live.rows(browser, "target")))
    browser.search_box.setText("LOY5-0003")
    browser._apply_search()
    live.wait_for(lambda: browser.model.rowCount() == 1 and not browser.model.busy)
    assert live.rows(browser, "operation") == ["attach"]
    assert browser.model.data(browser.model.index(0, 3)) == "Attach to a profile"  # words
    # The details pane in the same words, the inputs a field a line (not JSON).

    def attach_shown() -> bool:
        # (selected again if the table read its rows once more meanwhile: a busy machine)
        if not browser.view.selectionModel().hasSelection():
            browser.view.selectRow(0)
        return "Done" in history.details.toPlainText()

    live.wait_for(attach_shown)
    shown = history.details.toPlainText()
    assert "Altcraft" in shown and "Attach to a profile" in shown
    assert "\nVendor\nAltcraft\n" in shown and "\nOutcome\nDone\n" in shown
    assert "\nChange\nAttach to a profile\n" in shown and "Run ID" not in shown
    assert "\nEmail: ann@example.com\n" in shown and "{" not in shown
    browser.search_box.clear()
    browser._apply_search()
    live.wait_for(lambda: history.change.count() == 3)
    history.change.setCurrentIndex(history.change.findData("expire"))
    live.wait_for(lambda: live.rows(browser, "operation") == ["expire"])
    history.change.setCurrentIndex(0)
    from promodesk.ui.dialogs.history import account_key

    history.account.setCurrentIndex(history.account.findData(account_key("altcraft", "Sandbox")))
    live.wait_for(lambda: live.rows(browser, "vendor") == ["altcraft"])
    history.account.setCurrentIndex(0)
    history.until.use.setChecked(True)
    history.until.date.setDate(history.until.date.date().addDays(-1))
    live.wait_for(lambda: browser.model.rowCount() == 0 and not browser.model.busy)
    history.until.use.setChecked(False)
    live.wait_for(lambda: browser.model.rowCount() == 2 and not browser.model.busy)
    # Export: the spreadsheet-safe CSV writer, every row the view shows.
    target = tmp_path / "history.csv"
    history.export()
    chooser = live.window.findChild(QFileDialog, "exportRowsDialog")
    assert chooser is not None
    chooser.fileSelected.emit(str(target))
    chooser.close()
    live.wait_for(target.exists)
    with target.open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:3] == ["When (UTC)", "Vendor", "Account"]
    assert sorted(row[3] for row in rows[1:]) == ["attach", "expire"]
    assert not any("LOY5-0003" in cell for row in rows for cell in row)
    history.close()


def test_history_resumes_a_bulk_run_and_hands_wizard_runs_to_the_wizards(
    live_window: LiveDriver,
) -> None:
    live = live_window
    live.sync(I)
    executor = live.window.live.live_work().executor
    run_id = planned_expire(live, 7_000_010, 7_000_011)
    conn = connect(live.workspace)
    with transaction(conn):
        wizard = start_run(conn, "wizard", account_id=None, title="New promotion + code")
        finish_run(conn, wizard, "failed", message="step 2 of 2 failed")
    conn.close()
    del executor
    heard: list[tuple[int, str]] = []
    live.window.resume_requested.connect(lambda run, kind: heard.append((run, kind)))
    history = live.window.show_history()
    assert history is not None
    table = history.unfinished_table
    live.wait_for(lambda: table.rowCount() == 2)
    texts = [table.item(row, 0).text() for row in range(2)]
    wizard_row = texts.index("New promotion + code")
    live.qtbot.mouseClick(table.cellWidget(wizard_row, 3), LEFT)
    assert heard == [(wizard, "wizard")]
    live.qtbot.mouseClick(table.cellWidget(1 - wizard_row, 3), LEFT)
    dialog = live.operations(I).bulk
    live.wait_for(lambda: dialog is not None and dialog.start_button.isEnabled())
    assert dialog.start_button.text() == "Resume (2 left)"
    live.qtbot.mouseClick(dialog.start_button, LEFT)
    live.wait_for(lambda: dialog.model.counts().get("ok") == 2, timeout=30_000)
    assert live.fakes[I].state.codes[7_000_010]["State"] == "INACTIVE"
    assert run_id == dialog.run_id
    dialog.close()
    live.wait_for(lambda: table.rowCount() == 1)


def test_history_says_a_bulk_run_going_on_elsewhere_is_going_on_and_offers_no_resume(
    live_window: LiveDriver,
) -> None:
    live = live_window
    live.sync(I)
    run_id = planned_expire(live, 7_000_012)
    conn = connect(live.workspace)
    try:
        with transaction(conn):
            assert claim_run(conn, run_id, "another process") is None
            upload = start_run(conn, "upload", account_id=None, title="Upload winter codes")
            assert claim_run(conn, upload, "another process") is None
    finally:
        conn.close()
    history = live.window.show_history()
    assert history is not None
    table = history.unfinished_table
    live.wait_for(lambda: table.rowCount() == 2)
    assert [table.item(row, 2).text() for row in range(2)] == [
        "going on now in a window or a command; 0 of 1 done; 1 not started",
        "Code file upload: going on now in a window or a command",
    ]
    for row in range(2):
        resume = table.cellWidget(row, 3)
        assert not resume.isEnabled()
        assert "once it stops" in resume.toolTip()
    # Resumed here anyway (the bulk view of the run): refused in words, nothing sent, no crash.
    [info] = [run for run in history_runs(live) if run.id == run_id]
    dialog = history.resume_bulk(info, "expire")
    live.wait_for(lambda: dialog.start_button.isEnabled())
    live.qtbot.mouseClick(dialog.start_button, LEFT)
    live.wait_for(lambda: dialog.summary.text().startswith("Not started: bulk run"))
    assert "already going on" in dialog.summary.text()
    assert "Nothing was sent" in live.message(I)
    live.wait_for(lambda: dialog.model.counts() == {"pending": 1})
    assert dialog.start_button.isEnabled() and dialog.start_button.text().startswith("Resume")
    assert live.fakes[I].state.codes[7_000_012]["State"] == "ACTIVE"
    dialog.close()
    history.close()


def planned_expire(live: LiveDriver, *promo_code_ids: int) -> int:
    """A bulk expire of these sandbox codes, planned (nothing sent): its run's id."""
    runner = live.window.live.live_work().bulk
    account = live.window.panels[I].source.account
    operation = live.operations(I).by_name["expire"]
    items = [{"promo_code_id": promo_code_id} for promo_code_id in promo_code_ids]
    planned = asyncio.ensure_future(runner.plan(account, operation, items))
    live.wait_for(planned.done)
    return planned.result()


def history_runs(live: LiveDriver) -> list[Any]:
    runner = live.window.live.live_work().bulk
    runs = asyncio.ensure_future(runner.runs())
    live.wait_for(runs.done)
    return runs.result()


# -- models ----------------------------------------------------------------------------------------


def test_the_new_models_pass_qtmodeltester(qtmodeltester: Any, live_window: LiveDriver) -> None:
    from promodesk.ui.operations.bulk import BulkItemsModel, Row
    from promodesk.ui.operations.results import ValidationModel

    validation = ValidationModel()
    qtmodeltester.check(validation)
    validation.set_rows(
        [
            {"customer_id": "c1", "eligible": True, "tier": "gold", "reward": {"percent": 10}},
            {"customer_id": "c2", "eligible": False, "tier": None, "reward": None},
        ]
    )
    assert validation.data(validation.index(1, 1)) == "No"
    assert "c1\tYes\tgold" in validation.as_text()
    items = BulkItemsModel()
    qtmodeltester.check(items)
    items.set_rows([Row(1, "SANDBOX01", "todo"), Row(2, "SANDBOX02", "skipped", "already expired")])
    items.update(1, "ok", "done")
    assert items.data(items.index(0, 2)) == "Done"
    live = live_window
    live.sync(I)
    live.select(codes(live), "promo_code_id", 7_000_001)
    live.run(I, "expire")
    history = live.window.show_history()
    assert history is not None
    qtmodeltester.check(history.browser.model)
    live.wait_for(lambda: history.browser.model.rowCount() == 1)


def test_keyboard_enter_runs_a_form_and_escape_closes_it(live_window: LiveDriver) -> None:
    live = live_window
    live.panel(O)
    dialog = live.trigger(O, "create_promotion")
    live.fill(dialog, {"name": "Keys", "code": "KEYS1", "promotion_id": "keys-1"})
    before = len(live.finished)
    closed: list[int] = []
    dialog.finished.connect(closed.append)
    live.qtbot.keyClick(dialog.form.editors["code"].widget, Qt.Key.Key_Return)
    live.wait_for(lambda: len(live.finished) > before)
    live.wait_for(lambda: closed == [1])  # accepted: done
    assert "keys-1" in live.fakes[O].state.promotions
    dialog = live.trigger(O, "create_promotion")
    dialog.finished.connect(closed.append)
    live.qtbot.keyClick(dialog.form.editors["name"].widget, Qt.Key.Key_Escape)
    assert closed == [1, 0]  # rejected: nothing sent


def test_a_row_context_menu_offers_its_operations_with_reasons(live_window: LiveDriver) -> None:
    from promodesk.qt import QMenu

    live = live_window
    live.sync(I)
    live.select(codes(live), "promo_code_id", 7_000_001)
    live.run(I, "expire")
    live.select(codes(live), "promo_code_id", 7_000_001)
    live.wait_for(lambda: not live.action(I, "expire").isEnabled())
    menu = QMenu()
    menu.setToolTipsVisible(True)
    codes(live).extend_menu(menu)
    actions = {action.text(): action for action in menu.actions() if action.text()}
    assert not actions["Expire code"].isEnabled()
    assert (
        actions["Expire code"].toolTip()
        == "This code is already expired: impact.com shows it as inactive"
    )
    assert actions["Reload from impact.com"].isEnabled()
    # The programs' menu offers what a program's columns fill in: a new code for it.
    menu = QMenu()
    live.panel(I).programs.extend_menu(menu)
    assert "New code for a partner…" in [action.text() for action in menu.actions()]


def test_sources_say_why_changes_are_not_possible() -> None:
    from promodesk.ui.live.sources import Source

    imported = Source(I, "imported", "Imported files", "imported")
    assert "snapshot" in (why_not_writable(imported, True) or "")
    stranger = Source(I, "abc", "Brand US (not set up here)", "live")
    assert "not set up on this computer" in (why_not_writable(stranger, True) or "")


@pytest.mark.parametrize("vendor", [O, A, I], ids=lambda v: v.value)
def test_every_group_menu_is_in_the_panel_and_the_vendor_menu(
    live_window: LiveDriver, vendor: Vendor
) -> None:
    live = live_window
    panel = live.panel(vendor)
    operations = live.operations(vendor)
    buttons = [button.text() for button in operations.buttons]
    assert buttons == list(operations.menus)
    menu = live.window.vendor_menu
    menu.aboutToShow.emit()
    assert menu.title().replace("&", "") == vendor.display_name  # (its Alt+letter: test_live_look)
    names = {action.objectName() for action in menu.actions()}
    assert {f"op_{name}" for name in operations.actions} <= names
    assert panel.account_bar.isVisible()
    QApplication.processEvents()


def test_closing_the_history_and_jobs_leave_nothing_running(live_window: LiveDriver) -> None:
    live = live_window
    history = live.window.show_history()
    assert history is not None
    history.close()
    live.wait_idle()
    assert not [job for job in live.window.runner.jobs if not job.done]


def test_the_details_pane_follows_a_change_and_keeps_bookkeeping_out(
    live_window: LiveDriver,
) -> None:
    live = live_window
    live.sync(I)
    panel = live.panel(I)
    live.select(codes(live), "promo_code_id", 7_000_003)
    live.wait_for(lambda: "SANDBOX02" in panel.details.toPlainText())
    assert "Fingerprint" not in panel.details.toPlainText()
    assert "Active" in panel.details.toPlainText()
    live.run(I, "expire")
    live.wait_for(lambda: "Inactive" in panel.details.toPlainText())


def test_a_table_read_again_after_a_create_keeps_the_selected_row(live_window: LiveDriver) -> None:
    live = live_window
    promotions = live.panel(O).promotions
    live.run(O, "get_promotion", {"promotion_id": "spring-welcome-2026"}, track=True)
    live.select(promotions, "promotion_id", "spring-welcome-2026")
    live.run(O, "create_promotion", {"name": "Later", "code": "LATER1", "promotion_id": "zz-later"})
    live.wait_for(lambda: promotions.model.rowCount() == 2 and not promotions.model.busy)

    def selected() -> list[Any]:
        rows = promotions.view.selectionModel().selectedRows()
        return [live.rows(promotions, "promotion_id")[index.row()] for index in rows]

    live.wait_for(lambda: selected() == ["spring-welcome-2026"])
    assert promotions.current_row() is not None
