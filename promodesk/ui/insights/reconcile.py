"""Insights ▸ Reconciliation: the shop's redemptions against the codes handed out.

Import a redemption export (CSV) through a mapping step (which column holds the code, the
customer, the time; saved per source and reused without asking for the next export with the
same columns), then: redeemed by a different customer than allocated, redeemed but never
allocated, allocated and never redeemed after N days, and the redemption rate per promotion
and per day (with a chart). Each list copies and exports as CSV.

Worked out by `store.reconcile.reconcile` on the view's reader; the lists are
`temp.reconciliation`, one table per finding. The import runs through the workspace session
(`WorkspaceSession.import_redemptions`, over `services.reports.import_redemption_file`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from promodesk.domain.jobs import CancelToken, ProgressFn
from promodesk.qt import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from promodesk.store import reconcile
from promodesk.ui.insights.base import InsightView, export_rows, with_source_names
from promodesk.ui.models.formatting import plural
from promodesk.ui.panels.table_browser import TableBrowser

if TYPE_CHECKING:
    import sqlite3

    from promodesk.store.redemptions import CsvShape, RedemptionMapping, RedemptionSource
    from promodesk.store.tables import TableSpec
    from promodesk.ui.insights import Insights
    from promodesk.ui.main_window import MainWindow
    from promodesk.ui.tasks import Job

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
CSV_FILTER = "CSV files (*.csv *.txt);;All files (*)"
LISTS = (
    (
        reconcile.OTHER_CUSTOMER,
        "Redeemed by another customer",
        "Every code was redeemed by the customer it was allocated to (or the export does not "
        "say who redeemed it).",
    ),
    (
        reconcile.NEVER_ALLOCATED,
        "Redeemed, never allocated",
        "Every redeemed code was allocated first.",
    ),
    (
        reconcile.NOT_REDEEMED,
        "Not redeemed",
        "Every code allocated before the cut-off day was redeemed.",
    ),
)
NO_COLUMN = ""
PER_PROMOTION_HEADER = ("source", "promotion", "allocations", "redeemed", "rate")
PER_DAY_HEADER = ("day (UTC)", "allocations", "redeemed of them", "redemptions", "rate")


def without_finding(spec: TableSpec) -> TableSpec:
    """Each list's spec without the finding column: its tab says which list it is."""
    from dataclasses import replace

    return replace(
        spec,
        columns=tuple(
            replace(column, visible=False) if column.name == "finding" else column
            for column in spec.columns
        ),
    )


class MappingDialog(QDialog):
    """The mapping step: which column holds the code, the customer and the time, and the
    zone of times written without an offset; saved with the source's name."""

    def __init__(
        self, parent: QWidget, shape: CsvShape, suggestion: RedemptionMapping | None, name: str
    ) -> None:
        super().__init__(parent)
        self.setObjectName("redemptionMapping")
        self.setWindowTitle("Which columns hold what?")
        self.shape = shape
        intro = QLabel(
            "promodesk has not seen an export with these columns yet. Say which column holds "
            "the code (and the customer and the time, if the export has them); the next "
            "export with the same columns is read the same way without asking."
        )
        intro.setWordWrap(True)
        self.source = QLineEdit(name)
        self.source.setObjectName("mappingSource")
        self.source.setToolTip("The shop or CRM these redemptions come from, e.g. 'Shop EU'")
        self.code = self._columns("mappingCode", suggestion.code_column if suggestion else "")
        self.customer = self._columns(
            "mappingCustomer", suggestion.customer_column if suggestion else "", optional=True
        )
        self.time = self._columns(
            "mappingTime", suggestion.time_column if suggestion else "", optional=True
        )
        self.zone = QLineEdit(suggestion.time_zone if suggestion else "UTC")
        self.zone.setObjectName("mappingZone")
        self.zone.setToolTip("For times without an offset: an IANA name such as Europe/Berlin")
        self.problem = QLabel()
        self.problem.setObjectName("mappingProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #9b1c1c;")
        self.problem.hide()
        form = QFormLayout()
        form.addRow("&Source name:", self.source)
        form.addRow("C&ode column:", self.code)
        form.addRow("&Customer column:", self.customer)
        form.addRow("&Time column:", self.time)
        form.addRow("Time &zone of the times:", self.zone)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Import")
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.resize(max(460, self.sizeHint().width()), self.sizeHint().height())

    def _columns(self, name: str, chosen: str, *, optional: bool = False) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(name)
        if optional:
            combo.addItem("(not in this export)", NO_COLUMN)
        for column in self.shape.header:
            combo.addItem(column, column)
        at = combo.findData(chosen) if chosen else -1
        combo.setCurrentIndex(max(0, at))
        return combo

    def mapping(self) -> RedemptionMapping:
        from promodesk.store.redemptions import RedemptionMapping

        return RedemptionMapping(
            str(self.code.currentData() or ""),
            str(self.customer.currentData() or ""),
            str(self.time.currentData() or ""),
            self.zone.text().strip() or "UTC",
        )

    def _check(self) -> None:
        problems = self.mapping().problems(self.shape.header)
        if not self.source.text().strip():
            problems.append("give the source a name")
        if problems:
            self.problem.setText("; ".join(problems).capitalize() + ".")
            self.problem.show()
            return
        self.accept()


