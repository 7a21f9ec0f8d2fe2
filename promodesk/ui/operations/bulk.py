"""One operation on many selected rows (hide/show, expire, activate, detach, change expiry):
a review of every target first (and of those that will be skipped, with the reason), then
the run with each item's outcome as it ends, Cancel, "Retry failed", and Resume for a run
that was interrupted (a cancel, a close, a crash: the journal in the workspace knows).

The work is the core's BulkRunner; this window only starts it as a job and shows its journal.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from promodesk.domain.jobs import ProgressFn
from promodesk.qt import (
    QAbstractItemView,
    QAbstractTableModel,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QModelIndex,
    QPersistentModelIndex,
    QProgressBar,
    QPushButton,
    Qt,
    QTableView,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from promodesk.services.run_claims import RunBusy
from promodesk.ui.models.formatting import plural
from promodesk.ui.operations.fields import fields_of, problems_of
from promodesk.ui.operations.form import Form, FormContext
from promodesk.ui.widgets.job_status import set_progress
from promodesk.ui.widgets.style import secondary_text_style

if TYPE_CHECKING:
    from promodesk.services.bulk import BulkItem, BulkSummary
    from promodesk.services.operations.base import Operation
    from promodesk.store.query import RowSet
    from promodesk.ui.live.sources import Source
    from promodesk.ui.panels.live_panel import PanelLive
    from promodesk.ui.panels.table_browser import TableBrowser
    from promodesk.ui.tasks import Job

AnyIndex = QModelIndex | QPersistentModelIndex
# A bulk run takes at most this many targets at once (more: select fewer, or use the CLI's
# `promodesk bulk`, which takes a file of any length).
MAX_ITEMS = 100_000
STATUS_WORDS = {
    "todo": "Will be done",
    "pending": "Waiting",
    "ok": "Done",
    "failed": "Failed",
    "unknown": "Not sure it was done",
    "skipped": "Skipped",
}
NOT_STARTED = "Not sent yet: Resume sends it"
HEADERS = ("#", "", "Outcome", "Details")  # the second names the targets: "Code", "Promocode"
REFRESH_EVERY_MS = 300  # changed rows are shown in the tables in batches, not per item
COUNT_EVERY_MS = 100  # the "n of m ended" line, likewise (each new text lays the dialog out)


@dataclass(frozen=True)
class Row:
    position: int
    label: str
    status: str  # todo | pending | ok | failed | unknown | skipped
    message: str = ""
    row_id: int | None = None  # the workspace row it acts on (to show its new values)
    inputs: dict[str, Any] | None = None


class BulkItemsModel(QAbstractTableModel):
    """Every target of a bulk run, each with its outcome (at most MAX_ITEMS: in memory)."""

    def __init__(self, parent: QWidget | None = None, *, noun: str = "item") -> None:
        super().__init__(parent)
        self.rows: list[Row] = []
        self._at: dict[int, int] = {}
        self._counts: dict[str, int] = {}  # rows by status, kept as they change (not recounted)
        self.headers = (HEADERS[0], noun[:1].upper() + noun[1:], *HEADERS[2:])

    def set_rows(self, rows: list[Row]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self._at = {row.position: number for number, row in enumerate(self.rows)}
        self._counts = {}
        for row in self.rows:
            self._counts[row.status] = self._counts.get(row.status, 0) + 1
        self.endResetModel()

    def update(self, position: int, status: str, message: str) -> Row | None:
        number = self._at.get(position)
        if number is None:
            return None
        before = self.rows[number]
        row = replace(before, status=status, message=message)
        self.rows[number] = row
        self._counts[before.status] -= 1
        self._counts[status] = self._counts.get(status, 0) + 1
        self.dataChanged.emit(self.index(number, 2), self.index(number, 3))
        return row

    def row_at(self, position: int) -> Row | None:
        number = self._at.get(position)
        return None if number is None else self.rows[number]

    def counts(self) -> dict[str, int]:
        return {status: count for status, count in self._counts.items() if count}

    def widest_row(self) -> int:
        """The row whose position is the highest (-1 when there are none)."""
        return max(range(len(self.rows)), key=lambda number: self.rows[number].position, default=-1)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if column == 0:
                return str(row.position)
            if column == 1:
                return row.label
            if column == 2:
                return STATUS_WORDS.get(row.status, row.status)
            return row.message
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and column == 2
            and row.status
            in (
                "failed",
                "unknown",
            )
        ):
            from promodesk.qt import QBrush, QColor

            return QBrush(QColor("#a11a1a"))
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.headers)
        ):
            return self.headers[section]
        return None


def read_targets(
    conn: sqlite3.Connection, rows: RowSet, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """The selected rows, every column (their state decides what is skipped), in table
    order; and how many there are in all."""
    from promodesk.store.query import fetch_row, stream_rows

    ids: list[int] = []
    for chunk in stream_rows(conn, rows.query, rows.positions(), select=["id"]):
        ids += [row[0] for row in chunk]
        if len(ids) > limit:
            break
    found = [fetch_row(conn, rows.query.spec, row_id) for row_id in ids[:limit]]
    return [row for row in found if row is not None], len(ids)


class BulkDialog(QDialog):
    """Not modal: the window stays usable while a long run goes on (it is in the jobs list,
    and the panel shows it too)."""

    def __init__(
        self,
        live: PanelLive,
        operation: Operation,
        source: Source,
        *,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("bulkDialog")
        self.live = live
        self.operation = operation
        self.source = source
        self.run_id: int | None = None
        self.job: Job | None = None
        self.confirm_box: QMessageBox | None = None
        self.browser: TableBrowser | None = None
        self._changed_rows: set[int] = set()  # shown in place every REFRESH_EVERY_MS
        self._run_changed: set[int] = set()  # all the run changed, told to the panel at its end
        noun = operation.target.noun if operation.target else "item"
        self.noun = noun
        from promodesk.ui.operations.dialog import action_word

        self.verb = action_word(operation)  # "Expire", "Hide", "Change"
        self.setWindowTitle(f"{operation.label.rstrip('…')} — several {noun}s")

        self.heading = QLabel()
        self.heading.setObjectName("bulkHeading")
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        self.where = QLabel(f"{source.name} ({operation.vendor.display_name})")
        self.where.setStyleSheet(secondary_text_style(self))
        self.summary = QLabel()
        self.summary.setObjectName("bulkSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)

        # What every item shares (e.g. the new expiry date), when the operation asks for it.
        target_fields = list(operation.target.fields) if operation.target else []
        self.form = Form(
            operation.inputs,
            FormContext(parent=lambda: self, operation=operation),
            hidden=[*operation.hidden_fields, *target_fields],
        )
        self.form.setVisible(bool(self.form.specs))

        self.model = BulkItemsModel(self, noun=noun)
        self.view = QTableView()
        self.view.setObjectName("bulkItems")
        self.view.setTabKeyNavigation(False)
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 8)
        header = self.view.horizontalHeader()
        header.setStretchLastSection(True)
        # The "#" column is sized once per list (`_fit_positions`), not to its contents: that
        # measured a thousand rows at every layout of the dialog, 40-60 ms each, while a run
        # went on.
        self.model.modelReset.connect(self._fit_positions)
        self.view.setColumnWidth(1, 200)
        self.view.setColumnWidth(2, 150)

        self.progress = QProgressBar()
        self.progress.setObjectName("bulkProgress")
        self.progress.hide()
        self.start_button = QPushButton()
        self.start_button.setObjectName("bulkStart")
        self.start_button.clicked.connect(self.start)
        self.retry_button = QPushButton("Retry failed")
        self.retry_button.setObjectName("bulkRetry")
        self.retry_button.setToolTip("Send the failed ones again (and those not sure to be done)")
        self.retry_button.clicked.connect(self.retry_failed)
        self.retry_button.hide()
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("bulkStop")
        self.stop_button.setToolTip("Stop after the ones in flight; the rest can be resumed")
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.hide()
        self.close_button = QPushButton("Close")
        self.close_button.setObjectName("bulkClose")
        self.close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress, 1)
        buttons.addStretch(1)  # (the buttons keep their size when the bar is hidden)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.where)
        layout.addWidget(self.form)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        self.start_button.setDefault(True)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_EVERY_MS)
        self._refresh_timer.timeout.connect(self._show_changed_rows)
        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(COUNT_EVERY_MS)
        self._count_timer.timeout.connect(self._count)
        screen = (parent or self).screen().availableGeometry()
        self.resize(min(760, screen.width() - 40), min(560, screen.height() - 60))

    # -- making one ------------------------------------------------------------------------------

    @classmethod
    def for_selection(
        cls,
        live: PanelLive,
        operation: Operation,
        browser: TableBrowser,
        rows: RowSet,
        *,
        parent: QWidget | None = None,
    ) -> BulkDialog:
        """The review of the selected rows: read in a job (there may be many)."""
        source = live.source
        assert source is not None
        dialog = cls(live, operation, source, parent=parent)
        dialog.browser = browser
        dialog.heading.setText(f"{dialog.verb} {plural(rows.count, dialog.noun)}")
        dialog.summary.setText(f"Reading the {plural(rows.count, 'selected row')}…")
        dialog.start_button.setText("Start")
        dialog.start_button.setEnabled(False)
        executor = live.session.live_work().executor

        async def work(_progress: ProgressFn) -> tuple[list[dict[str, Any]], int]:
            return await executor.in_workspace(lambda conn: read_targets(conn, rows, MAX_ITEMS))

        live.session.runner.start(
            f"Reading {plural(rows.count, dialog.noun)} to {operation.label.rstrip('…').lower()}",
            work,
            owner=live.panel,
            on_done=dialog._targets_read,
        )
        dialog.form.changed.connect(dialog._review)
        return dialog

    @classmethod
    def for_run(
        cls,
        live: PanelLive,
        operation: Operation,
        source: Source,
        run_id: int,
        *,
        parent: QWidget | None = None,
    ) -> BulkDialog:
        """An earlier run, to resume or retry (from the History view)."""
        dialog = cls(live, operation, source, parent=parent)
        dialog.run_id = run_id
        dialog.form.hide()
        dialog.heading.setText(f"{operation.label.rstrip('…')}: an earlier run")
        dialog.summary.setText("Reading the run…")
        dialog.start_button.setText("Resume")
        dialog.start_button.setEnabled(False)
        dialog._read_run(run_id, dialog._run_read, owner=live.panel)
        return dialog

    def _targets_read(self, job: Job) -> None:
        if job.error is not None or job.result is None:
            self.summary.setText(f"Could not read the selected rows: {job.error}")
            return
        found, total = job.result
        self._targets = found
        self._total = total
        self._review()

    def _items(self) -> list[Row]:
        """Each selected row as an item: its inputs (the target's, the shared form's, and
        fields its own columns fill, e.g. the profile a code is attached to) and whether it
        will be skipped."""
        operation = self.operation
        shared = self.form.values()
        names = {spec.name for spec in fields_of(operation.inputs)}
        items = []
        for position, row in enumerate(self._targets, start=1):
            inputs = dict(shared)
            for name in names - set(shared):
                if row.get(name) not in (None, ""):
                    inputs[name] = row[name]
            if operation.target is not None:
                inputs.update(operation.target.inputs_from(row))
            reason = operation.blocked_reason(row)
            label = str(row.get(operation.target.label_column, "")) if operation.target else ""
            items.append(
                Row(
                    position,
                    label,
                    "skipped" if reason else "todo",
                    reason or "",
                    row_id=row.get("id"),
                    inputs=inputs,
                )
            )
        return items

    def _review(self) -> None:
        if not hasattr(self, "_targets") or self.run_id is not None:
            return
        items = self._items()
        self.model.set_rows(items)
        todo = sum(1 for item in items if item.status == "todo")
        skipped = len(items) - todo
        parts = [f"{plural(todo, self.noun)} to {self.verb.lower()}"]  # "8 codes to expire"
        if skipped:
            reasons = sorted({item.message for item in items if item.status == "skipped"})
            parts.append(f"{skipped:,} skipped ({'; '.join(reasons[:3])})")
        if self._total > len(items):
            parts.append(
                f"{self._total - len(items):,} more selected than one run takes "
                f"({MAX_ITEMS:,}): select fewer"
            )
        self.summary.setText(", ".join(parts) + ".")
        self.start_button.setEnabled(todo > 0)
        self.start_button.setText(f"{self.verb} {plural(todo, self.noun)}")

    def _run_read(self, job: Job) -> None:
        if job.error is not None or job.result is None:
            self.summary.setText(f"Could not read the run: {job.error}")
            return
        items, summary, labels = job.result
        self.model.set_rows(
            [
                Row(
                    item.position,
                    labels.get(item.position, item.target),  # the code, where the row is known
                    item.status,
                    journal_message(item),
                    inputs=item.inputs,
                )
                for item in items
            ]
        )
        self._after(summary)

    # -- running ---------------------------------------------------------------------------------

    def start(self) -> Job | None:
        """Start the run (after the operation's question, when it cannot be undone)."""
        if self.job is not None and not self.job.done:
            return None
        if self.run_id is None and self.operation.confirm and self.confirm_box is None:
            from promodesk.ui.operations.dialog import confirmation

            todo = sum(1 for row in self.model.rows if row.status == "todo")
            self.confirm_box = confirmation(
                self, self.operation, plural(todo, self.noun), self._confirmed
            )
            self.confirm_box.finished.connect(self._forget_question)
            return None
        return self._start()

    def _confirmed(self) -> None:
        self._start()

    def _forget_question(self, _result: int) -> None:
        self.confirm_box = None

    def _start(self) -> Job | None:
        if self.run_id is not None:
            for row in self.model.rows:
                if row.status == "pending" and row.message == NOT_STARTED:
                    self.model.update(row.position, "pending", "")  # (being sent now)
            return self._run(
                lambda runner, account, on_item, progress: runner.run(
                    account, self.run_id, progress=progress, on_item=on_item
                ),
                "Resuming",
            )
        items = self._items()  # again: the shared form may have changed
        todo = [row for row in items if row.status == "todo"]
        skipped = [row for row in items if row.status == "skipped"]
        if not todo:
            return None
        if self.form.specs:
            try:
                self.operation.inputs.model_validate(todo[0].inputs or {})
            except ValidationError as error:
                left = self.form.show_problems(problems_of(error))
                if left:
                    self.summary.setText("; ".join(text for _where, text in left))
                return None
            self.form.clear_problems()  # (mended since the last try)
        operation = self.operation
        source = self.source
        self.form.setEnabled(False)

        async def plan_and_run(
            runner: Any, account: Any, on_item: Any, progress: ProgressFn
        ) -> Any:
            self.run_id = await runner.plan(
                account,
                operation,
                [row.inputs or {} for row in todo],
                title=f"{operation.label.rstrip('…')} × {len(todo):,} ({source.name})",
            )
            # The journal numbers the planned items 1..n; the skipped ones follow them.
            self.model.set_rows(
                [
                    replace(row, position=number, status="pending")
                    for number, row in enumerate(todo, start=1)
                ]
                + [
                    replace(row, position=len(todo) + number)
                    for number, row in enumerate(skipped, start=1)
                ]
            )
            return await runner.run(account, self.run_id, progress=progress, on_item=on_item)

        return self._run(plan_and_run, "Starting")

    def retry_failed(self) -> Job | None:
        if self.run_id is None or (self.job is not None and not self.job.done):
            return None
        for row in list(self.model.rows):
            if row.status in ("failed", "unknown"):
                self.model.update(row.position, "pending", "")
        return self._run(
            lambda runner, account, on_item, progress: runner.retry_failed(
                account, self.run_id, progress=progress, on_item=on_item
            ),
            "Retrying",
        )

    def _run(self, work_of: Any, verb: str) -> Job:
        live = self.live.session
        account = self.source.account
        runner = live.live_work().bulk

        def heard(item: BulkItem) -> None:
            row = self.model.update(item.position, item.status, item.message)
            if row is not None and row.row_id is not None and item.status == "ok":
                self._changed_rows.add(row.row_id)
                self._run_changed.add(row.row_id)
                if not self._refresh_timer.isActive():
                    self._refresh_timer.start()
            if not self._count_timer.isActive():
                self._count_timer.start()

        async def work(progress: ProgressFn) -> BulkSummary | RunBusy:
            try:
                summary: BulkSummary = await work_of(runner, account, heard, progress)
            except RunBusy as busy:
                return busy  # (not started: said here, not as a failure)
            return summary

        label = self.operation.label.rstrip("…")
        self.job = live.runner.start(
            f"{label}: {plural(self.model.rowCount(), self.noun)}",
            work,
            owner=self.live.panel,
            on_done=self._done,
        )
        self.job.progressed.connect(lambda update: set_progress(self.progress, update))
        self.progress.show()
        self.progress.setRange(0, 0)
        self.start_button.setEnabled(False)
        self.retry_button.hide()
        self.stop_button.show()
        self.stop_button.setEnabled(True)
        self.summary.setText(f"{verb}…")
        return self.job

    def stop(self) -> None:
        if self.job is not None and not self.job.done:
            self.stop_button.setEnabled(False)
            self.summary.setText("Stopping after the ones in flight…")
            self.job.cancel()

    def _fit_positions(self) -> None:
        """The "#" column as wide as its widest number (the highest) or its heading."""
        self.view.ensurePolished()
        widest = self.model.index(self.model.widest_row(), 0)
        cell = self.view.sizeHintForIndex(widest).width() if widest.isValid() else 0
        if cell and self.view.showGrid():
            cell += 1  # (a cell is drawn a pixel narrower than its column, for the grid line)
        self.view.setColumnWidth(0, max(cell, self.view.horizontalHeader().sectionSizeHint(0)))

    def _count(self) -> None:
        if self.job is None or self.job.done:
            return  # (the run's own summary says it now)
        counts = self.model.counts()
        done = sum(counts.get(status, 0) for status in ("ok", "failed", "unknown", "skipped"))
        self.summary.setText(f"{done:,} of {len(self.model.rows):,} ended: " + _counts_text(counts))

    def _done(self, job: Job) -> None:
        from promodesk.ui.live.session import WriteNotice

        self.stop_button.hide()
        if isinstance(job.result, RunBusy):
            self._not_started(job.result)
            return
        live = self.live
        if self.browser is not None and self._run_changed:
            # As after any operation: the rows show their new values in place, and the other
            # tables (a program's counts) and the details read again.
            self._changed_rows.clear()
            live.session.wrote.emit(
                WriteNotice(
                    self.operation.vendor, self.browser.spec.name, sorted(self._run_changed)
                )
            )
            self._run_changed.clear()
        live.session.window.workspace_info_changed()
        if job.error is not None:
            self.summary.setText(f"The run stopped: {job.error}")
            self.start_button.setText("Resume")
            self.start_button.setEnabled(self.run_id is not None)
            return
        if self.run_id is None:
            return
        bulk = live.session.live_work().bulk
        run_id = self.run_id
        unsure_shown = self.model.counts().get("unknown", 0)

        async def read(_progress: ProgressFn) -> tuple[list[BulkItem], BulkSummary]:
            summary = await bulk.summary(run_id)
            # The rows heard every item that ended; only a stop leaves items the journal
            # marks without a word to them (in flight: not sure; in line: not sent).
            stale = summary.pending or summary.unknown != unsure_shown
            return (await bulk.items(run_id) if stale else []), summary

        live.session.runner.start(
            "Reading the run's outcome",
            read,
            cancellable=False,
            background=True,
            on_done=lambda done: done.result is not None and self._ended(*done.result),
        )
        if self.browser is None:
            live.session.wrote.emit(WriteNotice(self.operation.vendor, everything=True))

    def _not_started(self, busy: RunBusy) -> None:
        """Another window or command has the run: nothing was sent. The rows and buttons go
        back to what its journal has (a retry had put its failed ones back in line here)."""
        text = f"Not started: {busy}"
        self.progress.hide()
        self.summary.setText(text)
        self.live.panel.show_message("warning", text)
        self.start_button.setText("Resume")
        self.start_button.setEnabled(self.run_id is not None)
        if self.run_id is None:
            return

        def shown(job: Job) -> None:
            self._run_read(job)
            self.summary.setText(text)
            self.live.panel.show_message("warning", text)

        self._read_run(self.run_id, shown, cancellable=False, background=True)

    def _read_run(self, run_id: int, on_done: Any, **options: Any) -> None:
        """The run's items and summary from its journal, to `on_done` (`_run_read` shows them)."""
        bulk = self.live.session.live_work().bulk

        target = self.operation.target

        async def read(
            _progress: ProgressFn,
        ) -> tuple[list[BulkItem], BulkSummary, dict[int, str]]:
            return (
                await bulk.items(run_id),
                await bulk.summary(run_id),
                await bulk.labels(run_id, target),
            )

        self.live.session.runner.start(
            "Reading an earlier bulk run", read, on_done=on_done, **options
        )

    def _ended(self, items: list[BulkItem], summary: BulkSummary) -> None:
        """The rows as the journal has them once the run has ended: a stopped run's items in
        flight end "not sure" (or failed) there without a word to the rows, which said
        "Waiting"."""
        for item in items:
            row = self.model.row_at(item.position)
            message = journal_message(item)
            if row is not None and (row.status, row.message) != (item.status, message):
                self.model.update(item.position, item.status, message)
        self._after(summary)

    def _after(self, summary: BulkSummary) -> None:
        """The run's state as the journal has it: what to offer next."""
        self.progress.hide()
        self.summary.setText(summary_text(summary, self.noun))
        self.run_id = summary.run_id
        retryable = summary.failed + summary.unknown
        self.retry_button.setVisible(retryable > 0)
        self.retry_button.setText(retry_text(summary.failed, summary.unknown, self.noun))
        self.start_button.setVisible(bool(summary.pending))
        if summary.pending:
            self.start_button.setText(f"Resume ({summary.pending:,} left)")
            self.start_button.setEnabled(True)
        self.live.panel.show_message(
            "info" if not retryable and not summary.pending else "warning",
            f"{self.verb} {plural(summary.total, self.noun)}: {summary_text(summary, self.noun)}",
        )

    def _show_changed_rows(self) -> None:
        if self.browser is not None and self._changed_rows:
            self.browser.refresh_rows(sorted(self._changed_rows))
            self._changed_rows.clear()

    def closeEvent(self, event: Any) -> None:
        # Closing only hides the view: a run goes on (jobs list, the panel's bar).
        self._show_changed_rows()
        super().closeEvent(event)


def journal_message(item: BulkItem) -> str:
    """An item's details as read from the journal once its run has ended or stopped: one
    still in line was never sent."""
    return item.message or (NOT_STARTED if item.status == "pending" else "")


def retry_text(failed: int, unknown: int, noun: str) -> str:
    """'Retry the failed code', 'Retry 2 failed codes', 'Retry 4 codes not sure to be done',
    'Retry 6 codes (2 failed, 4 not sure)': a code not sure to be done (its answer lost, or
    the run stopped while it was asked for) is not called failed."""
    if failed and unknown:
        return f"Retry {plural(failed + unknown, noun)} ({failed:,} failed, {unknown:,} not sure)"
    if unknown:
        if unknown == 1:
            return f"Retry the {noun} (not sure it was done)"
        return f"Retry {plural(unknown, noun)} (not sure they were done)"
    if failed == 1:
        return f"Retry the failed {noun}"
    return f"Retry {plural(failed, f'failed {noun}')}" if failed else "Retry failed"


def summary_text(summary: BulkSummary, noun: str) -> str:
    """'7 of 9 codes done, 1 failed, 1 skipped.'"""
    parts = [f"{summary.ok:,} of {plural(summary.total, noun)} done"]
    for count, words in (
        (summary.failed, "failed"),
        (summary.unknown, "not sure they were done"),
        (summary.skipped, "skipped"),
        (summary.pending, "not started"),
    ):
        if count:
            parts.append(f"{count:,} {words}")
    return ", ".join(parts) + "."


def _counts_text(counts: dict[str, int]) -> str:
    words = []
    for status in ("ok", "failed", "unknown", "skipped", "pending"):
        if counts.get(status):
            words.append(f"{counts[status]:,} {STATUS_WORDS[status].lower()}")
    return ", ".join(words) or "nothing yet"
