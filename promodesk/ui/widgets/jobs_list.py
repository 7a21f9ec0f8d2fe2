"""Every running job, not only the newest: title, progress and a Cancel button each.

Opened from the status bar's job corner ("3 jobs ▴"). A popup, so Escape or a click
elsewhere closes it; rows come and go as jobs start and end while it is open.
"""

from __future__ import annotations

from promodesk.domain.jobs import Progress
from promodesk.qt import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
)
from promodesk.ui.tasks import Job
from promodesk.ui.widgets.elided_label import ElidedLabel
from promodesk.ui.widgets.job_status import set_progress

ROW_WIDTH = 460


class JobRow(QWidget):
    def __init__(self, job: Job, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job = job
        self.setObjectName("jobRow")
        self.title = ElidedLabel(job.title)
        self.title.setObjectName("jobRowTitle")
        self.detail = ElidedLabel("")
        self.bar = QProgressBar()
        self.bar.setFixedWidth(140)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("jobRowCancel")
        self.cancel_button.setVisible(job.cancellable)
        self.cancel_button.setToolTip(f"Stop “{job.title}”")
        self.cancel_button.clicked.connect(self._cancel)
        text = QVBoxLayout()
        text.setSpacing(0)
        text.addWidget(self.title)
        text.addWidget(self.detail)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 3, 6, 3)
        row.addLayout(text, 1)
        row.addWidget(self.bar)
        row.addWidget(self.cancel_button)
        job.progressed.connect(self._progressed)
        self._progressed(job.progress)

    def _progressed(self, update: Progress | None) -> None:
        self.detail.setText(update.message if update and update.message else "")
        set_progress(self.bar, update)

    def _cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Stopping…")
        self.job.cancel()


class JobsList(QFrame):
    """The popup list of running jobs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("jobsList")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.rows: dict[Job, JobRow] = {}
        self.heading = QLabel("Running now")
        self.heading.setStyleSheet("font-weight: bold;")
        self.empty = QLabel("Nothing is running.")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(6, 6, 6, 6)
        self._layout.addWidget(self.heading)
        self._layout.addWidget(self.empty)
        self.setMinimumWidth(ROW_WIDTH)

    def add(self, job: Job) -> None:
        if job in self.rows:
            return
        row = JobRow(job)
        self.rows[job] = row
        self._layout.addWidget(row)
        self.empty.hide()
        self.adjustSize()

    def remove(self, job: Job) -> None:
        row = self.rows.pop(job, None)
        if row is not None:
            self._layout.removeWidget(row)
            row.deleteLater()
        self.empty.setVisible(not self.rows)
        self.adjustSize()

    def popup_above(self, anchor: QWidget) -> None:
        """Open just above `anchor` (a status-bar button), inside its screen."""
        self.adjustSize()
        corner = anchor.mapToGlobal(anchor.rect().topRight())
        screen = anchor.screen().availableGeometry()
        x = max(screen.left(), min(corner.x() - self.width(), screen.right() - self.width()))
        y = max(screen.top(), corner.y() - self.height())
        self.move(x, y)
        self.show()
