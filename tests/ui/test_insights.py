"""Insights through the window: each view on a workspace whose answers are known
(tests/insight_workspace.py), its copy and CSV export, the redemption mapping step, and the
warnings (a pool under the runway threshold, collisions after a refresh)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from promodesk.domain.vendors import Vendor
from promodesk.qt import (
    QAction,
    QApplication,
    QDialogButtonBox,
    QFileDialog,
    QGuiApplication,
    Qt,
)
from promodesk.store.reconcile import EXPORT_HEADER as RECONCILE_HEADER
from promodesk.ui.main_window import MainWindow
from tests.insight_workspace import FAST_LEFT, FAST_PER_DAY, build_insight_workspace
from tests.ui.conftest import wait_job


@pytest.fixture
def insight_window(qtbot: Any, windows: Any, tmp_path: Path) -> MainWindow:
    path = build_insight_workspace(tmp_path)
    main = windows()
    main.show()
    job = wait_job(qtbot, main.open_workspace(path))
    assert job.error is None, job.error
    return main


def activate(qtbot: Any, widget: Any) -> None:
    widget.raise_()
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow, timeout=5_000)


def computed(qtbot: Any, view: Any) -> None:
    qtbot.waitUntil(
        lambda: (
            view.computed
            and (view.job is None or view.job.done)
            and all(not b.model.busy for b in view.browsers())
        ),
        timeout=15_000,
    )


def column(browser: Any, name: str) -> list[str]:
    """What the table shows in a column, every row (they are few here)."""
    model = browser.model
    at = [c.name for c in model.columns].index(name)
    return [model.data(model.index(row, at)) for row in range(model.rowCount())]


def export_through_dialog(qtbot: Any, view: Any, target: Path) -> list[list[str]]:
    view.export_button.click()
    chooser = view.findChild(QFileDialog, "insightExportDialog")
    assert chooser is not None
    chooser.fileSelected.emit(str(target))
    chooser.close()
    qtbot.waitUntil(target.exists, timeout=15_000)
    qtbot.waitUntil(lambda: view.message_bar.isVisible(), timeout=15_000)
    with target.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


# -- what changed ----------------------------------------------------------------------------------


def test_what_changed_lists_the_known_changes_with_counts_and_exports_them(
    qtbot: Any, insight_window: MainWindow, tmp_path: Path
) -> None:
    window = insight_window
    activate(qtbot, window)
    qtbot.keyClick(
        window,
        Qt.Key.Key_C,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    view = window.insights.views.get("changes")
    assert view is not None and view.isVisible()
    # Every source, each one's latest snapshot against the one before: for impact.com, the
    # refresh against the import (the Optimove allocations: added by their only import).
    source = view.source.findText("Shop impact (impact.com)")
    assert source > 0
    view.source.setCurrentIndex(source)
    computed(qtbot, view)
    qtbot.waitUntil(lambda: view.browser.model.rowCount() == 4, timeout=15_000)
    assert view.summary.text().splitlines()[0] == "Codes: 1 added, 1 changed state, 2 removed"
    assert sorted(
        zip(column(view.browser, "name"), column(view.browser, "change"), strict=True)
    ) == [
        ("IMP0003", "changed state"),
        ("IMP0008", "removed"),
        ("IMP0009", "removed"),
        ("IMP0010", "added"),
    ]
    counts = {
        tuple(view.counts.item(row, c).text() for c in range(4))
        for row in range(view.counts.rowCount())
    }
    assert ("Code", "changed state", "active → inactive", "1") in counts
    assert ("Code", "removed", "active → gone", "2") in counts
    # A count picked: only those rows; picked again (cleared): all.
    row = next(
        r for r in range(view.counts.rowCount()) if view.counts.item(r, 1).text() == "removed"
    )
    view.counts.selectRow(row)
    qtbot.waitUntil(lambda: column(view.browser, "name") == ["IMP0008", "IMP0009"], timeout=15_000)
    view.counts.clearSelection()
    qtbot.waitUntil(lambda: view.browser.model.rowCount() == 4, timeout=15_000)

    # Between two snapshots picked by hand: the same answer; the wrong way round, a reason.
    view.mode.setCurrentIndex(view.mode.findData("between"))
    qtbot.waitUntil(lambda: view.upto.count() == 2, timeout=15_000)
    computed(qtbot, view)
    qtbot.waitUntil(lambda: view.browser.model.rowCount() == 4, timeout=15_000)
    view.after.setCurrentIndex(1)
    view.upto.setCurrentIndex(0)
    qtbot.waitUntil(
        lambda: view.summary.text() == "Pick an older snapshot first and a newer one second.",
        timeout=15_000,
    )
    qtbot.waitUntil(lambda: view.browser.model.rowCount() == 0, timeout=15_000)
    view.after.setCurrentIndex(0)
    view.upto.setCurrentIndex(1)
    qtbot.waitUntil(lambda: view.browser.model.rowCount() == 4, timeout=15_000)

    # Since a date: from tomorrow, nothing yet; from a month ago, every code of the source
    # as added (the ones gone since are not listed: they came and went).
    from promodesk.qt import QDate

    view.mode.setCurrentIndex(view.mode.findData("since"))
    view.since.setDate(QDate.currentDate().addDays(1))
    qtbot.waitUntil(
        lambda: (
            view.summary.text().startswith("Codes: no change")
            and view.browser.model.rowCount() == 0
        ),
        timeout=15_000,
    )
    view.since.setDate(QDate.currentDate().addDays(-30))
    qtbot.waitUntil(lambda: view.browser.model.rowCount() >= 9, timeout=15_000)
    computed(qtbot, view)
    codes = [
        (name, change)
        for name, what, change in zip(
            column(view.browser, "name"),
            column(view.browser, "what"),
            column(view.browser, "change"),
            strict=True,
        )
        if what == "code"
    ]
    assert codes == [(f"IMP{n:04d}", "added") for n in (*range(8), 10)]
    view.mode.setCurrentIndex(view.mode.findData("between"))
    qtbot.waitUntil(lambda: view.browser.model.rowCount() == 4, timeout=15_000)

    # Copy: what the table shows, with a header.
    QGuiApplication.clipboard().clear()
    view.browser.view.selectRow(0)
    view.copy_button.click()
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text() != "", timeout=15_000)
    lines = QGuiApplication.clipboard().text().splitlines()
    assert lines[0].split("\t")[:4] == ["Source", "Vendor", "What", "Code / name"]
    assert lines[1].split("\t")[:4] == ["Shop impact (impact.com)", "impact.com", "code", "IMP0003"]

    rows = export_through_dialog(qtbot, view, tmp_path / "changes.csv")
    assert rows[0] == ["source", "vendor", "what", "code or name", "in", "change", "was", "now"]
    assert sorted((row[3], row[5], row[6], row[7]) for row in rows[1:]) == [
        ("IMP0003", "changed", "active", "inactive"),
        ("IMP0008", "removed", "active", "gone"),
        ("IMP0009", "removed", "active", "gone"),
        ("IMP0010", "added", "", "active"),
    ]
    assert {row[0] for row in rows[1:]} == {"Shop impact"}
    view.close()
    QApplication.processEvents()
    assert "changes" not in window.insights.views


def test_the_insights_menu_opens_each_view(qtbot: Any, insight_window: MainWindow) -> None:
    window = insight_window
    for name in ("changes", "collisions", "runway", "reconcile"):
        action = window.findChild(QAction, f"insight_{name}")
        assert action is not None and action.shortcuts()
        action.trigger()
        view = window.insights.views[name]
        assert view.isVisible()
        view.close()


# -- collisions ------------------------------------------------------------------------------------


def test_collisions_lists_a_code_live_at_two_vendors_and_exports_it(
    qtbot: Any, insight_window: MainWindow, tmp_path: Path
) -> None:
    view = insight_window.insights.open("collisions")
    assert view is not None
    computed(qtbot, view)
    qtbot.waitUntil(lambda: view.browser.model.rowCount() == 2, timeout=15_000)
    assert view.summary.text() == "1 code live in two places or more: 1 at two vendors."
    assert sorted(column(view.browser, "code")) == ["IMP0001", "imp0001"]
    assert sorted(column(view.browser, "vendor")) == ["Optimove", "impact.com"]
    assert set(column(view.browser, "collision")) == {"two vendors"}
    assert "differs only in upper/lower case" in column(view.browser, "alike")
    view.kind.setCurrentIndex(view.kind.findData("two pools"))
    qtbot.waitUntil(lambda: view.browser.model.rowCount() == 0, timeout=15_000)
    assert view.browser.empty_label.isVisible()
    view.kind.setCurrentIndex(0)
    qtbot.waitUntil(lambda: view.browser.model.rowCount() == 2, timeout=15_000)
    # An export cancelled leaves the file there as it was, and says so.
    kept = tmp_path / "kept.csv"
    kept.write_text("the user's own file\n", encoding="utf-8")
    job = view.export(kept)
    assert job is not None
    job.cancel()
    wait_job(qtbot, job)
    assert job.cancelled
    assert kept.read_text(encoding="utf-8") == "the user's own file\n"
    assert view.message_bar.text.text() == "Export cancelled; kept.csv was not written."
    assert [path.name for path in tmp_path.iterdir() if "kept" in path.name] == ["kept.csv"]
    rows = export_through_dialog(qtbot, view, tmp_path / "collisions.csv")
    assert rows[0][:5] == ["same code", "code", "live at", "how alike", "vendor"]
    assert sorted((row[1], row[4], row[5]) for row in rows[1:]) == [
        ("IMP0001", "impact", "Shop impact"),
        ("imp0001", "optimove", "Imported files"),
    ]


def test_a_refresh_that_finds_a_collision_warns_in_the_panel(
    live_window: Any, tmp_path: Path
) -> None:
    from tests.helpers import impact_code, impact_page, write_json

    live = live_window
    live.sync(Vendor.ALTCRAFT)
    panel = live.panel(Vendor.ALTCRAFT)
    live.wait_for(lambda: panel.codes.model.rowCount() > 0)
    code = panel.codes.model.value(panel.codes.model.row_at(0), "code")
    # The same code, but for the case, imported as an impact.com code.
    exported = write_json(
        tmp_path / "impact.json", impact_page([impact_code(1, Code=code.lower())])
    )
    job = live.window.import_paths([exported])
    live.wait_for(lambda: job is not None and job.done)
    live.sync(Vendor.ALTCRAFT)
    bar = panel.message_bar
    live.wait_for(lambda: bar.isVisible() and "also live elsewhere" in bar.text.text())
    assert bar.text.text().startswith("1 code of this account is also live elsewhere (1 at two")
    assert bar.action_button.text() == "Show collisions"
    bar.action_button.click()
    view = live.window.insights.views["collisions"]
    live.wait_for(lambda: view.computed and view.browser.model.rowCount() == 2)
    view.close()


# -- pool runway -----------------------------------------------------------------------------------


def test_a_pool_under_the_threshold_is_warned_about_and_its_action_opens_the_code_file_wizard(
    qtbot: Any, insight_window: MainWindow
) -> None:
    from datetime import UTC, datetime, timedelta

    window = insight_window
    panel = window.panel_of(Vendor.OPTIMOVE)
    bar = panel.message_bar
    qtbot.waitUntil(lambda: bar.isVisible() and "pc-fast" in bar.text.text(), timeout=15_000)
    dry_on = datetime.now(UTC).date() + timedelta(days=FAST_LEFT // FAST_PER_DAY)
    assert bar.text.text() == (
        f"Pool running dry: promocode pc-fast: {FAST_LEFT} codes left, {FAST_PER_DAY:.1f} a day: "
        f"runs dry on {dry_on.day} {dry_on:%b %Y} (in 5 days) and customers get the fallback code "
        "FALLBACK10."
    )
    assert bar.level == "warning"
    opened: list[Any] = []
    window.wizards.opened.connect(opened.append)
    bar.action_button.click()
    qtbot.waitUntil(lambda: bool(opened), timeout=15_000)
    wizard = opened[0]
    assert type(wizard).__name__ == "CodeFileWizard"
    assert wizard.promocode_id == "pc-fast"
    wizard.done(0)

    # The view: one row per pool, the known answers; the threshold moves the flag.
    view = window.insights.open("runway")
    assert view is not None
    qtbot.waitUntil(lambda: view.computed and view.table.rowCount() == 2, timeout=15_000)
    rows = {
        view.table.item(row, 3).text(): [view.table.item(row, c).text() for c in range(10)]
        for row in range(2)
    }
    assert rows["pc-fast"] == [
        "⚠",
        "Optimove",
        "Imported files",
        "pc-fast",
        "promo-1",
        "50",
        "10.0",
        "steady",
        dry_on.strftime("%d %b %Y").lstrip("0"),
        "5",
    ]
    assert rows["pc-slow"][0] == "" and rows["pc-slow"][5] == "486"
    assert view.summary.text().startswith("1 of 2 pools run dry within 14 days")
    # The chart: the selected pool's codes handed out per day, then the projection.
    view.table.selectRow(list(rows).index("pc-fast"))
    assert view.chart.markers and view.chart.markers[0].day == dry_on.isoformat()
    assert sum(v or 0 for v in view.chart.series[0].values) == 14 * FAST_PER_DAY
    # The value under the pointer: yesterday's bar (the chart's last day before "as of").
    chart = view.chart
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    x = round(chart.x_of(chart.days.index(yesterday)))
    assert "handed out: 10" in chart.tooltip_at(x).splitlines()
    view.threshold.setValue(4)
    qtbot.waitUntil(lambda: view.summary.text().startswith("No pool runs dry"), timeout=15_000)
    assert window.insights.threshold_days == 4
    view.table.selectRow(next(r for r in range(2) if view.table.item(r, 3).text() == "pc-fast"))
    opened.clear()
    view.fix_button.click()
    qtbot.waitUntil(lambda: bool(opened), timeout=15_000)
    assert opened[0].promocode_id == "pc-fast"
    opened[0].done(0)
    view.close()


def test_the_runway_chart_draws_the_pools_days_and_its_projection_to_the_dry_day(
    qtbot: Any, insight_window: MainWindow
) -> None:
    from promodesk.qt import QBarSeries, QColor, QLineSeries
    from promodesk.ui.insights.chart import short_day

    view = insight_window.insights.open("runway")
    assert view is not None
    view.resize(1366, 700)
    qtbot.waitUntil(lambda: view.computed and view.table.rowCount() == 2, timeout=15_000)
    view.table.selectRow(next(r for r in range(2) if view.table.item(r, 3).text() == "pc-fast"))
    runway = view.selected_runway()
    assert runway is not None and runway.pool == "pc-fast" and runway.dry_on
    chart = view.chart
    qtbot.waitUntil(lambda: chart.plot_rect().width() > 400, timeout=5_000)
    drawn = chart.chart().series()
    # The bars: the pool's codes handed out per day, then nothing on the projected days.
    (bars,) = [series for series in drawn if isinstance(series, QBarSeries)]
    (handed_out,) = bars.barSets()
    assert handed_out.label() == "handed out"
    history = runway.per_day[-42:]
    assert chart.days[: len(history)] == [day for day, _ in history]
    assert [handed_out.at(n) for n in range(handed_out.count())] == [
        float(count) for _, count in history
    ] + [0.0] * (len(chart.days) - len(history))
    assert sum(count for _, count in history) == 14 * FAST_PER_DAY
    # The projection: dashed, at the recent pace, from the last day with data through the
    # day the pool runs dry, which is marked.
    dry = chart.days.index(runway.dry_on)
    lines = [series for series in drawn if isinstance(series, QLineSeries)]
    (pace,) = [line for line in lines if line.name() == f"at {runway.average:,.1f} a day"]
    assert pace.pen().style() == Qt.PenStyle.DashLine
    points = pace.points()
    assert points[0].x() == len(history) - 1
    assert points[0].x() < dry <= points[-1].x()
    assert {point.y() for point in points} == {runway.average}
    (marker,) = [line for line in lines if line.name().startswith("runs dry")]
    assert [point.x() for point in marker.points()] == [dry, dry]
    assert [label.text() for label, _, _ in chart.marker_labels] == [marker.name()]
    # The day labels are dates, as many as fit whole.
    labels = chart.x_axis.categoriesLabels()
    assert labels[0] == short_day(chart.days[0])
    assert set(labels) <= {short_day(day) for day in chart.days}
    assert len(labels) >= 4
    assert not chart.x_axis.labelsTruncated() and not chart.y_axis.labelsTruncated()
    # On screen: the last day with codes handed out is a bar in its colour; a projected day
    # has none.
    image = chart.grab().toImage()
    last = max(n for n, (_, count) in enumerate(history) if count)
    bar = chart.point_of(last, history[last][1] / 2)
    assert image.pixelColor(bar) == QColor("#3a7bd5")
    empty = chart.point_of(dry - 1, chart.ceiling * 0.3)  # between grid lines
    assert image.pixelColor(empty) == chart.palette().color(chart.palette().ColorRole.Base)
    view.close()


# -- reconciliation --------------------------------------------------------------------------------


def write_redemptions(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Order", "Coupon Code", "Customer ID", "Created At"])
        writer.writerows(rows)
    return path


def test_reconciliation_imports_through_the_mapping_step_and_lists_what_does_not_add_up(
    qtbot: Any, insight_window: MainWindow, tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    from promodesk.qt import QDialog

    window = insight_window
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    at = f"{yesterday.isoformat()} 12:00:00"  # UTC, as the mapping says
    code = f"PC-FAST-{yesterday:%m%d}"
    first = write_redemptions(
        tmp_path / "shop-1.csv",
        [
            ["1001", f"{code}-00", f"C-pc-fast-{yesterday:%m%d}-0", at],  # matched
            ["1002", f"  {code.lower()}-01 ", "somebody-else", at],  # another customer
            ["1003", "NOPE123", "C-9", at],  # never allocated
            ["1004", "", "C-10", at],  # an order without a code: skipped
        ],
    )
    view = window.insights.open("reconcile")
    assert view is not None
    computed(qtbot, view)
    assert view.summary.text().startswith("No redemptions imported yet (154 allocations")
    view.days.setValue(7)  # (worked out again a moment after the last click)
    qtbot.waitUntil(
        lambda: view.tabs.tabText(2).startswith("Not redeemed after 7 days"), timeout=15_000
    )
    view.import_file(first)
    qtbot.waitUntil(lambda: view.mapping_dialog is not None, timeout=15_000)
    mapping = view.mapping_dialog
    assert mapping.isVisible()
    # The suggestion from the column names.
    assert mapping.code.currentData() == "Coupon Code"
    assert mapping.customer.currentData() == "Customer ID"
    assert mapping.time.currentData() == "Created At"
    mapping.source.setText("")
    mapping.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    assert mapping.problem.text() == "Give the source a name."
    assert mapping.isVisible()
    mapping.source.setText("Shop EU")
    mapping.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    assert mapping.result() == QDialog.DialogCode.Accepted
    qtbot.waitUntil(lambda: view.summary.text().startswith("3 redemptions"), timeout=15_000)
    computed(qtbot, view)
    assert view.summary.text() == (
        "3 redemptions: 1 matched, 1 by another customer than allocated, 1 never allocated.\n"
        "154 allocations: 2 redeemed (1.3%), 77 not redeemed 7 days after."
    )
    assert "1 row(s) without a code" in view.message_bar.text.text()
    assert [view.tabs.tabText(n) for n in range(3)] == [
        "Redeemed by another customer (1)",
        "Redeemed, never allocated (1)",
        "Not redeemed after 7 days (77)",
    ]
    other = view.lists["other customer"]
    qtbot.waitUntil(lambda: other.model.rowCount() == 1 and not other.model.busy, timeout=15_000)
    assert column(other, "redeemed_by") == ["somebody-else"]
    assert column(other, "allocated_to") == [f"C-pc-fast-{yesterday:%m%d}-1"]
    never = view.lists["never allocated"]
    qtbot.waitUntil(lambda: column(never, "code") == ["NOPE123"], timeout=15_000)
    assert view.source.findText("Shop EU") > 0
    # Rate per promotion: promo-1, 2 of 154 redeemed.
    rates = view.per_promotion
    assert [rates.item(0, c).text() for c in range(1, 5)] == ["promo-1", "154", "2", "1.3%"]
    assert view.chart.days and view.chart.series[0].label == "allocated"
    assert sum(v or 0 for v in view.chart.series[0].values) == 154
    # What the chart draws: the report's figures per day, as bars and a line.
    from promodesk.qt import QBarSeries, QLineSeries

    per_day = view.summary_data.per_day
    drawn = view.chart.chart().series()
    (bars,) = [series for series in drawn if isinstance(series, QBarSeries)]
    assert [
        (bar_set.label(), [bar_set.at(n) for n in range(bar_set.count())])
        for bar_set in bars.barSets()
    ] == [
        ("allocated", [float(day.allocations) for day in per_day]),
        ("of them redeemed", [float(day.redeemed) for day in per_day]),
    ]
    (line,) = [series for series in drawn if isinstance(series, QLineSeries)]
    assert line.name() == "redemptions"
    assert [(point.x(), point.y()) for point in line.points()] == [
        (float(n), float(day.redemptions)) for n, day in enumerate(per_day)
    ]

    # The list exported: the tab on screen.
    view.tabs.setCurrentIndex(0)
    rows = export_through_dialog(qtbot, view, tmp_path / "other.csv")
    assert rows[0] == list(RECONCILE_HEADER)
    assert [(row[0], row[1].strip(), row[2]) for row in rows[1:]] == [
        ("other customer", f"{code.lower()}-01", "somebody-else")
    ]

    # The next export with the same columns: no question, the saved mapping is used.
    view.message_bar.dismiss()
    second = write_redemptions(
        tmp_path / "shop-2.csv", [["2001", f"{code}-02", f"C-pc-fast-{yesterday:%m%d}-2", at]]
    )
    view.import_file(second)
    qtbot.waitUntil(
        lambda: (
            view.message_bar.isVisible()
            and "read with the columns saved for Shop EU" in view.message_bar.text.text()
        ),
        timeout=15_000,
    )
    assert view.mapping_dialog is None
    qtbot.waitUntil(
        lambda: view.summary.text().startswith("4 redemptions: 2 matched"), timeout=15_000
    )

    # A bad row: nothing kept, and the message names the file and the line.
    bad = write_redemptions(
        tmp_path / "shop-3.csv",
        [["3001", f"{code}-03", "C-1", at], ["3002", f"{code}-04", "C-2", "next tuesday"]],
    )
    view.import_file(bad)
    qtbot.waitUntil(lambda: view.message_bar.level == "error", timeout=15_000)
    text = view.message_bar.text.text()
    assert text.startswith("Nothing was imported. shop-3.csv: line 3: Created At:")
    computed(qtbot, view)
    assert view.summary.text().startswith("4 redemptions")
    view.close()


def test_enter_in_a_search_box_searches_and_ctrl_c_copies(
    qtbot: Any, insight_window: MainWindow
) -> None:
    view = insight_window.insights.open("collisions")
    assert view is not None
    computed(qtbot, view)
    qtbot.waitUntil(lambda: view.browser.model.rowCount() == 2, timeout=15_000)
    activate(qtbot, view)
    view.browser.search_box.setFocus()
    qtbot.keyClicks(view.browser.search_box, "IMP0001")
    QGuiApplication.clipboard().clear()
    started: list[Any] = []
    insight_window.runner.job_started.connect(started.append)
    qtbot.keyClick(view.browser.search_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.browser.model.query.search == "IMP0001", timeout=15_000)
    # No default button took the Enter (a copy would have started at once).
    assert view.isVisible() and not [job for job in started if job.title.startswith("Copying")]
    view.browser.view.setFocus()
    view.browser.view.selectRow(0)
    qtbot.keyClick(view.browser.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "IMP0001" in QGuiApplication.clipboard().text(), timeout=15_000)
    assert QGuiApplication.clipboard().text().splitlines()[0].startswith("Same code\tCode")
    view.close()


def test_an_open_view_follows_an_import(
    qtbot: Any, insight_window: MainWindow, tmp_path: Path
) -> None:
    from tests.helpers import impact_code, impact_page, write_json

    window = insight_window
    view = window.insights.open("changes")
    assert view is not None
    computed(qtbot, view)
    view.browser.search_box.setText("FRESH")
    view.browser._apply_search()
    qtbot.waitUntil(lambda: not view.browser.model.busy, timeout=15_000)
    assert view.browser.model.rowCount() == 0
    exported = write_json(
        tmp_path / "fresh.json",
        impact_page([impact_code(n, Id=str(8_000_000 + n), Code=f"FRESH{n}") for n in range(3)]),
    )
    window.importing.demo_confirmed = True
    wait_job(qtbot, window.import_paths([exported]))
    # The imported files are a source of their own: their first snapshot, 3 codes added.
    qtbot.waitUntil(
        lambda: (
            not view.busy()
            and not view.browser.model.busy
            and column(view.browser, "name") == ["FRESH0", "FRESH1", "FRESH2"]
        ),
        timeout=15_000,
    )
    assert set(column(view.browser, "change")) == {"added"}
    view.close()


FIRST_FRAME = """
import sys
from promodesk.app import _paint_now
from promodesk.qt import QApplication, QSettings
from promodesk.ui.main_window import MainWindow
from promodesk.ui.tasks import TaskRunner

