"""The main window driven like a user: real widgets, real workspace files, real imports."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from promodesk.domain.vendors import Vendor
from promodesk.qt import (
    QApplication,
    QDragEnterEvent,
    QDropEvent,
    QFileDialog,
    QMimeData,
    QPoint,
    Qt,
    QUrl,
)
from promodesk.store.db import connect
from promodesk.ui.main_window import MainWindow
from promodesk.ui.panels.table_browser import TableBrowser
from tests.conftest import DEMO_DIR
from tests.helpers import allocation_rows, named_pipe, write_allocations
from tests.ui.conftest import close_window, make_window, wait_job


def counts(path: Path) -> dict[str, int]:
    conn = connect(path, readonly=True)
    try:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in (
                "optimove_allocations",
                "altcraft_codes",
                "impact_codes",
                "optimove_pool_codes",
            )
        }
    finally:
        conn.close()


def search(qtbot: Any, browser: TableBrowser, text: str) -> None:
    browser.search_box.clear()
    with qtbot.waitSignal(browser.model.query_applied, timeout=10_000):
        qtbot.keyClicks(browser.search_box, text)
        qtbot.keyClick(browser.search_box, Qt.Key.Key_Return)


def column_values(browser: TableBrowser, name: str) -> list[Any]:
    model = browser.model
    at = [column.name for column in model.columns].index(name)
    return [model.data(model.index(row, at)) for row in range(min(model.rowCount(), 200))]


def activate(qtbot: Any, window: MainWindow) -> None:
    """Shortcuts only fire in the active window; on a real X server that takes a moment."""
    window.raise_()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)


def show_panel(window: MainWindow, vendor: Vendor) -> Any:
    panel = window.panels[vendor]
    window.tabs.setCurrentWidget(panel)
    return panel


def drop_files(window: MainWindow, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    point = window.centralWidget().rect().center()
    enter = QDragEnterEvent(
        point,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    assert window.drop_hint.isVisible()
    drop = QDropEvent(
        point.toPointF(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, drop)
    assert not window.drop_hint.isVisible()


def test_every_panel_shows_the_demo_data(window: MainWindow) -> None:
    optimove = window.panels[Vendor.OPTIMOVE]
    assert optimove.promotions.model.rowCount() == 3
    assert optimove.allocations.model.rowCount() == 20_000
    assert optimove.allocations.count_label.text() == "20,000 allocations"
    assert window.panels[Vendor.ALTCRAFT].codes.model.rowCount() == 500
    assert window.panels[Vendor.IMPACT].codes.model.rowCount() == 300
    assert window.windowTitle() == "Demo — promodesk"
    assert window.offline_label.text() == "Offline · data as of 20 Nov 2026 09:30"
    assert "Demo" in window.workspace_label.text()


def test_search_box_filters_the_codes(qtbot: Any, window: MainWindow) -> None:
    allocations = window.panels[Vendor.OPTIMOVE].allocations
    search(qtbot, allocations, "sums-z")
    codes = column_values(allocations, "unique_code")
    assert 0 < len(codes) < 20_000
    assert all("SUMS-Z" in code for code in codes)
    assert "match “sums-z”" in allocations.count_label.text()
    # A customer id prefix finds that customer's allocations.
    customer = column_values(allocations, "customer_id")[0]
    search(qtbot, allocations, customer)
    assert customer in column_values(allocations, "customer_id")
    search(qtbot, allocations, "no-such-code")
    assert allocations.model.rowCount() == 0
    assert allocations.empty_label.isVisible()
    assert "Nothing matches" in allocations.empty_label.text()


def test_state_filter_and_selection_narrow_the_codes(qtbot: Any, window: MainWindow) -> None:
    panel = show_panel(window, Vendor.ALTCRAFT)
    combo = panel.codes.status_combo
    assert combo is not None
    with qtbot.waitSignal(panel.codes.model.query_applied, timeout=10_000):
        combo.setCurrentIndex(combo.findData("activated"))
    assert set(column_values(panel.codes, "status")) == {"Activated"}
    with qtbot.waitSignal(panel.codes.model.query_applied, timeout=10_000):
        qtbot.mouseClick(
            panel.programs.view.viewport(),
            Qt.MouseButton.LeftButton,
            pos=panel.programs.view.visualRect(panel.programs.model.index(0, 0)).center(),
        )
    loyalty = panel.programs.model.data(panel.programs.model.index(0, 0))
    assert set(column_values(panel.codes, "loyalty_id")) == {loyalty}
    assert set(column_values(panel.codes, "status")) == {"Activated"}
    assert panel.codes.scope_label.isVisible()
    with qtbot.waitSignal(panel.codes.model.query_applied, timeout=10_000):
        qtbot.mouseClick(panel.codes.scope_clear, Qt.MouseButton.LeftButton)
    assert len(set(column_values(panel.codes, "loyalty_id"))) == 2


def test_promotion_to_promocode_to_allocations(qtbot: Any, window: MainWindow) -> None:
    panel = window.panels[Vendor.OPTIMOVE]
    with qtbot.waitSignal(panel.promocodes.model.query_applied, timeout=10_000):
        panel.promotions.view.selectRow(0)
    promotion = panel.promotions.model.data(panel.promotions.model.index(0, 0))
    assert panel.promocodes.model.rowCount() == 1
    with qtbot.waitSignal(panel.allocations.model.query_applied, timeout=10_000):
        panel.promocodes.view.selectRow(0)
    assert set(column_values(panel.allocations, "promotion_id")) == {promotion}
    # The details pane shows the selected allocation.
    with qtbot.waitSignal(panel.details.shown, timeout=10_000):
        panel.allocations.view.selectRow(0)
    code = panel.allocations.model.data(panel.allocations.model.index(0, 0))
    assert code in panel.details.toPlainText()


def test_clicking_a_header_sorts_in_sql(qtbot: Any, window: MainWindow) -> None:
    codes = show_panel(window, Vendor.IMPACT).codes
    section = [column.name for column in codes.model.columns].index("partner_name")
    header = codes.view.horizontalHeader()
    position = QPoint(header.sectionViewportPosition(section) + 10, header.height() // 2)
    with qtbot.waitSignal(codes.model.query_applied, timeout=10_000):
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=position)
    assert codes.model.query.sort_column == "partner_name"
    qtbot.waitUntil(
        lambda: (
            None
            not in [
                codes.model.data(codes.model.index(r, section))
                for r in range(codes.model.rowCount())
            ]
        )
    )
    partners = [
        codes.model.data(codes.model.index(row, section)) for row in range(codes.model.rowCount())
    ]
    ascending = codes.model.query.descending is False
    assert partners == sorted(partners, reverse=not ascending)


def test_scrolling_to_the_end_loads_the_last_rows(qtbot: Any, window: MainWindow) -> None:
    allocations = window.panels[Vendor.OPTIMOVE].allocations
    allocations.view.scrollToBottom()
    last = allocations.model.index(allocations.model.rowCount() - 1, 0)
    qtbot.waitUntil(lambda: allocations.model.data(last) is not None, timeout=10_000)
    assert allocations.model.data(last).startswith(("SPRW", "SUMS", "VIPW"))


def test_dropping_files_imports_them(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    path = write_allocations(
        tmp_path / "new_export.csv",
        allocation_rows(250, promocode="pc-dropped", promotion="dropped-promo"),
    )
    before = window.panels[Vendor.OPTIMOVE].promotions.model.rowCount()
    with qtbot.waitSignal(window.imported, timeout=30_000) as imported:
        drop_files(window, [path])
    assert imported.args[0].summaries == ["new_export.csv: 250 new allocations"]
    panel = window.panels[Vendor.OPTIMOVE]
    qtbot.waitUntil(lambda: panel.promotions.model.rowCount() == before + 1, timeout=10_000)
    assert window.message_bar.isVisible() and window.message_bar.level == "info"
    assert "250 new allocations" in window.message_bar.text.text()
    search(qtbot, panel.allocations, "CODE00001")  # CODE0000100 .. CODE0000199
    assert panel.allocations.model.rowCount() == 100


def test_an_import_brings_its_vendors_tab_forward(qtbot: Any, window: MainWindow) -> None:
    """An Altcraft export dropped on the Optimove tab: the Altcraft tab comes forward, where
    its codes are (the note about them would otherwise sit on a hidden tab)."""
    window.tabs.setCurrentIndex(0)
    assert window.current_vendor() is Vendor.OPTIMOVE
    with qtbot.waitSignal(window.imported, timeout=30_000) as imported:
        drop_files(window, [DEMO_DIR / "altcraft_export_all_loyalty-5.json"])
    assert imported.args[0].vendors == (Vendor.ALTCRAFT,)
    assert window.current_vendor() is Vendor.ALTCRAFT
    # Files of two vendors at once: the tab on screen stays.
    window.show_vendor(Vendor.IMPACT)
    with qtbot.waitSignal(window.imported, timeout=30_000):
        drop_files(
            window,
            [
                DEMO_DIR / "altcraft_export_all_loyalty-5.json",
                DEMO_DIR / "optimove_allocations_2026-11-20.csv",
            ],
        )
    assert window.current_vendor() is Vendor.IMPACT


def test_a_bad_file_shows_an_error_and_keeps_the_data(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    bad = tmp_path / "broken.csv"
    good_rows = allocation_rows(5)
    write_allocations(bad, good_rows)
    bad.write_text(bad.read_text() + "C9,pc,p,f\n")
    workspace = window.session.path
    before = counts(workspace)
    with qtbot.waitSignal(window.imported, timeout=30_000):
        drop_files(window, [bad])
    assert window.message_bar.level == "error"
    text = window.message_bar.text.text()
    assert "broken.csv" in text and "line 7" in text and "expected 9 columns, found 4" in text
    assert "not changed" in text
    assert counts(workspace) == before
    assert window.panels[Vendor.OPTIMOVE].allocations.model.rowCount() == 20_000
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.message_bar.isVisible()


def test_good_and_bad_files_together(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    good = write_allocations(tmp_path / "good.csv", allocation_rows(3, promocode="pc-good"))
    bad = tmp_path / "picture.csv"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with qtbot.waitSignal(window.imported, timeout=30_000):
        drop_files(window, [good, bad])
    assert window.message_bar.level == "warning"
    assert "1 file could not be imported" in window.message_bar.text.text()
    assert "picture.csv: this is a PNG image" in window.message_bar.details.toPlainText()
    assert counts(window.session.path)["optimove_allocations"] == 20_003


def test_a_named_pipe_is_refused_and_the_window_keeps_working(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    # Opening a FIFO blocks until someone writes to it: the import thread hung, Cancel could
    # not stop it and the app could not exit. It is refused before it is opened.
    before = counts(window.session.path)
    with named_pipe(tmp_path / "export.csv") as fifo:
        job = window.import_paths([fifo])
        assert job is not None
        wait_job(qtbot, job)
    assert window.message_bar.level == "error"
    assert "export.csv: this is a named pipe (FIFO)" in window.message_bar.text.text()
    assert counts(window.session.path) == before
    good = write_allocations(tmp_path / "good.csv", allocation_rows(3, promocode="pc-after"))
    assert wait_job(qtbot, window.import_paths([good])).error is None
    assert counts(window.session.path)["optimove_allocations"] == before["optimove_allocations"] + 3


def test_cancelling_an_import_changes_nothing(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    path = write_allocations(tmp_path / "huge.csv", allocation_rows(400_000, promocode="pc-huge"))
    workspace = window.session.path
    before = counts(workspace)
    job = window.import_paths([path])
    assert window.job_status.isVisible()
    qtbot.waitUntil(
        lambda: job.progress is not None and (job.progress.fraction or 0) > 0.05, timeout=30_000
    )
    qtbot.mouseClick(window.job_status.cancel_button, Qt.MouseButton.LeftButton)
    wait_job(qtbot, job)
    assert job.cancelled
    assert "cancelled" in window.message_bar.text.text().lower()
    assert not window.job_status.isVisible()
    assert counts(workspace) == before


def test_open_export_through_the_file_dialog(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    path = write_allocations(tmp_path / "picked.csv", allocation_rows(7, promocode="pc-picked"))
    window.open_export_action.trigger()
    dialog = window.findChild(QFileDialog, "openExportDialog")
    assert dialog is not None and dialog.isVisible()
    with qtbot.waitSignal(window.imported, timeout=30_000):
        dialog.filesSelected.emit([str(path)])
        dialog.close()
    assert "picked.csv: 7 new allocations" in window.message_bar.text.text()


def test_save_as_then_reopen(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    target = tmp_path / "saved" / "Client A.promodesk"
    with qtbot.waitSignal(window.workspace_opened, timeout=30_000):
        wait_job(qtbot, window.save_workspace_as(target))
    assert window.session.path == target
    assert window.windowTitle() == "Client A — promodesk"
    assert not Path(f"{target}.tmp").exists()
    assert counts(target)["optimove_allocations"] == 20_000
    qtbot.waitUntil(
        lambda: window.panels[Vendor.OPTIMOVE].allocations.model.rowCount() == 20_000,
        timeout=10_000,
    )


def test_shortcuts_switch_vendor_and_focus_search(qtbot: Any, window: MainWindow) -> None:
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.panels[Vendor.ALTCRAFT]
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.panels[Vendor.IMPACT]
    window.panels[Vendor.IMPACT].codes.view.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.panels[Vendor.IMPACT].codes.search_box.hasFocus()


def test_layout_and_last_workspace_are_restored(qtbot: Any, windows: Any, demo_copy: Path) -> None:
    first = windows()
    first.show()
    wait_job(qtbot, first.open_workspace(demo_copy))
    first.tabs.setCurrentIndex(2)
    screen = first.screen().availableGeometry()
    first.resize(screen.width() * 3 // 4 - 7, screen.height() * 3 // 4 - 5)
    size = (first.width(), first.height())  # what the platform granted
    close_window(qtbot, first)

    second = windows()
    second.show()
    assert second.tabs.currentIndex() == 2
    assert (second.width(), second.height()) == size
    job = wait_job(qtbot, second.start(None))
    assert job.error is None
    assert second.session is not None and second.session.path == demo_copy
    second.recent_menu.aboutToShow.emit()
    assert demo_copy.name in [action.text() for action in second.recent_menu.actions()]


def test_a_workspace_that_cannot_be_opened_is_reported(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    other = tmp_path / "not-a-workspace.promodesk"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE x(y)")
    conn.close()
    job = wait_job(qtbot, window.open_workspace(other))
    assert job.error is not None
    assert window.message_bar.level == "error"
    assert "not a promodesk workspace" in window.message_bar.text.text()
    assert window.session is not None and window.session.path.name == "Demo.promodesk"


def test_an_empty_workspace_says_how_to_start(qtbot: Any, empty_window: MainWindow) -> None:
    main = empty_window
    codes = show_panel(main, Vendor.IMPACT).codes
    qtbot.waitUntil(lambda: not codes.model.busy)
    qtbot.waitUntil(codes.empty_label.isVisible, timeout=5_000)
    # Nothing imported: the panel shows the built-in sandbox, ready to try, and says how to
    # fill it or open an export instead.
    assert "Refresh (F5) reads what Sandbox has at impact.com" in codes.empty_label.text()
    assert "open it (Ctrl+O)" in codes.empty_label.text()
    assert main.offline_label.text() == "Sandbox · online · no impact.com data yet"


@pytest.mark.asyncio
async def test_import_job_resolves_a_future_in_a_coroutine(demo_copy: Path, tmp_path: Path) -> None:
    """Async flavour: the qasync loop from the loop-factory hook; the job's future is
    resolved by its `finished` signal."""
    main = make_window(tmp_path)
    main.show()
    opened = await main.open_workspace(demo_copy).as_future()
    assert opened.error is None
    main.importing.demo_confirmed = True
    path = write_allocations(tmp_path / "async.csv", allocation_rows(12, promocode="pc-async"))
    job = await main.import_paths([path]).as_future()
    assert job.result.rows_added == 12
    main.close()
    await main.shutdown()
    await asyncio.sleep(0)
