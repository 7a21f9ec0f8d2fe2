"""View ▸ History: every change made through promodesk (the audit log), filtered by account,
change, code or ID, outcome and date, and exported as CSV; and the work left unfinished
(bulk runs to resume or retry, wizards and uploads to pick up again).

The log pages through SQL like every table (store.tables.AUDIT_LOG). Promo codes are in it
only as hashes: typing a code finds its entries all the same (the search also looks for
its hash).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Any

from promodesk.domain.jobs import ProgressFn
from promodesk.domain.values import CANONICAL_FORMAT
from promodesk.domain.vendors import Vendor
from promodesk.qt import (
    QCheckBox,
    QComboBox,
    QDate,
    QDateEdit,
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from promodesk.store import tables
from promodesk.ui.live.sources import why_not_writable
from promodesk.ui.models.formatting import plural
from promodesk.ui.panels.details import DetailsView
from promodesk.ui.panels.table_browser import TableBrowser
from promodesk.ui.widgets.style import secondary_text_style

if TYPE_CHECKING:
    import sqlite3

    from promodesk.store.runs import RunInfo
    from promodesk.ui.main_window import MainWindow
    from promodesk.ui.tasks import Job

OUTCOMES = [
    ("Done", "ok"),
    ("Failed", "failed"),
    ("Not sure it was done", "unknown"),
    ("Cancelled", "cancelled"),
]
RESUMABLE_KINDS = ("wizard", "upload")
KIND_WORDS = {"wizard": "Guided create", "upload": "Code file upload", "bulk": "Bulk"}
_RESUME_LATER = "It can be resumed once it stops (or a minute after a crash)"


def operation_words() -> dict[str, str]:
    """Each operation's name (as the log keeps it) in words: its label in the tables (the
    shortest, where two vendors name theirs alike: "activate")."""
    from promodesk.services.operations import OPERATIONS

    labels: dict[str, set[str]] = {}
    for table in OPERATIONS.values():
        for name, operation in table.items():
            labels.setdefault(name, set()).add(operation.label.rstrip("…"))
    return {name: min(found, key=len) for name, found in labels.items()}


def utc_start_of(day: QDate) -> str:
    """The moment a local calendar day starts, as the log stores times (UTC)."""
    local = datetime.combine(day.toPython(), time.min).astimezone()
    return local.astimezone(UTC).strftime(CANONICAL_FORMAT)


def account_key(vendor: str, account: str) -> str:
    """An account of the log as a combo box item's data (a name may hold any character)."""
    return json.dumps([vendor, account])


class DateFilter(QWidget):
    """An optional date: ticked to filter by it."""

    def __init__(self, text: str, tip: str) -> None:
        super().__init__()
        self.use = QCheckBox(text)
        self.use.setToolTip(tip)
        self.date = QDateEdit(QDate.currentDate())
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("dd MMM yyyy")
        self.date.setEnabled(False)
        self.use.toggled.connect(self.date.setEnabled)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.use)
        row.addWidget(self.date)

    def day(self) -> QDate | None:
        return self.date.date() if self.use.isChecked() else None