app = QApplication([sys.argv[0]])
window = MainWindow(TaskRunner(), QSettings(sys.argv[1], QSettings.Format.IniFormat),
                    defer_panels=True)
window.show()
_paint_now(app, window)
print(sorted(name for name in sys.modules if name.startswith("promodesk.ui.insights")))
print(sorted(name for name in sys.modules
             if name.startswith(("promodesk.store.", "numpy", "PySide6.QtCharts"))))
"""


def test_the_first_frame_loads_no_view_and_no_chart(tmp_path: Path) -> None:
    """The Insights menu is in the first frame; its views, the chart (and Qt Charts with it)
    and the store code behind them load when a view is first opened."""
    import os
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", FIRST_FRAME, str(tmp_path / "settings.ini")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["['promodesk.ui.insights']", "[]"], done.stderr


def test_the_insights_menu_sits_after_view_with_its_shortcuts(insight_window: MainWindow) -> None:
    titles = [action.text().replace("&", "") for action in insight_window.menuBar().actions()]
    assert titles[titles.index("View") + 1] == "Insights"
    assert titles.index("Insights") < titles.index("Create") < titles.index("Help")
    menu = insight_window.insights_menu
    assert [
        (action.text().replace("&", ""), action.shortcuts()[0].toString())
        for action in menu.actions()
    ] == [
        ("What changed…", "Ctrl+Shift+C"),
        ("Collisions…", "Ctrl+Shift+L"),
        ("Pool runway…", "Ctrl+Shift+R"),
        ("Reconciliation…", "Ctrl+Shift+M"),
    ]
    assert all(action.statusTip() for action in menu.actions())
