"""The status-bar corner that shows the running job, its progress and a Cancel button."""

from __future__ import annotations

from promodesk.domain.jobs import Progress
from promodesk.qt import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget
from promodesk.ui.tasks import Job


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
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self._jobs: list[Job] = []
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
        self._show(job)

    @property
    def current(self) -> Job | None:
        return self._jobs[-1] if self._jobs else None

    def _show(self, job: Job) -> None:
        self.label.setText(job.title + "…")
        self.cancel_button.setEnabled(job.cancellable)
        self.cancel_button.setVisible(job.cancellable)
        self._set_progress(job.progress)
        self.show()

    def _progressed(self, job: Job, update: Progress) -> None:
        if job is self.current:
            if update.message:
                self.label.setText(update.message + "…")
            self._set_progress(update)

    def _set_progress(self, update: Progress | None) -> None:
        fraction = update.fraction if update else None
        if fraction is None:
            self.bar.setRange(0, 0)  # busy indicator: the total is not known
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(fraction * 1000))
            self.bar.setFormat(f"{fraction:.0%}")

    def _finished(self, job: Job) -> None:
        if job in self._jobs:
            self._jobs.remove(job)
        if self._jobs:
            self._show(self._jobs[-1])
        else:
            self.hide()

    def _cancel(self) -> None:
        job = self.current
        if job is not None:
            self.cancel_button.setEnabled(False)
            self.label.setText(f"Cancelling {job.title.lower()}…")
            job.cancel()
