"""One dialog for every operation: its form (built from the operation's input model), the
row it acts on, a confirmation when it cannot be undone, then the call as a job with Cancel.

A problem with what was typed shows beside its field (pydantic's, before anything is sent,
or the executor's). A vendor refusal shows in the dialog, so it can be corrected; success
closes it and says so in the panel's message bar. "Check customers" keeps the dialog open
with a table of results.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from promodesk.qt import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QGuiApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    Qt,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from promodesk.ui.operations.form import Form, FormContext
from promodesk.ui.operations.results import ValidationModel
from promodesk.ui.widgets.elided_label import WrappedLabel
from promodesk.ui.widgets.style import secondary_text_style

if TYPE_CHECKING:
    from promodesk.services.operations.base import Operation
    from promodesk.ui.live.sources import Source
    from promodesk.ui.tasks import Job

PROBLEM_STYLE = "color: #a11a1a;"
# First words of labels that read as what the button does ("Assign to a promotion…" ->
# "Assign"); other labels name a thing ("Tiers…") and the button says Save / Get / Create.
VERBS = frozenset(
    {
        "activate", "add", "archive", "assign", "attach", "change", "check", "deactivate",
        "delete", "detach", "duplicate", "expire", "export", "find", "hide", "link", "reload",
        "rename", "show", "track", "unassign", "unlink", "upload",
    }
)  # fmt: skip
WIDE_EDITORS = frozenset({"tiers", "commands", "validate"})


def leading_verb(operation: Operation) -> str:
    """The verb the operation's label starts with ("Expire code": "Expire"), or ""."""
    words = operation.label.rstrip("…").split()
    return words[0] if words and words[0].lower() in VERBS else ""


def action_word(operation: Operation) -> str:
    """What the dialog's main button says."""
    verb = leading_verb(operation)
    if verb:
        return verb
    if operation.kind == "create":
        return "Create"
    return "Get" if operation.kind == "read" else "Save"


def confirmation(
    parent: QWidget, operation: Operation, what: str, on_yes: Callable[[], None]
) -> QMessageBox:
    """Asks before something that cannot be undone (`operation.confirm`); opened, not
    exec()'d: the window keeps running while it is on screen."""
    box = QMessageBox(parent)
    box.setObjectName("confirmOperation")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(operation.label.rstrip("…"))
    box.setTextFormat(Qt.TextFormat.PlainText)
    label, verb = operation.label.rstrip("…"), leading_verb(operation)
    # "Expire 8 codes?", "Archive promotion bf-2026?" (it read "Expire code: 8 codes?")
    box.setText(
        f"{verb} {what}?" if verb and what else f"{label}: {what}?" if what else f"{label}?"
    )
    box.setInformativeText(operation.confirm or "")
    yes = box.addButton(action_word(operation), QMessageBox.ButtonRole.DestructiveRole)
    yes.setObjectName("confirmYes")
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)  # Enter does not archive by accident
    box.finished.connect(lambda _result: box.clickedButton() is yes and on_yes())
    box.open()
    return box


