"""Create ▸ Resume unfinished…: the wizards and uploads that stopped part of the way.

Each one is listed with what it is, its account, how far it got and when it started. "Resume…"
reopens its wizard on its last page, where the steps left can be run; "Leave undone…" takes
it off the list after a confirmation (what was done stays done).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from promodesk.qt import (
    QDialog,
    QDialogButtonBox,
    QMessageBox,
    QPushButton,
    Qt,
    QVBoxLayout,
)
from promodesk.store.tables import Column
from promodesk.ui.models.formatting import display
from promodesk.ui.wizards.common import RowsModel, fit_columns, plain_label, table_view

if TYPE_CHECKING:
    from promodesk.services.wizard_runs import Plan
    from promodesk.ui.tasks import Job
    from promodesk.ui.wizards import Wizards

_STARTED = Column("started_at", "Started", "datetime")
KIND_WORDS = {"wizard": "New promotion with code", "upload": "Code file upload"}


def plan_row(plan: Plan) -> tuple[str, ...]:
    done = len(plan.steps) - len(plan.left)
    return (
        KIND_WORDS.get(plan.kind, plan.kind),
        plan.title,
        f"{plan.vendor.display_name} · {plan.account_name}",
        f"{done} of {len(plan.steps)} done" + (" · going on now" if plan.going_on else ""),
        display(_STARTED, plan.started_at),
    )


class ResumeDialog(QDialog):
    def __init__(self, hub: Wizards) -> None:
        super().__init__(hub.window)
        self.hub = hub
        self.setObjectName("resumeDialog")
        self.setWindowTitle("Resume unfinished")
        self.plans: list[Plan] = []
        self.confirmation: QMessageBox | None = None
        self.model = RowsModel(("What", "Title", "Account", "Steps", "Started"), parent=self)
        self.view = table_view(self.model, "unfinished", stretch=1)
        self.view.setSelectionMode(self.view.SelectionMode.SingleSelection)
        self.view.doubleClicked.connect(lambda _index: self.resume_selected())
        self.note = plain_label(secondary=True, name="resumeNote")
        self.resume_button = QPushButton("Resume…")
        self.resume_button.setObjectName("resumeSelected")
        self.resume_button.setDefault(True)
        self.resume_button.clicked.connect(self.resume_selected)
        self.leave_button = QPushButton("Leave undone…")
        self.leave_button.setObjectName("leaveUndone")
        self.leave_button.clicked.connect(self.confirm_leave)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.resume_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.leave_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(
            plain_label(
                "Wizards and uploads that stopped part of the way. Resuming runs only the "
                "steps left, with the same IDs: nothing is created or uploaded twice."
            )
        )
        layout.addWidget(self.view, 1)
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        self.resize(820, 360)
        self.view.selectionModel().currentRowChanged.connect(lambda *_: self._update())
        self._update()

    def reload(self) -> Job:
        from promodesk.services.wizard_runs import unfinished_plans

        executor = self.hub.executor()

        async def work(_progress: Any) -> list[Plan]:
            return await unfinished_plans(executor)

        def loaded(job: Job) -> None:
            if job.error is not None or job.cancelled:
                self.note.setText(f"Could not read the workspace: {job.error or 'stopped'}")
                return
            self.plans = list(job.result)
            self.model.set_rows([plan_row(plan) for plan in self.plans])
            fit_columns(self.view)
            if self.plans:
                self.view.selectRow(0)
            self._update()

        return self.hub.runner.start(
            "Reading unfinished work", work, cancellable=False, background=True, on_done=loaded
        )

    def selected(self) -> Plan | None:
        index = self.view.currentIndex()
        return (
            self.plans[index.row()] if index.isValid() and index.row() < len(self.plans) else None
        )

    def _update(self) -> None:
        plan = self.selected()
        free = plan is not None and not plan.going_on
        self.resume_button.setEnabled(free)
        self.leave_button.setEnabled(free)
        if not self.plans:
            self.note.setText("Nothing is unfinished in this workspace.")
        elif plan is not None and plan.going_on:
            self.note.setText(
                "Going on now, in this window or another one or in a command: it can be "
                "resumed or left undone once it stops (or a minute after promodesk was closed "
                "or stopped)."
            )
        elif plan is not None:
            left = ", ".join(step.target for step in plan.left[:3])
            self.note.setText(f"Left to do: {left}{' …' if len(plan.left) > 3 else ''}")

    def resume_selected(self) -> None:
        plan = self.selected()
        if plan is None:
            return
        self.accept()
        self.hub.resume(plan.run_id, plan.kind)

    def confirm_leave(self) -> QMessageBox | None:
        plan = self.selected()
        if plan is None:
            return None
        box = QMessageBox(self)
        box.setObjectName("confirmLeaveUndone")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Leave undone")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(f"Leave “{plan.title}” undone?")
        box.setInformativeText(
            "It is taken off this list. What it already did stays done, at the vendor and in "
            "the workspace; the steps left are not run."
        )
        leave = box.addButton("Leave undone", QMessageBox.ButtonRole.DestructiveRole)
        leave.setObjectName("confirmLeave")
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def answered(_result: int) -> None:
            self.confirmation = None
            if box.clickedButton() is leave:
                self.leave(plan)
            box.deleteLater()

        box.finished.connect(answered)
        self.confirmation = box
        box.open()
        return box

    def leave(self, plan: Plan) -> Job:
        from promodesk.services.wizard_runs import abandon_plan

        executor = self.hub.executor()

        async def work(_progress: Any) -> str:
            from promodesk.services.run_claims import RunBusy

            try:
                await abandon_plan(executor, plan.run_id)
            except RunBusy as busy:  # (it started elsewhere since the list was read)
                return f"Not left undone: {busy}."
            return ""

        def done(job: Job) -> None:
            self.reload().finished.connect(lambda: job.result and self.note.setText(job.result))

        return self.hub.runner.start(
            "Leaving it undone", work, cancellable=False, background=True, on_done=done
        )