class ReconcileView(InsightView):
    title = "Reconciliation"
    object_name = "reconcileView"
    export_name = "Reconciliation"

    def __init__(self, window: MainWindow, insights: Insights) -> None:
        super().__init__(window, insights)
        self.summary_data: reconcile.ReconcileSummary | None = None
        self.mapping_dialog: MappingDialog | None = None
        self.source = QComboBox()
        self.source.setObjectName("reconcileSource")
        self.source.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.source.addItem("Every source", None)
        source_label = QLabel("&Redemptions from:")
        source_label.setBuddy(self.source)
        self.days = QSpinBox()
        self.days.setObjectName("reconcileDays")
        self.days.setRange(1, 3650)
        self.days.setValue(reconcile.DEFAULT_DAYS)
        self.days.setSuffix(" days")
        self.days.setToolTip("Allocations older than this and never redeemed are listed")
        days_label = QLabel("&Not redeemed after:")
        days_label.setBuddy(self.days)
        self.import_button = QPushButton("&Import redemptions…")
        self.import_button.setObjectName("importRedemptions")
        self.import_button.setToolTip(
            "A CSV of redemptions exported from your shop or CRM: which code, which customer, when"
        )
        self.import_button.setAutoDefault(False)
        self.import_button.clicked.connect(self.choose_file)
        for widget in (source_label, self.source, days_label, self.days):
            self.controls.addWidget(widget)
        self.controls.addStretch(1)
        self.controls.addWidget(self.import_button)
        self.source.currentIndexChanged.connect(lambda _index: self.refresh())
        self.days_timer = self.debounced(self._days_changed)
        self.days.valueChanged.connect(lambda _days: self.days_timer.start())
        self.days.editingFinished.connect(self._days_changed)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("reconcileTabs")
        self.lists: dict[str, TableBrowser] = {}
        names = {
            info.account_id: f"{info.name} ({info.vendor.display_name})"
            for info in (window.session.info.sources if window.session is not None else ())
        }
        spec = without_finding(with_source_names(reconcile.RECONCILIATION))
        for finding, title, empty in LISTS:
            browser = TableBrowser(
                spec,
                title=title,
                noun="code",
                search_placeholder="Find a code or a customer",
                empty_hint=empty,
            )
            browser.set_base_filter({"finding": finding}, run=False)
            browser.model.set_value_names("account_id", {0: "", **names})
            self.wire(browser)
            self.lists[finding] = browser
            self.tabs.addTab(browser, title)
        self.per_promotion = QTableWidget(0, 5)
        self.per_promotion.setObjectName("ratePerPromotion")
        self.per_promotion.setTabKeyNavigation(False)
        self.per_promotion.setHorizontalHeaderLabels(
            ("Source", "Promotion", "Allocated", "Redeemed", "Rate")
        )
        self.per_promotion.verticalHeader().hide()
        self.per_promotion.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.per_promotion.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.per_promotion.setAlternatingRowColors(True)
        header = self.per_promotion.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.tabs.addTab(self.per_promotion, "Rate per promotion")
        from promodesk.ui.insights.chart import DayChart

        self.chart = DayChart()
        self.chart.empty_text = "No allocations or redemptions to chart yet."
        self.tabs.addTab(self.chart, "Rate per day")
        self.tabs.currentChanged.connect(lambda _index: self._tab_changed())
        self.body.addWidget(self.tabs, 1)
        self.note.setText(
            "Codes and customers match whatever their case, spaces or invisible characters. "
            "Days are UTC days."
        )
        self.account_names = names
        self._load_sources()
        self.refresh()

    def browsers(self) -> list[TableBrowser]:
        return list(self.lists.values())

    def current_browser(self) -> TableBrowser | None:
        widget = self.tabs.currentWidget()
        return widget if isinstance(widget, TableBrowser) else None

    def _tab_changed(self) -> None:
        self.export_button.setToolTip(
            f"Save the list “{self.tabs.tabText(self.tabs.currentIndex())}” as a CSV file"
        )

    # -- the sources ---------------------------------------------------------------------------

    def workspace_changed(self) -> None:
        self._load_sources()
        self.refresh()

    def _load_sources(self) -> None:
        def work(conn: sqlite3.Connection, _t: CancelToken, _p: ProgressFn) -> Any:
            from promodesk.store.redemptions import sources

            return sources(conn)

        self.run_on_reader(
            "Reading redemption sources", work, self._sources_loaded, key="sources", background=True
        )

    def _sources_loaded(self, job: Job) -> None:
        if job.error is not None or job.cancelled:
            return
        found: list[RedemptionSource] = job.result
        current = self.source.currentData()
        self.source.blockSignals(True)
        self.source.clear()
        self.source.addItem("Every source", None)
        for source in found:
            self.source.addItem(source.name, source.id)
        self.source.setCurrentIndex(max(0, self.source.findData(current)))
        self.source.blockSignals(False)

    # -- working it out ------------------------------------------------------------------------

    def _days_changed(self) -> None:
        self.days_timer.stop()
        if self.summary_data is None or (
            self.summary_data.options.unredeemed_after_days != self.days.value()
        ):
            self.refresh()

    def refresh(self) -> None:
        options = reconcile.ReconcileOptions(
            unredeemed_after_days=self.days.value(), source_id=self.source.currentData()
        )

        def work(
            conn: sqlite3.Connection, token: CancelToken, progress: ProgressFn
        ) -> reconcile.ReconcileSummary:
            return reconcile.reconcile(conn, options, cancel=token, progress=progress)

        self.summary.setText("Matching redemptions with allocations…")
        self.run_on_reader("Reconciling redemptions", work, self._computed)

    def _computed(self, job: Job) -> None:
        if job.error is not None or job.cancelled:
            return
        first = not self.computed
        self.computed = True
        for browser in self.lists.values():
            if first:
                browser.set_reader(self.reader)
            else:
                browser.refresh()
        summary: reconcile.ReconcileSummary = job.result
        self.summary_data = summary
        self.summary.setText(self.summary_text(summary))
        counts = {
            reconcile.OTHER_CUSTOMER: summary.other_customer,
            reconcile.NEVER_ALLOCATED: summary.never_allocated,
            reconcile.NOT_REDEEMED: summary.not_redeemed,
        }
        for number, (finding, title, _empty) in enumerate(LISTS):
            days = summary.options.unredeemed_after_days
            label = title if finding != reconcile.NOT_REDEEMED else f"{title} after {days} days"
            self.tabs.setTabText(number, f"{label} ({counts[finding]:,})")
            self.lists[finding].title.setText(label)
        self._show_rates(summary)

    @staticmethod
    def summary_text(s: reconcile.ReconcileSummary) -> str:
        if not s.redemptions:
            return (
                f"No redemptions imported yet ({plural(s.allocations, 'allocation')} in the "
                "workspace): import an export of your shop's or CRM's redemptions."
            )
        return (
            f"{plural(s.redemptions, 'redemption')}: {s.matched:,} matched, "
            f"{s.other_customer:,} by another customer than allocated, {s.never_allocated:,} "
            f"never allocated.\n{plural(s.allocations, 'allocation')}: "
            f"{s.redeemed_allocations:,} redeemed ({s.rate:.1%}), {s.not_redeemed:,} not "
            f"redeemed {s.options.unredeemed_after_days} days after."
        )

    def _show_rates(self, summary: reconcile.ReconcileSummary) -> None:
        from promodesk.ui.insights.chart import LINE, Series

        table = self.per_promotion
        table.setRowCount(0)
        for rate in summary.per_promotion:
            row = table.rowCount()
            table.insertRow(row)
            cells = (
                self.account_names.get(rate.account_id, ""),
                rate.promotion_id,
                f"{rate.allocations:,}",
                f"{rate.redeemed:,}",
                f"{rate.rate:.1%}",
            )
            for at, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if at >= 2:
                    item.setTextAlignment(RIGHT)
                table.setItem(row, at, item)
        days = summary.per_day
        self.chart.set_data(
            [day.day for day in days],
            [
                Series("allocated", [float(day.allocations) for day in days], "#3a7bd5"),
                Series("of them redeemed", [float(day.redeemed) for day in days], "#2e9d5b"),
                Series("redemptions", [float(day.redemptions) for day in days], "#d9822b", LINE),
            ],
            title="Codes allocated, how many of them were redeemed, and redemptions, per day",
        )

    # -- importing -----------------------------------------------------------------------------

    def choose_file(self) -> None:
        from promodesk.qt import QFileDialog

        folder = self.window_.settings.value("files/last_folder", "", str) or str(Path.home())
        dialog = QFileDialog(self, "Import redemptions", folder, CSV_FILTER)
        dialog.setObjectName("redemptionFileDialog")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(lambda name: self.import_file(Path(name)))
        dialog.open()

    def import_file(self, path: Path) -> Job | None:
        """Read the file's columns; a source with the same columns has its mapping reused at
        once, else the mapping step asks."""
        reader = self.ensure_reader()
        if reader is None:
            return None

        def work(conn: sqlite3.Connection, _t: CancelToken, _p: ProgressFn) -> Any:
            from promodesk.store.redemptions import find_source, read_shape

            shape = read_shape(path)
            return shape, find_source(conn, signature=shape.signature)

        def read(job: Job) -> None:
            if job.error is not None or job.cancelled:
                return
            shape, known = job.result
            if known is not None:
                self.run_import(path, None, None, reused=known.name)
            else:
                self.ask_mapping(path, shape)

        return self.run_on_reader(f"Reading {path.name}", work, read, key="shape")

    def ask_mapping(self, path: Path, shape: CsvShape) -> MappingDialog:
        from promodesk.store.redemptions import suggest_mapping

        dialog = MappingDialog(self, shape, suggest_mapping(shape.header), path.stem)
        self.mapping_dialog = dialog

        def finished(result: int) -> None:
            self.mapping_dialog = None
            if result == QDialog.DialogCode.Accepted:
                self.run_import(path, dialog.source.text().strip(), dialog.mapping())
            dialog.deleteLater()

        dialog.finished.connect(finished)
        dialog.open()
        return dialog

    def run_import(
        self,
        path: Path,
        source_name: str | None,
        mapping: RedemptionMapping | None,
        *,
        reused: str = "",
    ) -> Job | None:
        session = self.window_.session
        if session is None:
            return None

        async def work(progress: ProgressFn) -> Any:
            return await session.import_redemptions(
                path, source_name=source_name, mapping=mapping, progress=progress
            )

        def done(job: Job) -> None:
            if job.cancelled:
                self.show_message("info", f"Import cancelled; nothing from {path.name} was kept.")
                return
            if job.error is not None:
                self.show_message("error", f"Nothing was imported. {job.error}")
                return
            imported = job.result
            how = f" (read with the columns saved for {reused})" if reused else ""
            lines = [f"Imported {imported.result.summary()}{how}.", *imported.warnings]
            self.show_message("info", " ".join(lines))
            self._load_sources()
            self.refresh()

        self.window_.settings.setValue("files/last_folder", str(path.parent))
        return self.window_.runner.start(
            f"Importing {path.name}", work, owner=self, key="import", on_done=done
        )

    # -- export --------------------------------------------------------------------------------

    def rate_rows(self) -> tuple[tuple[str, ...], list[tuple[Any, ...]]] | None:
        """The rates on screen (per promotion or per day) as rows with their header."""
        summary = self.summary_data
        widget = self.tabs.currentWidget()
        if summary is None or widget not in (self.per_promotion, self.chart):
            return None
        if widget is self.per_promotion:
            return PER_PROMOTION_HEADER, [
                (
                    self.account_names.get(rate.account_id, ""),
                    rate.promotion_id,
                    rate.allocations,
                    rate.redeemed,
                    round(rate.rate, 4),
                )
                for rate in summary.per_promotion
            ]
        return PER_DAY_HEADER, [
            (day.day, day.allocations, day.redeemed, day.redemptions, round(day.rate, 4))
            for day in summary.per_day
        ]

    def copy(self) -> Job | None:
        rates = self.rate_rows()
        if rates is None:
            return super().copy()
        from promodesk.codefiles.spreadsheet import to_clipboard_text
        from promodesk.qt import QGuiApplication

        header, rows = rates
        QGuiApplication.clipboard().setText(to_clipboard_text(header, rows))
        self.show_message("info", f"Copied {plural(len(rows), 'row')} to the clipboard.")
        return None

    def export_work(self, target: Path) -> Any:
        from promodesk.codefiles.spreadsheet import safe_cell_sql

        summary = self.summary_data
        if summary is None:
            return None
        widget = self.tabs.currentWidget()
        rates = self.rate_rows()
        if rates is not None:
            header, rows = rates
        else:
            finding = next(f for f, browser in self.lists.items() if browser is widget)
            total = {
                reconcile.OTHER_CUSTOMER: summary.other_customer,
                reconcile.NEVER_ALLOCATED: summary.never_allocated,
                reconcile.NOT_REDEEMED: summary.not_redeemed,
            }[finding]

            def work(conn: sqlite3.Connection, token: CancelToken, progress: ProgressFn) -> int:
                found = reconcile.finding_rows(conn, finding, safe_cell_sql)
                return export_rows(
                    target,
                    reconcile.EXPORT_HEADER,
                    found,
                    token,
                    progress,
                    total,
                    rows_are_safe=True,
                )

            return work

        def write(_conn: sqlite3.Connection, token: CancelToken, progress: ProgressFn) -> int:
            return export_rows(
                target, header, rows, token, progress, len(rows), rows_are_safe=False
            )

        return write