class OperationDialog(QDialog):
    """`start(values)` runs the operation (the panel's, as a job) and returns the Job."""

    ran = Signal(object)  # the finished Job

    def __init__(
        self,
        operation: Operation,
        *,
        source: Source,
        start: Callable[[dict[str, Any], Callable[[Job], None]], Job],
        values: Mapping[str, Any] | None = None,
        target: Mapping[str, Any] | None = None,
        target_text: str = "",
        title: str = "",
        note: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("operationDialog")
        self.operation = operation
        self._start = start
        self.job: Job | None = None
        self.confirm_box: QMessageBox | None = None
        self.target = dict(target or {})
        fixed = operation.target.inputs_from(self.target) if operation.target and target else {}
        self.fixed = {name: value for name, value in fixed.items() if value not in (None, "")}
        self.setWindowTitle(title or operation.label.rstrip("…"))

        heading = QLabel(f"<b>{_escape(title or operation.label.rstrip('…'))}</b>")
        where = QLabel()
        where.setObjectName("operationTarget")
        where.setTextFormat(Qt.TextFormat.PlainText)
        where.setWordWrap(True)
        parts = [target_text] if target_text else []
        parts.append(f"{source.name} ({operation.vendor.display_name})")
        where.setText(" · ".join(parts))
        where.setStyleSheet(secondary_text_style(self))
        top = QVBoxLayout()
        top.addWidget(heading)
        top.addWidget(where)
        for text in (operation.description, note):
            if text:
                line = WrappedLabel(text)
                line.setStyleSheet(secondary_text_style(self))
                top.addWidget(line)

        hidden = [*operation.hidden_fields, *self.fixed]
        context = FormContext(
            parent=lambda: self, operation=operation, target=self.target, fixed=self.fixed
        )
        self.form = Form(operation.inputs, context, hidden=hidden)
        self.form.set_values({k: v for k, v in (values or {}).items() if k not in self.fixed})
        self.scroll = scroll = QScrollArea()
        scroll.setObjectName("formScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to its fields, not to it
        scroll.setWidget(self.form)

        self.results = QTableView()
        self.results.setObjectName("validationResults")
        self.results.setTabKeyNavigation(False)
        self.results_model = ValidationModel(self)
        self.results.setModel(self.results_model)
        self.results.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.results.horizontalHeader().setStretchLastSection(True)
        self.results.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.results.verticalHeader().hide()
        self.results.hide()
        self.copy_results = QPushButton("Copy results")
        self.copy_results.setObjectName("copyResults")
        self.copy_results.clicked.connect(self._copy_results)
        self.copy_results.hide()

        self.outcome = QLabel()
        self.outcome.setObjectName("operationOutcome")
        self.outcome.setWordWrap(True)
        self.outcome.setTextFormat(Qt.TextFormat.PlainText)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcome.hide()
        self.details_button = QToolButton()
        self.details_button.setText("Details")
        self.details_button.setCheckable(True)
        self.details_button.hide()
        self.details = QLabel()
        self.details.setObjectName("operationDetails")
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setStyleSheet(secondary_text_style(self))
        self.details.hide()
        self.details_button.toggled.connect(self.details.setVisible)
        outcome_row = QHBoxLayout()
        outcome_row.addWidget(self.outcome, 1)
        outcome_row.addWidget(self.details_button, 0, Qt.AlignmentFlag.AlignTop)

        self.busy = QProgressBar()
        self.busy.setObjectName("operationBusy")
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setFixedWidth(120)
        self.busy.hide()
        self.buttons = QDialogButtonBox()
        self.run_button = self.buttons.addButton(
            action_word(operation), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.run_button.setObjectName("runOperation")
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setObjectName("cancelOperation")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.copy_results)
        bottom.addWidget(self.busy)
        bottom.addStretch(1)
        bottom.addWidget(self.buttons)

        self._layout = layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.results, 1)
        layout.addLayout(outcome_row)
        layout.addWidget(self.details)
        layout.addLayout(bottom)
        self.run_button.setDefault(True)  # Enter runs it (set once the dialog holds it)
        self._size_for(operation)
        self.form.focus_first()

    def _size_for(self, operation: Operation) -> None:
        """Big enough for its form, never bigger than the screen it opens on."""
        wide = operation.editor in WIDE_EDITORS or any(
            spec.editor in ("tiers", "commands") for spec in self.form.specs
        )
        wanted_w, wanted_h = (900, 640) if wide else (600, 0)
        hint = self.sizeHint()
        screen = (self.parentWidget() or self).screen().availableGeometry()
        width = min(max(wanted_w, hint.width()), screen.width() - 40)
        # The form scrolls only when the screen is too short for it: as tall as it needs.
        around = hint.height() - self.scroll.sizeHint().height()
        needed = around + self.form.sizeHint().height() + 12
        height = min(max(wanted_h, needed), screen.height() - 60)
        self.resize(width, height)

    # -- running -----------------------------------------------------------------------------

    def submit(self) -> None:
        """Check the form, ask first when it cannot be undone, then run."""
        if self.job is not None and not self.job.done:
            return
        self._clear_outcome()
        model, problems = self.form.check(self.fixed)
        if model is None:
            self.form.show_problems(problems)
            return
        values = {**self.form.values(), **self.fixed}
        if self.operation.confirm:
            self.confirm_box = confirmation(
                self, self.operation, self._what(), lambda: self.run(values)
            )
            return
        self.run(values)

    def _what(self) -> str:
        if self.operation.target is None:
            return ""
        column = self.operation.target.label_column
        return str(self.target.get(column) or "")

    def run(self, values: dict[str, Any]) -> Job:
        self._busy(True)
        self.job = self._start(values, self._finished)
        return self.job

    def _busy(self, busy: bool) -> None:
        self.form.setEnabled(not busy)
        self.busy.setVisible(busy)
        self.run_button.setEnabled(not busy)
        self.cancel_button.setText("Stop" if busy else "Cancel")
        self.cancel_button.setToolTip(
            "Stop waiting; a change already sent may or may not have been made" if busy else ""
        )

    def reject(self) -> None:
        if self.job is not None and not self.job.done:
            self.job.cancel()  # Stop: the job ends as cancelled; the dialog stays to say so
            return
        super().reject()

    def _finished(self, job: Job) -> None:
        from promodesk.ui.live.session import Refused

        self._busy(False)
        self.ran.emit(job)
        result = job.result
        if job.cancelled:
            changes = self.operation.changes_vendor
            self._say(
                "Stopped. It may or may not have been made at the vendor; Reload shows which."
                if changes
                else "Stopped.",
                "",
            )
            return
        if job.error is not None:
            self._say(str(job.error), getattr(job.error, "details", ""))
            return
        if isinstance(result, Refused):
            if result.problems:
                left = self.form.show_problems(
                    [
                        ((name.split(".")[0], *name.split(".")[1:]) if name else (), text)
                        for name, text in result.problems
                    ]
                )
                if left:
                    self._say("; ".join(text for _where, text in left), "")
            else:
                self._say(result.reason, "")
            return
        if result.status == "failed":
            self._say(result.message, result.details)
            return
        if self.operation.editor == "validate" and result.ok:
            self._show_results(result)
            return
        self.accept()

    def _say(self, text: str, details: str) -> None:
        self.outcome.setStyleSheet(PROBLEM_STYLE)
        self.outcome.setText(text)
        self.outcome.show()
        self.details.setText(details)
        self.details_button.setChecked(False)
        self.details_button.setVisible(bool(details))

    def _clear_outcome(self) -> None:
        self.outcome.hide()
        self.details.hide()
        self.details_button.hide()

    def _show_results(self, outcome: Any) -> None:
        rows = self.operation.result_json(outcome.result) if self.operation.result_json else []
        self.results_model.set_rows(rows)
        self.results.show()
        self.copy_results.show()
        for column in range(self.results_model.columnCount() - 1):  # the last one stretches
            self.results.resizeColumnToContents(column)
        self._fit_form_above_results(len(rows))
        self.outcome.setStyleSheet("")
        self.outcome.setText(outcome.message)
        self.outcome.show()
        self.run_button.setText("Check again")
        self.cancel_button.setText("Close")

    def _fit_form_above_results(self, rows: int) -> None:
        """The form whole above the results (nothing of it cut off at the bottom of its
        scroll area), a few result rows below it; the dialog grows for that as far as its
        screen allows, and the results take any room left."""
        width = self.scroll.viewport().width()
        form = self.form
        form_height = (
            form.heightForWidth(width) if form.hasHeightForWidth() else form.sizeHint().height()
        )
        shown_rows = min(max(rows, 1), 5)
        rows_height = self.results.horizontalHeader().sizeHint().height()
        rows_height += self.results.verticalHeader().defaultSectionSize() * shown_rows
        around = self.sizeHint().height() - self.scroll.sizeHint().height()
        around -= self.results.sizeHint().height()
        screen = self.screen().availableGeometry().height() - 60
        scroll_height = max(min(form_height, screen - around - rows_height), 100)
        self._layout.setStretchFactor(self.scroll, 0)
        self.scroll.setFixedHeight(scroll_height)
        wanted = around + scroll_height + rows_height + 8
        if wanted > self.height():
            self.resize(self.width(), min(screen, wanted))

    def _copy_results(self) -> None:
        QGuiApplication.clipboard().setText(self.results_model.as_text())


def _escape(text: str) -> str:
    import html

    return html.escape(text)
