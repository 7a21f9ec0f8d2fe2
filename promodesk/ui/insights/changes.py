"""Insights ▸ What changed: codes and promotions added, removed and changed state between two
snapshots of a source (two refreshes or imports), or since a date, with counts per kind and
change at the top (a click on a count shows only those rows).

Worked out by `store.changes.compute_changes` on the view's reader (nothing but the counts
comes into Python); the list is `temp.what_changed`, paged like any table.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promodesk.domain.jobs import CancelToken, ProgressFn
from promodesk.domain.vendors import Vendor
from promodesk.qt import (
    QComboBox,
    QDate,
    QDateEdit,
    QHeaderView,
    QLabel,
    Qt,
    QTableWidget,
    QTableWidgetItem,
)
from promodesk.store import changes
from promodesk.ui.insights.base import InsightView, export_rows, with_source_names
from promodesk.ui.panels.table_browser import TableBrowser

if TYPE_CHECKING:
    import sqlite3

    from promodesk.ui.insights import Insights
    from promodesk.ui.main_window import MainWindow
    from promodesk.ui.tasks import Job

LATEST, BETWEEN, SINCE = "latest", "between", "since"
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
CHANGE_WORDS = {"added": "added", "removed": "removed", "changed": "changed state", "back": "back"}


def local_day_start_utc(day: datetime | Any) -> str:
    """The moment a local calendar day starts, as the workspace keeps times (UTC)."""
    from promodesk.domain.values import CANONICAL_FORMAT

    local = datetime.combine(day, time.min).astimezone()
    return local.astimezone(UTC).strftime(CANONICAL_FORMAT)


def snapshot_label(snapshot: changes.Snapshot) -> str:
    from promodesk.store.tables import Column
    from promodesk.ui.models.formatting import display

    when = display(Column("started_at", "", "datetime"), snapshot.started_at)
    what = "Refresh" if snapshot.kind == "sync" else (snapshot.title or "Import")
    return f"{when} · {what}"


class ChangesView(InsightView):
    title = "What changed"
    object_name = "whatChangedView"
    export_name = "What changed"

    def __init__(self, window: MainWindow, insights: Insights) -> None:
        super().__init__(window, insights)
        self.summary_data: changes.ChangeSummary | None = None
        self.snapshots: list[changes.Snapshot] = []

        self.source = QComboBox()
        self.source.setObjectName("changesSource")
        self.source.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        source_label = QLabel("&Source:")
        source_label.setBuddy(self.source)
        self.mode = QComboBox()
        self.mode.setObjectName("changesMode")
        self.mode.addItem("Latest refresh or import against the one before", LATEST)
        self.mode.addItem("Between two snapshots", BETWEEN)
        self.mode.addItem("Since a date, until now", SINCE)
        mode_label = QLabel("C&ompare:")
        mode_label.setBuddy(self.mode)
        self.after = QComboBox()
        self.after.setObjectName("changesFrom")
        self.after.setToolTip("The older snapshot: changes after it are listed")
        self.upto = QComboBox()
        self.upto.setObjectName("changesTo")
        self.upto.setToolTip("The newer snapshot: changes up to it are listed")
        self.and_label = QLabel("and")
        self.since = QDateEdit(QDate.currentDate().addDays(-7))
        self.since.setObjectName("changesSince")
        self.since.setCalendarPopup(True)
        self.since.setDisplayFormat("dd MMM yyyy")
        self.since.setToolTip("Changes from the start of this day (your time) until now")
        for widget in (source_label, self.source, mode_label, self.mode, self.after):
            self.controls.addWidget(widget)
        self.controls.addWidget(self.and_label)
        self.controls.addWidget(self.upto)
        self.controls.addWidget(self.since)
        self.controls.addStretch(1)

        self.counts = QTableWidget(0, 4)
        self.counts.setObjectName("changesCounts")
        self.counts.setTabKeyNavigation(False)
        self.counts.setHorizontalHeaderLabels(("What", "Change", "State was → now", "How many"))
        self.counts.verticalHeader().hide()
        self.counts.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.counts.setWordWrap(False)
        self.counts.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.counts.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.counts.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.counts.setToolTip("Click a line to list only those changes; click it again for all")
        header = self.counts.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.counts.itemSelectionChanged.connect(self._count_picked)

        self.browser = TableBrowser(
            with_source_names(changes.WHAT_CHANGED),
            title="Changes",
            noun="change",
            search_placeholder="Find a code or a name",
            empty_hint="Nothing changed between these snapshots.",
        )
        self.browser.model.set_value_names(
            "vendor", {vendor.value: vendor.display_name for vendor in Vendor}
        )
        self.browser.model.set_value_names("change", CHANGE_WORDS)
        self.body.addWidget(self.counts)
        self.wire(self.browser)
        self.body.addWidget(self.browser, 1)
        self.note.setText(
            "A snapshot is a refresh or an import of a source's export. States are the "
            "vendor's own words."
        )
        self.export_button.setToolTip("Save every change listed as a CSV file")

        self._fill_sources()
        self.source.currentIndexChanged.connect(self._source_changed)
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.after.currentIndexChanged.connect(self._compare_changed)
        self.upto.currentIndexChanged.connect(self._compare_changed)
        self.since.dateChanged.connect(self._compare_changed)
        self._mode_changed()

    def browsers(self) -> list[TableBrowser]:
        return [self.browser]

    def _fill_sources(self) -> None:
        session = self.window_.session
        current = self.source.currentData()
        self.source.blockSignals(True)
        self.source.clear()
        self.source.addItem("Every source", None)
        names: dict[int, str] = {}
        for info in session.info.sources if session is not None else ():
            names[info.account_id] = f"{info.name} ({info.vendor.display_name})"
            self.source.addItem(names[info.account_id], info.account_id)
        self.source.setCurrentIndex(max(0, self.source.findData(current)))
        self.source.blockSignals(False)
        self.browser.model.set_value_names("account_id", names)

    # -- what to compare -----------------------------------------------------------------------

    def _mode_changed(self) -> None:
        mode = self.mode.currentData()
        for widget in (self.after, self.and_label, self.upto):
            widget.setVisible(mode == BETWEEN)
        self.since.setVisible(mode == SINCE)
        if mode == BETWEEN and not self.snapshots:
            self._load_snapshots()
        else:
            self.refresh()

    def workspace_changed(self) -> None:
        self._fill_sources()
        if self.mode.currentData() == BETWEEN:
            self._load_snapshots()  # a refresh or an import is a new snapshot
        else:
            self.refresh()

    def _source_changed(self) -> None:
        if self.mode.currentData() == BETWEEN:
            self._load_snapshots()
        else:
            self.refresh()

    def _compare_changed(self) -> None:
        if not self._filling:
            self.refresh()

    _filling = False

    def _load_snapshots(self) -> None:
        account = self.source.currentData()

        def work(conn: sqlite3.Connection, _token: CancelToken, _p: ProgressFn) -> Any:
            return changes.snapshots(conn, account)

        self.run_on_reader("Reading the snapshots", work, self._snapshots_loaded, key="snapshots")

    def _snapshots_loaded(self, job: Job) -> None:
        if job.error is not None or job.cancelled:
            return
        self.snapshots = list(job.result)
        chosen = (self.after.currentData(), self.upto.currentData())
        self._filling = True
        for combo in (self.after, self.upto):
            combo.clear()
            for snapshot in self.snapshots:
                combo.addItem(snapshot_label(snapshot), snapshot.run_id)
        if len(self.snapshots) > 1:
            self.after.setCurrentIndex(len(self.snapshots) - 2)
        self.upto.setCurrentIndex(len(self.snapshots) - 1)
        for combo, run_id in zip((self.after, self.upto), chosen, strict=True):
            if run_id is not None and combo.findData(run_id) >= 0:
                combo.setCurrentIndex(combo.findData(run_id))
        self._filling = False
        self.refresh()

    def choice(self) -> tuple[Any, ...]:
        """What to compare, read from the controls (on the GUI thread)."""
        return (
            self.source.currentData(),
            self.mode.currentData(),
            local_day_start_utc(self.since.date().toPython()),
            self.after.currentData(),
            self.upto.currentData(),
        )

    @staticmethod
    def ranges(conn: sqlite3.Connection, choice: tuple[Any, ...]) -> list[changes.RunRange] | str:
        """The runs to compare, or why there is nothing to."""
        account, mode, since, after, upto = choice
        if mode == LATEST:
            ranges = changes.latest_ranges(conn)
            chosen = [r for r in ranges if account is None or r.account_id == account]
            return chosen or "No refresh or import of this source yet."
        if mode == SINCE:
            return [changes.RunRange(changes.run_at(conn, since), changes.last_run(conn), account)]
        if after is None or upto is None:
            return "Pick two snapshots: this source has none yet."
        if after >= upto:
            return "Pick an older snapshot first and a newer one second."
        return [changes.RunRange(after, upto, account)]

    # -- working it out ------------------------------------------------------------------------

    def refresh(self) -> None:
        choice = self.choice()

        def work(
            conn: sqlite3.Connection, token: CancelToken, progress: ProgressFn
        ) -> changes.ChangeSummary | str:
            ranges = self.ranges(conn, choice)
            if isinstance(ranges, str):
                changes.compute_changes(conn, [], cancel=token)  # an empty list
                return ranges
            return changes.compute_changes(conn, ranges, cancel=token, progress=progress)

        self.summary.setText("Comparing snapshots…")
        self.run_on_reader("Working out what changed", work, self._computed)

    def _computed(self, job: Job) -> None:
        if job.error is not None or job.cancelled:
            if job.cancelled and not job.replaced:
                self.summary.setText("Cancelled.")
            return
        first = not self.computed
        self.computed = True
        if first:
            self.browser.set_reader(self.reader)
        else:
            self.browser.refresh()
        if isinstance(job.result, str):
            self.summary_data = None
            self.summary.setText(job.result)
            self.counts.setRowCount(0)
            self.counts.hide()
            return
        summary: changes.ChangeSummary = job.result
        self.summary_data = summary
        self.summary.setText(self.summary_text(summary))
        self._show_counts(summary)

    @staticmethod
    def summary_text(summary: changes.ChangeSummary) -> str:
        lines = []
        for label, codes in (("Codes", True), ("Promotions, programs and files", False)):
            tally = summary.tally(codes=codes)
            shown = ", ".join(
                f"{count:,} {CHANGE_WORDS.get(change, change)}"
                for change, count in sorted(tally.items())
            )
            lines.append(f"{label}: {shown or 'no change'}")
        return "\n".join(lines)

    def _show_counts(self, summary: changes.ChangeSummary) -> None:
        merged: dict[tuple[str, str, str, str], int] = {}
        for entry in summary.counts:
            key = (entry.what, entry.change, entry.old_state, entry.new_state)
            merged[key] = merged.get(key, 0) + entry.count
        self.counts.blockSignals(True)
        self.counts.setRowCount(0)
        for (what, change, old, new), count in sorted(merged.items()):
            row = self.counts.rowCount()
            self.counts.insertRow(row)
            transition = f"{old or '–'} → {new or '–'}" if old or new else ""
            cells = (what.capitalize(), CHANGE_WORDS.get(change, change), transition, f"{count:,}")
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 3:
                    item.setTextAlignment(RIGHT)
                self.counts.setItem(row, column, item)
            self.counts.item(row, 0).setData(Qt.ItemDataRole.UserRole, (what, change))
        self.counts.blockSignals(False)
        self.counts.setVisible(bool(merged))
        # As tall as its lines (up to eight; more scroll): no empty rows under them.
        shown = min(len(merged), 8)
        self.counts.setFixedHeight(
            self.counts.horizontalHeader().height()
            + shown * self.counts.verticalHeader().defaultSectionSize()
            + 2 * self.counts.frameWidth()
        )
        self.browser.model.filter_on("what", None)
        self.browser.model.filter_on("change", None)

    def _count_picked(self) -> None:
        picked = self.counts.selectedItems()
        what, change = (None, None)
        if picked:
            what, change = self.counts.item(picked[0].row(), 0).data(Qt.ItemDataRole.UserRole)
        query = self.browser.model.query.filtered("what", what).filtered("change", change)
        if query != self.browser.model.query:
            self.browser.model.set_query(query)

    # -- export --------------------------------------------------------------------------------

    def export_work(self, target: Path) -> Any:
        from promodesk.codefiles.spreadsheet import safe_cell_sql

        total = self.summary_data.total if self.summary_data is not None else 0

        def work(conn: sqlite3.Connection, token: CancelToken, progress: ProgressFn) -> int:
            rows = changes.changed_rows(conn, safe_cell_sql)
            return export_rows(
                target, changes.EXPORT_HEADER, rows, token, progress, total, rows_are_safe=True
            )

        return work
