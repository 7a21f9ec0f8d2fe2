"""What a new user sees: a window that fits and stays put, nothing cut mid-word, data shown
as text (never markup), the vendors' codes in words, searches and filters that keep the
README's promises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from promodesk.domain.vendors import Vendor
from promodesk.qt import QPoint, Qt
from promodesk.ui.main_window import MainWindow
from promodesk.ui.panels.table_browser import TableBrowser
from tests.helpers import allocation_rows, write_allocations
from tests.ui.test_main_window import column_values, drop_files, search, show_panel


def shown_headers(browser: TableBrowser) -> list[str]:
    header = browser.view.horizontalHeader()
    return [
        column.label
        for section, column in enumerate(browser.model.columns)
        if not header.isSectionHidden(section)
    ]


def wait_contents(qtbot: Any, browser: TableBrowser) -> None:
    with qtbot.waitSignal(browser.contents_known, timeout=10_000):
        browser.refresh()


# -- layout ------------------------------------------------------------------------------------


def test_a_first_start_fits_the_screen(qtbot: Any, windows: Any) -> None:
    main = windows()
    main.show()
    room = main.screen().availableGeometry()
    frame = main.frameGeometry()
    assert frame.width() <= room.width() and frame.height() <= room.height()
    assert main.statusBar().geometry().bottom() <= main.height()


def test_a_long_count_or_search_never_widens_the_window(qtbot: Any, window: MainWindow) -> None:
    window.resize(1000, 600)
    qtbot.waitUntil(lambda: window.width() == 1000, timeout=5_000)
    allocations = window.panels[Vendor.OPTIMOVE].allocations
    long_search = "SUMS-" + "no such code, however long the search " * 4
    search(qtbot, allocations, long_search)
    assert allocations.count_label.text().startswith("0 allocations match “SUMS-no such code")
    qtbot.wait(50)  # let layouts settle, as after any real keystroke
    assert window.width() == 1000
    assert window.minimumSizeHint().width() <= 1000
    # Cut at the end, with the whole text a hover away.
    assert allocations.count_label.toolTip()
    assert long_search.strip()[:40] in allocations.count_label.toolTip()


def test_messages_float_and_do_not_move_the_tables(qtbot: Any, window: MainWindow) -> None:
    view = window.panels[Vendor.OPTIMOVE].allocations.view.viewport()
    where = view.mapToGlobal(QPoint(0, 0))
    window.show_message("info", "Imported 1 file.")
    assert window.message_bar.isVisible()
    assert view.mapToGlobal(QPoint(0, 0)) == where
    window.show_message("error", "Something long went wrong. " * 12, "details\n" * 5)
    assert view.mapToGlobal(QPoint(0, 0)) == where
    window.message_bar.dismiss()
    assert view.mapToGlobal(QPoint(0, 0)) == where


def test_clicking_rows_does_not_move_the_splitters(qtbot: Any, window: MainWindow) -> None:
    window.resize(1200, 700)
    for vendor, parents in (
        (Vendor.OPTIMOVE, ("promotions", "promocodes", "code_files")),
        (Vendor.ALTCRAFT, ("programs", "codes")),
        (Vendor.IMPACT, ("programs", "codes")),
    ):
        panel = show_panel(window, vendor)
        qtbot.wait(200)
        before = [splitter.sizes() for splitter in panel.splitters]
        for name in parents:
            browser = getattr(panel, name)
            for row in (0, 1):
                index = browser.model.index(row, 0)
                qtbot.mouseClick(
                    browser.view.viewport(),
                    Qt.MouseButton.LeftButton,
                    pos=browser.view.visualRect(index).center(),
                )
                qtbot.wait(100)
        assert [splitter.sizes() for splitter in panel.splitters] == before, vendor


def test_columns_fit_their_headers_and_empty_ones_are_hidden(
    qtbot: Any, window: MainWindow
) -> None:
    panel = window.panels[Vendor.OPTIMOVE]
    for browser in panel.browsers:
        wait_contents(qtbot, browser)
        header = browser.view.horizontalHeader()
        for section in range(header.count() - 1):  # the last one stretches
            if not header.isSectionHidden(section):
                assert header.sectionSize(section) >= header.sectionSizeHint(section)
    # Saved exports leave promotions' names, codes and states blank: no empty columns.
    assert shown_headers(panel.promotions) == ["Promotion ID", "Promocodes", "Allocations"]
    assert "Global code" not in shown_headers(panel.promocodes)
    codes = window.panels[Vendor.IMPACT].codes
    assert codes.view.textElideMode() == Qt.TextElideMode.ElideRight


# -- data as text, never markup -------------------------------------------------------------------


def green_pixels(widget: Any) -> int:
    image = widget.grab().toImage()
    return sum(
        1
        for x in range(0, image.width(), 2)
        for y in range(0, image.height(), 2)
        if (color := image.pixelColor(x, y)).green() > 200
        and color.red() < 90
        and color.blue() < 90
    )


def test_a_file_name_with_markup_reads_as_its_name(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    name = "<font size=7 color=#00ff00>BIG.csv"  # (no "</font>": "/" is not a name's)
    bad = tmp_path / name
    bad.write_text("not,an,export\n1,2,3\n")
    with qtbot.waitSignal(window.imported, timeout=30_000):
        drop_files(window, [bad])
        job_title = window.job_status.label  # "Importing <font …>BIG.csv…" while it runs
        assert name in job_title.text()
        assert green_pixels(job_title) == 0
    text = window.message_bar.text
    assert name in text.text()
    qtbot.waitUntil(text.isVisible, timeout=5_000)
    assert green_pixels(text) == 0  # markup would paint it huge and green
    # Typed into a search box: the count and the empty table say it as typed.
    allocations = window.panels[Vendor.OPTIMOVE].allocations
    search(qtbot, allocations, name)
    assert allocations.empty_label.text() == f"Nothing matches “{name}”."
    assert green_pixels(allocations.empty_label) == 0
    assert green_pixels(allocations.count_label) == 0


def test_cell_tooltips_are_plain_text(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    rows = allocation_rows(1, promocode="pc-markup")
    rows[0][0] = "<b>customer</b>"
    with qtbot.waitSignal(window.imported, timeout=30_000):
        drop_files(window, [write_allocations(tmp_path / "markup.csv", rows)])
    allocations = window.panels[Vendor.OPTIMOVE].allocations
    search(qtbot, allocations, "<b>")
    at = [column.name for column in allocations.model.columns].index("customer_id")
    index = allocations.model.index(0, at)
    assert allocations.model.data(index) == "<b>customer</b>"
    assert allocations.model.data(index, Qt.ItemDataRole.ToolTipRole) == (
        "<qt>&lt;b&gt;customer&lt;/b&gt;</qt>"
    )


# -- words -------------------------------------------------------------------------------------


def test_impact_codes_read_in_words(qtbot: Any, window: MainWindow) -> None:
    codes = show_panel(window, Vendor.IMPACT).codes
    assert set(column_values(codes, "code_type")) <= {"Exact match", "Pattern"}
    assert set(column_values(codes, "credit_policy")) == {"Always", "If involved", "If last click"}
    assert set(column_values(codes, "status")) == {"Active", "Inactive"}
    at = [column.name for column in codes.model.columns].index("code_type")
    tip = codes.model.data(codes.model.index(0, at), Qt.ItemDataRole.ToolTipRole)
    assert "impact.com: LI" in tip or "impact.com: RE" in tip
    panel = window.panels[Vendor.IMPACT]
    with qtbot.waitSignal(panel.details.shown, timeout=10_000):
        codes.view.selectRow(0)
    details = panel.details.toPlainText()
    assert "Discount percent" in details and "DiscountPercent" not in details
    from promodesk.ui.panels.details import field_label

    assert field_label("SynchAdsPromoCodes") == "Synced with ads"  # (the sandbox's, typed)
    assert "Added run" not in details


def test_counts_say_one_thing_or_many(qtbot: Any, window: MainWindow) -> None:
    allocations = window.panels[Vendor.OPTIMOVE].allocations
    code = column_values(allocations, "unique_code")[0]
    search(qtbot, allocations, code)
    assert allocations.count_label.text() == f"1 allocation matches “{code}”"
    search(qtbot, allocations, "SUMS-")
    count = allocations.model.rowCount()
    assert allocations.count_label.text() == f"{count:,} allocations match “SUMS-”"


def test_local_code_files_go_by_their_name(qtbot: Any, window: MainWindow) -> None:
    panel = window.panels[Vendor.OPTIMOVE]
    name = "optimove_unique_codes_spring_batch3.csv"
    qtbot.waitUntil(lambda: name in column_values(panel.pool_codes, "file_id"), timeout=10_000)
    assert not any(str(v).startswith("local-") for v in column_values(panel.pool_codes, "file_id"))
    files = panel.code_files
    shown = column_values(files, "file_id")
    assert "Not uploaded" in shown and not any(str(v).startswith("local-") for v in shown)
    row = column_values(files, "file_name").index(name)
    with qtbot.waitSignal(panel.pool_codes.model.query_applied, timeout=10_000):
        files.view.selectRow(row)
    assert panel.pool_codes.scope_label.text() == f"in {name}"


# -- search and filters ------------------------------------------------------------------------


def test_a_partner_id_finds_the_partners_codes(qtbot: Any, window: MainWindow) -> None:
    codes = show_panel(window, Vendor.IMPACT).codes
    partner = column_values(codes, "partner_id")[0]
    search(qtbot, codes, partner)
    assert codes.model.rowCount() > 0
    assert set(column_values(codes, "partner_id")) == {partner}


def test_filters_offer_only_the_states_there_are(qtbot: Any, window: MainWindow) -> None:
    promotions = window.panels[Vendor.OPTIMOVE].promotions
    wait_contents(qtbot, promotions)
    combo = promotions.status_combo
    assert combo is not None and not combo.isEnabled()
    assert combo.currentText() == "State unknown"
    assert "exports do not include promotion states" in combo.toolTip()
    codes = window.panels[Vendor.ALTCRAFT].codes
    wait_contents(qtbot, codes)
    combo = codes.status_combo
    assert combo is not None and combo.isEnabled()
    offered = [
        combo.itemText(number)
        for number in range(combo.count())
        if not combo.view().isRowHidden(number)
    ]
    assert offered == ["All statuses", "Available", "Attached", "Activated"]  # none expired
