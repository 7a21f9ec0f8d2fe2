"""Copy rows (Ctrl+C) and Export rows… for any table, as jobs off the GUI thread.

The rows are read in SQL by `services.row_export` on a connection of the job's own, with
progress and Cancel in the status bar: a copy of a select-all over a million rows neither
freezes the window nor keeps it from quitting. The clipboard takes up to CLIPBOARD_MAX_ROWS
rows; a bigger selection is offered as an export, and the message says why.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from promodesk.domain.jobs import ProgressFn
from promodesk.qt import QGuiApplication, QObject, QSettings, QTimer, QWidget, Signal
from promodesk.services.row_export import CLIPBOARD_MAX_ROWS
from promodesk.store.query import RowSet
from promodesk.ui.models.formatting import plural

if TYPE_CHECKING:
    from promodesk.ui.panels.table_browser import TableBrowser
    from promodesk.ui.tasks import Job, TaskRunner
    from promodesk.ui.widgets.message_bar import MessageBar

CSV_FILTER = "CSV files (*.csv);;All files (*)"
# Copies this small finish before anyone could press Cancel: no status-bar flash for them.
QUIET_COPY_ROWS = 5_000


class RowTransfer(QObject):
    copied = Signal(int)  # rows now on the clipboard
    exported = Signal(object, int)  # (target Path, rows written)

    def __init__(
        self,
        runner: TaskRunner,
        messages: MessageBar,
        workspace: Callable[[], Path | None],
        settings: QSettings,
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self.messages = messages
        self.workspace = workspace
        self.settings = settings
        self.window = parent

    def handle(self, browser: TableBrowser, what: str, rows: RowSet | None) -> None:
        if what == "copy":
            self.copy(browser)
        else:
            self.choose_export(browser, rows)

    # -- copy ----------------------------------------------------------------------------------

    def copy(self, browser: TableBrowser) -> Job | None:
        rows = browser.selected_rows()
        workspace = self.workspace()
        if rows is None or workspace is None:
            self.messages.show_message(
                "info", "Select the rows to copy first (Ctrl+A selects every row)."
            )
            return None
        if rows.count > CLIPBOARD_MAX_ROWS:
            self.messages.show_message(
                "warning",
                f"{plural(rows.count, 'row')} are selected. The clipboard takes at most "
                f"{CLIPBOARD_MAX_ROWS:,} rows (spreadsheets slow to a crawl past that), so "
                "nothing was copied: export them to a CSV file instead.",
                action=(
                    f"Export {plural(rows.count, 'row')}…",
                    lambda: self.choose_export(browser, rows),
                ),
            )
            return None
        columns = browser.shown_columns()

        async def work(progress: ProgressFn) -> tuple[str, int]:
            from promodesk.services.jobs import run_blocking
            from promodesk.services.row_export import clipboard_text
            from promodesk.ui.models.formatting import copy_cell

            return await run_blocking(
                lambda token, report: clipboard_text(
                    workspace, rows, columns, copy_cell, cancel=token, progress=report
                ),
                progress=progress,
            )

        def done(job: Job) -> None:
            if job.cancelled:
                self.messages.show_message("info", "Copy cancelled; the clipboard is unchanged.")
                return
            if job.error is not None:
                self.messages.show_message("error", f"Could not copy the rows: {job.error}")
                return
            text, count = job.result
            QGuiApplication.clipboard().setText(text)  # ~20 ms for 100,000 rows

            def tell() -> None:
                self.messages.show_message(
                    "info", f"Copied {plural(count, 'row')} to the clipboard."
                )
                self.copied.emit(count)

            # The message in the loop's next turn: the window never waits for both at once.
            QTimer.singleShot(0, tell)

        return self.runner.start(
            f"Copying {plural(rows.count, 'row')}",
            work,
            background=rows.count <= QUIET_COPY_ROWS,
            on_done=done,
        )

    # -- export --------------------------------------------------------------------------------

    def choose_export(self, browser: TableBrowser, rows: RowSet | None = None) -> None:
        """Ask where to save, then export. Without `rows`: the selection when it has more
        than one row, else every row matching the table's search and filters."""
        if rows is None:
            selected = browser.selected_rows()
            rows = selected if selected is not None and selected.count > 1 else browser.all_rows()
        if rows.count == 0:
            self.messages.show_message("info", "There are no rows to export in this table.")
            return
        from promodesk.qt import QFileDialog

        folder = self.settings.value("files/export_folder", "", str) or str(Path.home())
        name = f"{browser.title.text()} {time.strftime('%Y-%m-%d')}.csv"
        dialog = QFileDialog(
            self.window, f"Export {plural(rows.count, 'row')}", str(Path(folder) / name), CSV_FILTER
        )
        dialog.setObjectName("exportRowsDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("csv")
        columns = browser.shown_columns()
        dialog.fileSelected.connect(
            lambda chosen: self.export(browser.title.text(), rows, columns, Path(chosen))
        )
        dialog.open()

    def export(self, what: str, rows: RowSet, columns: list, target: Path) -> Job | None:
        workspace = self.workspace()
        if workspace is None:
            return None
        self.settings.setValue("files/export_folder", str(target.parent))

        async def work(progress: ProgressFn) -> int:
            from promodesk.services.jobs import run_blocking
            from promodesk.services.row_export import export_csv

            return await run_blocking(
                lambda token, report: export_csv(
                    workspace, rows, columns, target, cancel=token, progress=report
                ),
                progress=progress,
            )

        def done(job: Job) -> None:
            if job.cancelled:
                self.messages.show_message(
                    "info", f"Export cancelled; {target.name} was not written."
                )
            elif job.error is not None:
                self.messages.show_message(
                    "error", f"Could not export to {target.name}: {job.error}", str(target)
                )
            else:
                self.messages.show_message(
                    "info",
                    f"Exported {plural(job.result, 'row')} of {what} to {target.name}.",
                    str(target),
                )
                self.exported.emit(target, job.result)

        return self.runner.start(f"Exporting {plural(rows.count, 'row')}", work, on_done=done)
