"""Insights ▸ Pool runway: every unique-code Optimove promocode and Altcraft program, with the
codes left, the pace codes are handed out (recent average and trend), and the day the pool
runs dry; a chart of the selected pool's allocations per day with the projection; the
warning threshold; and the action that fixes a pool running dry (more codes for it).

Worked out by `services.reports.runway_report` (one row per pool: a short list).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from promodesk.domain.jobs import CancelToken, ProgressFn
from promodesk.domain.vendors import Vendor
from promodesk.qt import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    Qt,
    QTableWidget,
    QTableWidgetItem,
)
from promodesk.ui.insights.base import CLIPBOARD_MAX_ROWS, InsightView, export_rows

if TYPE_CHECKING:
    from promodesk.store.runway import Runway
    from promodesk.ui.insights import Insights
    from promodesk.ui.main_window import MainWindow
    from promodesk.ui.tasks import Job

COLUMNS = (
    "",
    "Vendor",
    "Source",
    "Pool",
    "Promotion / program",
    "Codes left",
    "A day (recent)",
    "Trend",
    "Runs dry on",
    "Days left",
)
NUMERIC = frozenset({5, 6, 7, 9})
CHART_DAYS = 42  # history shown before the "as of" day
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def trend_text(trend: float | None) -> str:
    if trend is None:
        return ""
    if abs(trend) < 0.005:
        return "steady"
    return f"{'+' if trend > 0 else '−'}{abs(trend):.0%}"


def day_text(day: str | None) -> str:
    """A YYYY-MM-DD day as the window shows dates ("1 Dec 2026")."""
    if not day:
        return ""
    from datetime import date

    return date.fromisoformat(day).strftime("%d %b %Y").lstrip("0")


def runway_cells(runway: Runway, source: str) -> list[str]:
    return [
        "⚠" if runway.under_threshold else "",
        runway.vendor.display_name,
        source,
        runway.pool,
        runway.program if runway.program != runway.pool else "",
        f"{runway.left:,}" if runway.left is not None else "unknown",
        f"{runway.average:,.1f}",
        trend_text(runway.trend),
        day_text(runway.dry_on),
        str(runway.runway_days) if runway.runway_days is not None else "",
    ]


class RunwayView(InsightView):
    title = "Pool runway"
    object_name = "runwayView"
    export_name = "Pool runway"

    def __init__(self, window: MainWindow, insights: Insights) -> None:
        super().__init__(window, insights)
        self.runways: list[Runway] = []
        self.names = {
            info.account_id: info.name
            for info in (window.session.info.sources if window.session is not None else ())
        }
        self.threshold = QSpinBox()
        self.threshold.setObjectName("runwayThreshold")
        self.threshold.setRange(1, 365)
        self.threshold.setSuffix(" days")
        self.threshold.setValue(insights.threshold_days)
        self.threshold.setToolTip(
            "Pools that run dry sooner than this are flagged here and warned about in their "
            "vendor's panel"
        )
        self.threshold_timer = self.debounced(self._threshold_changed)
        self.threshold.valueChanged.connect(lambda _days: self.threshold_timer.start())
        label = QLabel("&Warn when a pool runs dry within")
        label.setBuddy(self.threshold)
        self.fix_button = QPushButton("&Add codes to this pool…")
        self.fix_button.setObjectName("runwayFix")
        self.fix_button.setEnabled(False)
        self.fix_button.setAutoDefault(False)
        self.fix_button.clicked.connect(self.fix_selected)
        self.controls.addWidget(label)
        self.controls.addWidget(self.threshold)
        self.controls.addStretch(1)
        self.controls.addWidget(self.fix_button)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("runwayTable")
        self.table.setTabKeyNavigation(False)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.currentCellChanged.connect(lambda *_: self._selected())

        from promodesk.ui.insights.chart import DayChart

        self.chart = DayChart()
        self.chart.empty_text = "Pick a pool to see its codes handed out per day."
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.chart)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        self.body.addWidget(split, 1)
        self.note.setText(
            "A day: codes handed out per day over the last 14 whole days (the vendor's days); "
            "trend: the last week against the one before."
        )
        self.export_button.setToolTip("Save every pool's runway as a CSV file")
        self.refresh()

    def refresh(self) -> None:
        session = self.window_.session
        if session is None:
            return
        path, threshold = session.path, self.threshold.value()

        async def work(progress: ProgressFn) -> list[Runway]:
            from promodesk.services.reports import runway_report_async

            return await runway_report_async(path, threshold_days=threshold, progress=progress)

        self.summary.setText("Working out each pool's runway…")
        self.job = self.window_.runner.start(
            "Working out pool runway", work, owner=self, key="compute", on_done=self._computed
        )

    def _computed(self, job: Job) -> None:
        if job.error is not None:
            self.show_message("error", f"Could not work out the runway: {job.error}")
            return
        if job.cancelled:
            return
        self.computed = True
        self.show_runways(list(job.result))

    def show_runways(self, runways: list[Runway]) -> None:
        self.runways = runways
        short = [runway for runway in runways if runway.under_threshold]
        if not runways:
            self.summary.setText(
                "No pool of unique codes here: an Optimove promocode with unique codes, or an "
                "Altcraft loyalty program, shows up once it is in the workspace."
            )
        elif short:
            self.summary.setText(
                f"{len(short)} of {len(runways)} pools run dry within "
                f"{self.threshold.value()} days: {short[0].message}."
            )
        else:
            self.summary.setText(
                f"No pool runs dry within {self.threshold.value()} days ({len(runways)} pools)."
            )
        self.table.setRowCount(0)
        for runway in runways:
            row = self.table.rowCount()
            self.table.insertRow(row)
            for at, text in enumerate(runway_cells(runway, self.names.get(runway.account_id, ""))):
                item = QTableWidgetItem(text)
                if at in NUMERIC:
                    item.setTextAlignment(RIGHT)
                if at == 0 and text:
                    item.setToolTip(f"Runs dry within {self.threshold.value()} days")
                if at == 5:
                    item.setToolTip(f"Codes left: {runway.left_from}")
                self.table.setItem(row, at, item)
        if runways:
            self.table.selectRow(0)
        self._selected()

    def selected_runway(self) -> Runway | None:
        row = self.table.currentRow()
        return self.runways[row] if 0 <= row < len(self.runways) else None

    def _selected(self) -> None:
        from promodesk.ui.insights.chart import DASHED, Marker, Series

        runway = self.selected_runway()
        self.fix_button.setEnabled(runway is not None)
        if runway is not None:
            self.fix_button.setText(
                "&Add codes to this pool…"
                if runway.vendor is Vendor.OPTIMOVE
                else "&Add codes to this program…"
            )
        if runway is None:
            self.chart.set_data([], [])
            return
        history = list(runway.per_day)[-CHART_DAYS:]
        # The projection up to the day it runs dry (within reason: a year is 365 thin bars).
        until = CHART_DAYS if not runway.dry_on else max(CHART_DAYS, len(runway.projection))
        future = list(runway.projection[1:])[: min(until, 3 * CHART_DAYS)]
        days = [day for day, _ in history] + [day for day, _ in future]
        handed_out = [float(count) for _, count in history] + [None] * len(future)
        pace = [None] * (len(history) - 1) + [runway.average] * (len(future) + 1)
        markers = []
        if runway.dry_on and runway.dry_on in days:
            markers.append(Marker(runway.dry_on, f"runs dry {day_text(runway.dry_on)}"))
        self.chart.set_data(
            days,
            [
                Series("handed out", handed_out, "#3a7bd5"),
                Series(
                    f"at {runway.average:,.1f} a day", pace if future else [], "#888888", DASHED
                ),
            ],
            markers=markers,
            title=f"{runway.kind.capitalize()} {runway.pool}: codes handed out per day",
            empty_text="No codes handed out yet.",
        )

    def _threshold_changed(self) -> None:
        self.insights.set_threshold_days(self.threshold.value())
        self.refresh()

    def fix_selected(self) -> None:
        runway = self.selected_runway()
        if runway is not None:
            self.insights.fix_runway(runway)

    # -- copy and export -----------------------------------------------------------------------

    def copy(self) -> Job | None:
        from promodesk.codefiles.spreadsheet import to_clipboard_text
        from promodesk.qt import QGuiApplication

        rows = sorted({index.row() for index in self.table.selectedIndexes()}) or list(
            range(self.table.rowCount())
        )
        if not rows or len(rows) > CLIPBOARD_MAX_ROWS:
            return None
        lines = [[self.table.item(row, at).text() for at in range(1, len(COLUMNS))] for row in rows]
        QGuiApplication.clipboard().setText(to_clipboard_text(list(COLUMNS[1:]), lines))
        self.show_message("info", f"Copied {len(rows)} pool{'s' if len(rows) != 1 else ''}.")
        return None

    def export(self, target: Path) -> Job | None:
        from promodesk.services.reports import RUNWAY_HEADER, runway_rows

        rows = runway_rows(self.runways, self.names)

        def work(token: CancelToken, progress: ProgressFn) -> int:
            return export_rows(
                target, RUNWAY_HEADER, rows, token, progress, len(rows), rows_are_safe=False
            )

        async def job_work(progress: ProgressFn) -> int:
            from promodesk.services.jobs import run_blocking

            return await run_blocking(work, progress=progress)

        def done(job: Job) -> None:
            if job.error is not None:
                self.show_message("error", f"Could not export to {target.name}: {job.error}")
            elif not job.cancelled:
                self.show_message(
                    "info", f"Exported {len(rows)} pools to {target.name}.", str(target)
                )

        self.window_.settings.setValue("files/export_folder", str(target.parent))
        return self.window_.runner.start(
            f"Exporting to {target.name}", job_work, owner=self, key="export", on_done=done
        )
