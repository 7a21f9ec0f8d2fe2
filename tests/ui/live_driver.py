"""Driving live vendor work through the window as a user does: pick the sandbox, select a row,
trigger an operation's action, fill its form, press its button, answer its confirmation;
then look at the fake vendor and at the tables.

The sandbox fakes run in-process (services.accounts.Connections serves them); the clients
get a quick retry policy and no rate limit (as in tests/integration), so injected faults are
retried at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promodesk.domain.vendors import Vendor
from promodesk.qt import QApplication, QComboBox, QLineEdit, QMessageBox, QPlainTextEdit, Qt
from promodesk.store.db import connect
from promodesk.ui.main_window import MainWindow
from promodesk.ui.operations.editors import ChoiceEditor, NumberEditor, TextEditor
from promodesk.ui.panels.base import VendorPanel
from promodesk.ui.panels.table_browser import TableBrowser
from promodesk.ui.tasks import Job

TIMEOUT = 20_000


@dataclass
class LiveDriver:
    qtbot: Any
    window: MainWindow
    workspace: Path
    fakes: dict[Vendor, Any]
    finished: list[Job] = field(default_factory=list)

    # -- the window --------------------------------------------------------------------------

    def panel(self, vendor: Vendor) -> VendorPanel:
        panel = self.window.panels[vendor]
        self.window.tabs.setCurrentWidget(panel)
        return panel

    def operations(self, vendor: Vendor) -> Any:
        panel = self.window.panels[vendor]
        assert panel.live_panel is not None
        return panel.live_panel.operations

    def action(self, vendor: Vendor, name: str) -> Any:
        return self.operations(vendor).actions[name]

    def wait_idle(self, vendor: Vendor | None = None) -> None:
        """Until the panel's (or every) job has ended and the tables have their rows."""
        runner = self.window.runner
        owner = self.window.panels[vendor] if vendor else None

        def idle() -> bool:
            jobs = runner.owned(owner) if owner is not None else list(runner.jobs)
            return not [job for job in jobs if not job.done]

        self.qtbot.waitUntil(idle, timeout=TIMEOUT)
        panels = [self.window.panels[vendor]] if vendor else list(self.window.panels.values())
        for panel in panels:
            for browser in panel.browsers:
                self.qtbot.waitUntil(lambda b=browser: not b.model.busy, timeout=TIMEOUT)

    def wait_for(self, condition: Callable[[], Any], timeout: int = TIMEOUT) -> None:
        self.qtbot.waitUntil(lambda: bool(condition()), timeout=timeout)

    def last_job(self, vendor: Vendor) -> Job:
        owner = self.window.panels[vendor]
        jobs = [job for job in self.finished if job.owner is owner]
        assert jobs, "no job of that panel ended"
        return jobs[-1]

    def message(self, vendor: Vendor) -> str:
        bar = self.window.panels[vendor].message_bar
        return bar.text.text() if bar.isVisible() else ""

    def level(self, vendor: Vendor) -> str:
        return self.window.panels[vendor].message_bar.level

    # -- rows --------------------------------------------------------------------------------

    def rows(self, browser: TableBrowser, column: str) -> list[Any]:
        model = browser.model
        at = model.spec.column_names.index(column)
        values = []
        for position in range(model.rowCount()):
            row = model.row_at(position)
            values.append(None if row is None else row[at])
        return values

    def select(self, browser: TableBrowser, column: str, value: Any) -> int:
        """Click the row whose `column` holds `value` (waiting for it to be there, in the
        table's latest rows)."""
        self.wait_for(
            lambda: (
                not browser.model.busy
                and str(value) in [str(v) for v in self.rows(browser, column)]
            )
        )
        position = [str(v) for v in self.rows(browser, column)].index(str(value))
        browser.view.setFocus()
        browser.view.selectRow(position)
        operations = self.operations(self.vendor_of(browser))
        table = browser.spec.name
        self.wait_for(
            lambda: (
                (row := operations.rows.get(table)) is not None
                and str(row.get(column)) == str(value)
            )
        )
        return position

    def vendor_of(self, browser: TableBrowser) -> Vendor:
        return next(v for v, p in self.window.panels.items() if browser in p.browsers)

    def select_many(self, browser: TableBrowser, column: str, values: list[Any]) -> None:
        self.wait_for(lambda: all(str(v) in map(str, self.rows(browser, column)) for v in values))
        shown = [str(v) for v in self.rows(browser, column)]
        browser.view.clearSelection()
        selection = browser.view.selectionModel()
        from promodesk.qt import QItemSelectionModel

        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for value in values:
            selection.select(browser.model.index(shown.index(str(value)), 0), flags)
        QApplication.processEvents()

    def sync(self, vendor: Vendor) -> Job:
        self.panel(vendor)
        before = len(self.finished)
        self.window.refresh_action.trigger()
        self.wait_for(lambda: len(self.finished) > before)
        self.wait_idle(vendor)
        return self.last_job(vendor)

    # -- running an operation ---------------------------------------------------------------------

    def trigger(self, vendor: Vendor, name: str, *, track: bool = False) -> Any:
        self.panel(vendor)  # the user works in the panel on screen
        operations = self.operations(vendor)
        action = operations.track_actions[name] if track else operations.actions[name]
        try:  # (the selected row's state is read on the reader thread, a moment after a click)
            self.qtbot.waitUntil(action.isEnabled, timeout=5_000)
        except Exception:
            raise AssertionError(f"{name} is disabled: {action.toolTip()}") from None
        operations.dialog = None
        finished = len(self.finished)
        action.trigger()
        # A form or a question opens, or the operation runs at once (a job starts).
        self.wait_for(
            lambda: (
                operations.dialog is not None
                or len(self.finished) > finished
                or self.window.runner.owned(self.window.panels[vendor])
            )
        )
        return operations.dialog

    def run(
        self,
        vendor: Vendor,
        name: str,
        values: dict[str, Any] | None = None,
        *,
        track: bool = False,
        confirm: bool = True,
        fill: Callable[[Any], None] | None = None,
    ) -> Job:
        """Trigger, fill the form (if one opens), press its button, say yes when asked, and
        wait for the job."""
        before = len(self.finished)
        dialog = self.trigger(vendor, name, track=track)
        from promodesk.ui.operations.dialog import OperationDialog

        if isinstance(dialog, OperationDialog):
            self.fill(dialog, values or {})
            if fill is not None:
                fill(dialog)
            self.qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
            dialog = dialog.confirm_box or dialog
        if isinstance(dialog, QMessageBox):
            if confirm:
                self.qtbot.mouseClick(
                    dialog.findChild(object, "confirmYes"), Qt.MouseButton.LeftButton
                )
            else:
                dialog.reject()
                return None  # type: ignore[return-value]
        self.wait_for(lambda: len(self.finished) > before)
        self.wait_idle(vendor)
        return self.last_job(vendor)

    def fill(self, dialog: Any, values: dict[str, Any]) -> None:
        """Type into the form (a dialog's, or a nested one) as a user would: text boxes are
        typed, choices picked."""
        form = getattr(dialog, "form", dialog)
        for name, value in values.items():
            editor = form.editors[name]
            if isinstance(editor, TextEditor | NumberEditor) and isinstance(
                editor.widget, QLineEdit
            ):
                editor.widget.clear()
                self.qtbot.keyClicks(editor.widget, str(value))
            elif isinstance(editor, TextEditor) and isinstance(editor.widget, QPlainTextEdit):
                editor.widget.setPlainText(str(value))
            elif isinstance(editor, ChoiceEditor) and isinstance(editor.widget, QComboBox):
                index = editor.widget.findData(value)
                assert index >= 0, (name, value)
                editor.widget.setCurrentIndex(index)
            else:
                editor.set_value(value)

    def one(self, sql: str, *params: Any) -> Any:
        conn = connect(self.workspace, readonly=True)
        try:
            rows = conn.execute(sql, params).fetchall()
        finally:
            conn.close()
        assert len(rows) == 1, rows
        return rows[0][0] if len(rows[0]) == 1 else rows[0]