class HistoryDialog(QDialog):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setObjectName("historyDialog")
        self.setWindowTitle("History")
        self.window_ = window
        self.runs: list[tuple[str, Any]] = []  # what the unfinished list shows

        self.unfinished = QGroupBox("Unfinished work")
        self.unfinished.setObjectName("unfinishedWork")
        self.unfinished_table = QTableWidget(0, 4)
        self.unfinished_table.setObjectName("unfinishedTable")
        self.unfinished_table.setTabKeyNavigation(False)
        self.unfinished_table.setHorizontalHeaderLabels(("Work", "Account", "Where it stands", ""))
        self.unfinished_table.verticalHeader().hide()
        self.unfinished_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.unfinished_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.unfinished_table.setMaximumHeight(self.fontMetrics().height() * 8)
        box = QVBoxLayout(self.unfinished)
        box.addWidget(self.unfinished_table)
        self.unfinished.hide()

        self.account = QComboBox()
        self.account.setObjectName("historyAccount")
        self.account.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.account.addItem("All accounts", None)
        self.account.currentIndexChanged.connect(self._filter)
        self.change = QComboBox()
        self.change.setObjectName("historyChange")
        self.change.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.change.addItem("All changes", None)
        self.change.currentIndexChanged.connect(self._filter)
        self.since = DateFilter("From", "Only changes made on this day or later")
        self.until = DateFilter("Until", "Only changes made on this day or earlier")
        self.since.use.toggled.connect(self._filter)
        self.until.use.toggled.connect(self._filter)
        self.since.date.dateChanged.connect(self._filter)
        self.until.date.dateChanged.connect(self._filter)
        account_label = QLabel("&Account:")
        account_label.setBuddy(self.account)
        change_label = QLabel("C&hange:")
        change_label.setBuddy(self.change)
        filters = QHBoxLayout()
        filters.addWidget(account_label)
        filters.addWidget(self.account)
        filters.addWidget(change_label)
        filters.addWidget(self.change)
        filters.addWidget(self.since)
        filters.addWidget(self.until)
        filters.addStretch(1)

        self.browser = TableBrowser(
            tables.AUDIT_LOG,
            title="Changes",
            noun="change",
            search_placeholder="Find a code or an ID",
            search_help=(
                "Finds the changes to a promo code (typed in full: codes are kept hashed) or "
                "to anything whose ID contains the text"
            ),
            empty_hint=(
                "Nothing has been changed through promodesk in this workspace yet.\n\n"
                "Changes you make at a vendor from the panels (or with promodesk do) are "
                "listed here with what happened, newest first."
            ),
            status_filter=("outcome", OUTCOMES),
        )
        self.details = DetailsView()
        for column, names in (
            ("operation", operation_words()),
            ("vendor", {vendor.value: vendor.display_name for vendor in Vendor}),
            ("outcome", {value: text for text, value in OUTCOMES}),
        ):
            self.browser.model.set_value_names(column, names)
            self.details.set_value_names(column, names)
        self.browser.current_row_changed.connect(self._show_details)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.browser)
        split.addWidget(self.details)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)

        self.export_button = QPushButton("Export CSV…")
        self.export_button.setObjectName("exportHistory")
        self.export_button.setToolTip(
            "Save the changes listed (with the filters) as a CSV file for a spreadsheet"
        )
        self.export_button.clicked.connect(self.export)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        note = QLabel("Promo codes appear hashed (#…): type a code in full to find its changes.")
        note.setStyleSheet(secondary_text_style(self))
        bottom = QHBoxLayout()
        bottom.addWidget(note, 1)
        bottom.addWidget(self.export_button)
        bottom.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addWidget(self.unfinished)
        layout.addLayout(filters)
        layout.addWidget(split, 1)
        layout.addLayout(bottom)
        screen = window.screen().availableGeometry()
        self.resize(min(1120, screen.width() - 40), min(660, screen.height() - 60))
        session = window.session
        if session is not None:
            self.browser.set_reader(session.reader)
            self.details.set_reader(session.reader)

    # -- contents ------------------------------------------------------------------------------

    def reload(self) -> Job | None:
        """The filters' choices, the entries, and the unfinished work."""
        window = self.window_
        session = window.session
        if session is None:
            return None
        self.browser.set_reader(session.reader)
        self.details.set_reader(session.reader)

        def read(
            conn: sqlite3.Connection,
        ) -> tuple[list[tuple[str, str]], list[str], list[tuple[RunInfo, bool]]]:
            from promodesk.store.runs import going_on, unfinished_runs

            accounts = conn.execute(
                "SELECT DISTINCT vendor, account FROM audit_log ORDER BY vendor, account"
            ).fetchall()
            changes = [row[0] for row in conn.execute("SELECT DISTINCT operation FROM audit_log")]
            resumable = [
                (info, going_on(conn, info.id)) for info in unfinished_runs(conn, RESUMABLE_KINDS)
            ]
            return accounts, changes, resumable

        async def work(_progress: ProgressFn) -> Any:
            import asyncio

            read_done = await asyncio.wrap_future(session.reader.submit(read))
            bulk = (await window.live.ready_work()).bulk
            return read_done, await bulk.open_runs()

        return window.runner.start(
            "Reading the history",
            work,
            cancellable=False,
            background=True,
            on_done=self._loaded,
        )

    def _loaded(self, job: Job) -> None:
        if job.result is None:
            return
        (accounts, changes, resumable), bulk_runs = job.result
        self._refill(
            self.account,
            "All accounts",
            [
                (f"{account} ({Vendor(vendor).display_name})", account_key(vendor, account))
                for vendor, account in accounts
            ],
        )
        words = operation_words()
        self._refill(
            self.change,
            "All changes",
            sorted(
                ((words.get(name, name), name) for name in changes),
                key=lambda item: item[0].lower(),
            ),
        )
        self._show_unfinished(resumable, bulk_runs)
        self.browser.refresh()

    @staticmethod
    def _refill(combo: QComboBox, everything: str, items: list[tuple[str, Any]]) -> None:
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(everything, None)
        for text, data in items:
            combo.addItem(text, data)
        combo.setCurrentIndex(max(0, combo.findData(current)) if current is not None else 0)
        combo.blockSignals(False)

    def _filter(self) -> None:
        query = self.browser.model.query
        account = json.loads(self.account.currentData() or "null")
        for column, value in (
            ("vendor", account[0] if account else None),
            ("account", account[1] if account else None),
            ("operation", self.change.currentData()),
        ):
            query = query.filtered(column, value)
        since, until = self.since.day(), self.until.day()
        query = query.between(
            "at",
            utc_start_of(since) if since else None,
            utc_start_of(until.addDays(1)) if until else None,
        )
        if query != self.browser.model.query:
            self.browser.model.set_query(query)

    def _show_details(self, row: Any) -> None:
        if row is None:
            self.details.show_row(tables.AUDIT_LOG, None)
            return
        model = self.browser.model
        self.details.show_row(
            tables.AUDIT_LOG,
            model.value(row, "id"),
            operation_words().get(model.value(row, "operation"), model.value(row, "operation")),
        )

    def export(self) -> None:
        self.window_.row_transfer.choose_export(self.browser, self.browser.all_rows())

    # -- unfinished work -----------------------------------------------------------------------

    def _show_unfinished(self, resumable: list[tuple[RunInfo, bool]], bulk_runs: list[Any]) -> None:
        table = self.unfinished_table
        table.setRowCount(0)
        names = self._account_names()
        for info, operation, summary in bulk_runs:
            left = []
            if summary.pending:
                left.append(f"{summary.pending:,} not started")
            if summary.failed + summary.unknown:
                left.append(f"{summary.failed + summary.unknown:,} failed or not sure")
            button_text = "Resume" if summary.pending else "Retry failed"
            where = f"{summary.ok:,} of {summary.total:,} done; " + ", ".join(left)
            if summary.going_on:
                where = f"going on now in a window or a command; {where}"
            button = self._add_run(
                info.title or f"Bulk run {info.id}",
                names.get(info.account_id or 0, ""),
                where,
                button_text,
                lambda _=False, i=info, o=operation: self.resume_bulk(i, o),
            )
            if summary.going_on:
                button.setEnabled(False)
                button.setToolTip(_RESUME_LATER)
        for info, busy in resumable:
            kind = KIND_WORDS.get(info.kind, info.kind)
            button = self._add_run(
                info.title or kind,
                names.get(info.account_id or 0, ""),
                f"{kind}: going on now in a window or a command"
                if busy
                else f"{kind}: {info.status}" + (f" — {info.message}" if info.message else ""),
                "Resume",
                lambda _=False, i=info: self.window_.resume_requested.emit(i.id, i.kind),
            )
            if busy:
                button.setEnabled(False)
                button.setToolTip(_RESUME_LATER)
        self.unfinished.setVisible(table.rowCount() > 0)
        self.unfinished.setTitle(
            f"Unfinished work ({plural(table.rowCount(), 'item')})" if table.rowCount() else ""
        )

    def _add_run(
        self, what: str, account: str, where: str, button_text: str, act: Any
    ) -> QPushButton:
        table = self.unfinished_table
        row = table.rowCount()
        table.insertRow(row)
        for column, text in enumerate((what, account, where)):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            table.setItem(row, column, item)
        button = QPushButton(button_text)
        button.setObjectName(f"resume_{row}")
        button.clicked.connect(act)
        table.setCellWidget(row, 3, button)
        return button

    def _account_names(self) -> dict[int, str]:
        session = self.window_.session
        if session is None:
            return {}
        return {
            info.account_id: f"{info.name} ({info.vendor.display_name})"
            for info in session.info.sources
        }

    def resume_bulk(self, info: RunInfo, operation_name: str) -> Any:
        """Open the bulk view of this run on its account (resume it or retry its failures)."""
        from promodesk.services.operations import OPERATIONS
        from promodesk.ui.operations.bulk import BulkDialog

        window = self.window_
        session = window.session
        found = next(
            (
                s
                for s in (session.info.sources if session else ())
                if s.account_id == info.account_id
            ),
            None,
        )
        if found is None:
            return None
        panel = window.panel_of(found.vendor)
        live = panel.live_panel
        if live is None:
            return None
        source = next((s for s in window.live.sources(found.vendor) if s.key == found.key), None)
        if source is None or source.account is None:
            panel.show_message(
                "warning",
                f"The account of that run, {found.name}, is not set up on this computer: add it "
                "in File ▸ Accounts… to resume the run.",
            )
            return None
        reason = why_not_writable(source, window.live.is_online(source))
        if reason:
            panel.show_message("warning", reason)
            return None
        operation = OPERATIONS[found.vendor][operation_name]
        dialog = BulkDialog.for_run(live, operation, source, info.id, parent=window)
        dialog.finished.connect(lambda _result: self.reload())
        live.operations.bulk = dialog
        dialog.show()
        return dialog
