"""The status-bar corner that shows the running job, its progress and a Cancel button, and
with more than one job running, "3 jobs": every one of them with its own Cancel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from promodesk.domain.jobs import Progress
from promodesk.qt import QHBoxLayout, QLabel, QProgressBar, QPushButton, QToolButton, QWidget
from promodesk.ui.tasks import Job

if TYPE_CHECKING:
    from promodesk.ui.widgets.jobs_list import JobsList


def set_progress(bar: QProgressBar, update: Progress | None) -> None:
    """A bar for `update`: busy when the total is not known, else the share done."""
    fraction = update.fraction if update else None
    if fraction is None:
        bar.setRange(0, 0)
    else:
        bar.setRange(0, 1000)
        bar.setValue(int(fraction * 1000))
        bar.setFormat(f"{fraction:.0%}")


class JobStatus(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Becomes an elided plain-text label with the first job (not in the first frame):
        # a job's title names a file, and a long or odd one (say "<font size=7>…") neither
        # widens the window nor reads as markup.
        self.label: QLabel = QLabel()
        self.label.setObjectName("jobTitle")
        self.bar = QProgressBar()
        self.bar.setFixedWidth(180)
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop this job; whatever it changed is rolled back")
        self.cancel_button.clicked.connect(self._cancel)
        # "3 jobs": opens the list of every running job (shown from the second job on).
        self.jobs_button = QToolButton()
        self.jobs_button.setObjectName("jobsButton")
        self.jobs_button.setAutoRaise(True)
        self.jobs_button.setToolTip("Every job running now, each with its own Cancel")
        self.jobs_button.clicked.connect(self.show_list)
        self.jobs_button.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        layout.addWidget(self.jobs_button)
        self._jobs: list[Job] = []
        self.jobs_list: JobsList | None = None
        self.hide()

    def track(self, job: Job) -> None:
        from promodesk.ui.widgets.elided_label import ElidedLabel

        if not isinstance(self.label, ElidedLabel):
            elided = ElidedLabel()
            elided.setObjectName(self.label.objectName())
            self.layout().replaceWidget(self.label, elided)
            self.label.deleteLater()
            self.label = elided
        self._jobs.append(job)
        job.progressed.connect(lambda update, job=job: self._progressed(job, update))
        job.finished.connect(lambda job=job: self._finished(job))
        if self.jobs_list is not None:
            self.jobs_list.add(job)
        self._show(job)

    @property
    def current(self) -> Job | None:
        return self._jobs[-1] if self._jobs else None

    @property
    def jobs(self) -> list[Job]:
        return list(self._jobs)

    def show_list(self) -> JobsList:
        """The list of every running job, above the status bar."""
        from promodesk.ui.widgets.jobs_list import JobsList

        if self.jobs_list is None:
            self.jobs_list = JobsList(self)
        for job in self._jobs:
            self.jobs_list.add(job)
        self.jobs_list.popup_above(self.jobs_button if self.jobs_button.isVisible() else self)
        return self.jobs_list

    def _show(self, job: Job) -> None:
        self.label.setText(job.title + "…")
        self.cancel_button.setEnabled(job.cancellable)
        self.cancel_button.setVisible(job.cancellable)
        self._set_progress(job.progress)
        count = len(self._jobs)
        self.jobs_button.setText(f"{count} jobs ▴")
        self.jobs_button.setVisible(count > 1)
        self.show()

    def _progressed(self, job: Job, update: Progress) -> None:
        if job is self.current:
            if update.message:
                self.label.setText(update.message + "…")
            self._set_progress(update)

    def _set_progress(self, update: Progress | None) -> None:
        set_progress(self.bar, update)

    def _finished(self, job: Job) -> None:
        if job in self._jobs:
            self._jobs.remove(job)
        if self.jobs_list is not None:
            self.jobs_list.remove(job)
        if self._jobs:
            self._show(self._jobs[-1])
        else:
            self.hide()
            if self.jobs_list is not None:
                self.jobs_list.hide()

    def _cancel(self) -> None:
        job = self.current
        if job is not None:
            self.cancel_button.setEnabled(False)
            self.label.setText(f"Cancelling {job.title.lower()}…")
            job.cancel()
