"""What every Insights view shares: a non-modal window over the open workspace with a reader of
its own, a summary line, its list, Copy and Export CSV.

Each view reads through a `StoreReader` of its own (one read-only connection on its own
thread): the report's list is a TEMP table of that connection (store/changes.py and the
others make it), which the view's table pages like any workspace table, and working it out
never holds up the panels' reader. Copy and export read the same TEMP table, as jobs with
progress and Cancel; an export is written atomically (`codefiles.spreadsheet.write_csv`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from promodesk.domain.jobs import CancelToken, JobCancelled, Progress, ProgressFn
from promodesk.qt import (
    QAction,
    QDialog,
    QGuiApplication,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QPushButton,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from promodesk.ui.models.formatting import plural
from promodesk.ui.widgets.message_bar import MessageBar
from promodesk.ui.widgets.style import secondary_text_style

if TYPE_CHECKING:
    import sqlite3

    from promodesk.store.reader import StoreReader
    from promodesk.store.tables import TableSpec
    from promodesk.ui.insights import Insights
    from promodesk.ui.main_window import MainWindow
    from promodesk.ui.panels.table_browser import TableBrowser
    from promodesk.ui.tasks import Job

T = TypeVar("T")
CSV_FILTER = "CSV files (*.csv);;All files (*)"
CLIPBOARD_MAX_ROWS = 100_000


async def on_reader(
    reader: StoreReader,
    work: Callable[[sqlite3.Connection, CancelToken, ProgressFn], T],
    progress: ProgressFn,
) -> T:
    """`work(conn, token, progress)` on the reader's thread and connection; cancelling the
    awaiting task cancels the token (which interrupts the running statement) and waits for
    the work to stop, so a cancelled job is over when its caller hears of it."""
    import asyncio

    from promodesk.services.jobs import progress_on_loop, stopping_on_cancel

    token = CancelToken()
    hop = progress_on_loop(progress, asyncio.get_running_loop())

    def run(conn: sqlite3.Connection) -> T:
        unregister = token.on_cancel(conn.interrupt)
        try:
            return work(conn, token, hop)
        except Exception:
            token.raise_if_cancelled()  # an interrupted statement: the cancel, not a failure
            raise
        finally:
            unregister()

    return await stopping_on_cancel(asyncio.wrap_future(reader.submit(run)), token)


def export_rows(
    target: Path,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    token: CancelToken,
    progress: ProgressFn,
    total: int,
    *,
    rows_are_safe: bool,
) -> int:
    """A view's list as CSV for Excel (with a BOM), through the reports' one writer."""
    from promodesk.services.reports import export_rows as write_report_rows

    return write_report_rows(
        target,
        header,
        rows,
        token,
        progress,
        total,
        rows_are_safe=rows_are_safe,
        bom=True,
        every=5_000,
    )


def with_source_names(spec: TableSpec) -> TableSpec:
    """The report's spec with its source column shown as text (the source's name, left
    aligned), not as the number it is stored as."""
    from dataclasses import replace

    return replace(
        spec,
        columns=tuple(
            replace(column, kind="text") if column.name == "account_id" else column
            for column in spec.columns
        ),
    )


class InsightView(QDialog):
    """A report's window. Subclasses build their controls into `self.controls`, say how to
    work the report out (`compute`), and what Export writes (`export_work`)."""

    title = ""
    object_name = ""
    export_name = ""  # the suggested file name, before the date

    def __init__(self, window: MainWindow, insights: Insights) -> None:
        super().__init__(window)
        self.setObjectName(self.object_name)
        self.setWindowTitle(self.title)
        self.window_ = window
        self.insights = insights
        self.reader: StoreReader | None = None
        self.computed = False  # the report's list is in the reader's TEMP database
        self.job: Job | None = None

        self.controls = QHBoxLayout()
        self.summary = QLabel()
        self.summary.setObjectName("insightSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.note = QLabel()
        self.note.setObjectName("insightNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet(secondary_text_style(self))
        self.body = QVBoxLayout()
        self.copy_button = QPushButton("&Copy")
        self.copy_button.setObjectName("insightCopy")
        self.copy_button.setToolTip("Copy the selected rows (all rows when none is selected)")
        self.copy_button.clicked.connect(self.copy)
        self.export_button = QPushButton("&Export CSV…")
        self.export_button.setObjectName("insightExport")
        self.export_button.clicked.connect(self.choose_export)
        close = QPushButton("Close")
        close.setObjectName("insightClose")
        # No default button: Enter in a search box searches, it does not copy or close.
        for button in (self.copy_button, self.export_button, close):
            button.setAutoDefault(False)
        close.clicked.connect(self.close)
        bottom = QHBoxLayout()
        bottom.addWidget(self.note, 1)
        bottom.addWidget(self.copy_button)
        bottom.addWidget(self.export_button)
        bottom.addWidget(close)
        self.content = QWidget()
        layout = QVBoxLayout(self.content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.controls)
        layout.addWidget(self.summary)
        layout.addLayout(self.body, 1)
        layout.addLayout(bottom)
        outer = QVBoxLayout(self)
        outer.addWidget(self.content)
        self.message_bar = MessageBar()
        self.message_bar.float_over(self.content)
        # Ctrl+C here copies the view's rows (the window's own Copy acts on its panels).
        copy = QAction("Copy rows", self)
        copy.setShortcuts(QKeySequence.StandardKey.Copy)
        copy.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        copy.triggered.connect(self.copy)
        self.addAction(copy)
        again = QAction("Work out again", self)
        again.setShortcuts(QKeySequence.StandardKey.Refresh)
        again.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        again.triggered.connect(self.workspace_changed)
        self.addAction(again)
        screen = window.screen().availableGeometry()
        self.resize(min(1180, screen.width() - 40), min(700, screen.height() - 60))

    # -- the workspace -------------------------------------------------------------------------

    def ensure_reader(self) -> StoreReader | None:
        """The view's own reader on the open workspace (a new one for a new workspace)."""
        from promodesk.store.reader import StoreReader

        session = self.window_.session
        if session is None:
            return None
        if self.reader is not None and self.reader.path == session.path:
            return self.reader
        self.close_reader()
        self.reader = StoreReader(session.path)
        self.computed = False
        return self.reader

    def close_reader(self) -> None:
        reader, self.reader = self.reader, None
        self.computed = False
        for browser in self.browsers():
            browser.set_reader(None)
        if reader is not None:
            import threading

            reader.interrupt()
            # (its thread finishes the statement it was interrupted in; not on this thread)
            threading.Thread(target=reader.close, name="insight-reader-close").start()

    def browsers(self) -> list[TableBrowser]:
        return []

    def wire(self, browser: TableBrowser) -> None:
        """A list's context menu copies and exports through the view (its rows live in the
        view's own reader, which the window's copy and export do not read)."""
        browser.copy_requested.connect(self.copy)
        browser.export_requested.connect(lambda _rows: self.choose_export())
        browser.message.connect(self.show_message)

    def show_message(self, level: str, text: str, details: str = "", action: Any = None) -> None:
        self.message_bar.show_message(level, text, details, action)  # type: ignore[arg-type]

    def run_on_reader(
        self,
        title: str,
        work: Callable[[sqlite3.Connection, CancelToken, ProgressFn], Any],
        done: Callable[[Job], None],
        *,
        key: str = "compute",
        background: bool = False,
    ) -> Job | None:
        reader = self.ensure_reader()
        if reader is None:
            self.summary.setText("Open a workspace first.")
            return None

        async def job_work(progress: ProgressFn) -> Any:
            return await on_reader(reader, work, progress)

        def finished(job: Job) -> None:
            if reader is not self.reader:
                return  # the workspace changed (or the view closed) meanwhile
            if job.error is not None:
                self.show_message("error", f"{title} failed: {job.error}")
            done(job)

        job = self.window_.runner.start(
            title, job_work, owner=self, key=key, background=background, on_done=finished
        )
        if key == "compute":
            self.job = job
        return job

    def refresh(self) -> None:
        """Work the report out again (the workspace changed)."""

    def debounced(self, slot: Callable[[], Any], ms: int = 500) -> QTimer:
        """A timer that calls `slot` once `ms` after its last start: a spin box's arrows
        clicked five times work the report out once, not five times."""
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(ms)
        timer.timeout.connect(slot)
        return timer

    def workspace_changed(self) -> None:
        """The workspace changed underneath (or F5): the report is worked out again."""
        self.refresh()

    def busy(self) -> bool:
        """A job of this view is running (working the report out, importing, exporting)."""
        return bool(self.window_.runner.owned(self))

    def closeEvent(self, event: Any) -> None:
        for job in self.window_.runner.owned(self):
            job.cancel()
        self.close_reader()
        super().closeEvent(event)

    # -- copy and export -----------------------------------------------------------------------

    def current_browser(self) -> TableBrowser | None:
        found = self.browsers()
        return found[0] if found else None

    def copy(self) -> Job | None:
        """The selected rows (every row when none is), as the table shows them, tab-separated
        with a header, for a spreadsheet."""
        from promodesk.store.query import RowSet

        browser = self.current_browser()
        reader = self.reader
        if browser is None or reader is None or not self.computed:
            return None
        rows = browser.selected_rows() or browser.all_rows()
        if rows.count == 0:
            self.show_message("info", "There are no rows to copy.")
            return None
        if rows.count > CLIPBOARD_MAX_ROWS:
            self.show_message(
                "warning",
                f"{plural(rows.count, 'row')} are selected. The clipboard takes at most "
                f"{CLIPBOARD_MAX_ROWS:,} rows: export them to a CSV file instead.",
                action=("Export CSV…", self.choose_export),
            )
            return None
        columns = browser.shown_columns()
        model = browser.model
        assert isinstance(rows, RowSet)

        def work(conn: sqlite3.Connection, token: CancelToken, progress: ProgressFn) -> str:
            from promodesk.codefiles.spreadsheet import to_clipboard_text
            from promodesk.store.query import stream_rows

            lines: list[list[str]] = []
            for chunk in stream_rows(conn, rows.query, rows.positions(), chunk=2_000):
                token.raise_if_cancelled()
                lines += [[model.shown_text(row, column) for column in columns] for row in chunk]
                progress(Progress(len(lines), rows.count, "Copying rows"))
            return to_clipboard_text([column.label for column in columns], lines)

        def done(job: Job) -> None:
            if job.error is None and not job.cancelled:
                QGuiApplication.clipboard().setText(job.result)
                self.show_message("info", f"Copied {plural(rows.count, 'row')} to the clipboard.")

        return self.run_on_reader(
            f"Copying {plural(rows.count, 'row')}", work, done, key="copy", background=True
        )

    def export_work(
        self, target: Path
    ) -> Callable[[sqlite3.Connection, CancelToken, ProgressFn], int] | None:
        """What Export writes to `target` (None: nothing to export)."""
        return None

    def choose_export(self) -> None:
        if not self.computed:
            self.show_message("info", "The report is still being worked out.")
            return
        from promodesk.qt import QFileDialog

        settings = self.window_.settings
        folder = settings.value("files/export_folder", "", str) or str(Path.home())
        name = f"{self.export_name} {time.strftime('%Y-%m-%d')}.csv"
        dialog = QFileDialog(self, f"Export {self.title}", str(Path(folder) / name), CSV_FILTER)
        dialog.setObjectName("insightExportDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("csv")
        dialog.fileSelected.connect(lambda chosen: self.export(Path(chosen)))
        dialog.open()

    def export(self, target: Path) -> Job | None:
        """Write the report's list to `target` as a job with progress and Cancel; a cancel
        or a failure leaves the file as it was."""
        work = self.export_work(target)
        if work is None:
            return None
        self.window_.settings.setValue("files/export_folder", str(target.parent))

        def done(job: Job) -> None:
            if job.cancelled:
                self.show_message("info", f"Export cancelled; {target.name} was not written.")
            elif job.error is None:
                self.show_message(
                    "info", f"Exported {plural(job.result, 'row')} to {target.name}.", str(target)
                )

        return self.run_on_reader(f"Exporting to {target.name}", work, done, key="export")


def cancelled_quietly(job: Job) -> bool:
    return job.cancelled or isinstance(job.error, JobCancelled)
