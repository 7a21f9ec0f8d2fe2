"""The row above a vendor panel's tables: which source it shows (imported files, the sandbox,
an account), Refresh with its "as of", the panel's own busy indicator with Cancel, and the
menus of the vendor's operations."""

from __future__ import annotations

from collections.abc import Sequence

from promodesk.qt import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QToolButton,
    QWidget,
    Signal,
)
from promodesk.ui.live.sources import Source
from promodesk.ui.tasks import Job
from promodesk.ui.widgets.elided_label import ElidedLabel
from promodesk.ui.widgets.job_status import set_progress
from promodesk.ui.widgets.style import secondary_text_style

PICKER_MIN_CHARACTERS = 12  # "Imported files": longer names show whole when there is room


class AccountBar(QWidget):
    picked = Signal(object)  # Source
    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("accountBar")
        self.sources: list[Source] = []
        self.caption = QLabel("&Source:")
        self.picker = QComboBox()
        self.picker.setObjectName("sourcePicker")
        self.picker.setMinimumContentsLength(PICKER_MIN_CHARACTERS)
        self.picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.picker.setToolTip("Whose rows this panel shows, and whom its actions work with")
        self.picker.activated.connect(self._activated)
        self.caption.setBuddy(self.picker)
        self.refresh_button = QToolButton()
        self.refresh_button.setObjectName("refreshButton")
        self.refresh_button.setText("Refresh")
        self.refresh_button.clicked.connect(self.refresh_requested.emit)
        self.as_of = ElidedLabel()
        self.as_of.setObjectName("asOfLabel")
        self.as_of.setStyleSheet(secondary_text_style(self))
        # The panel's own work: a bar, what runs, and Cancel for it.
        self.busy_bar = QProgressBar()
        self.busy_bar.setObjectName("panelBusy")
        self.busy_bar.setFixedWidth(60)
        self.busy_bar.setTextVisible(False)
        self.busy_text = ElidedLabel()
        self.busy_text.setObjectName("panelBusyText")
        self.busy_cancel = QToolButton()
        self.busy_cancel.setObjectName("panelBusyCancel")
        self.busy_cancel.setText("✕")
        self.busy_cancel.setAutoRaise(True)
        self.busy_cancel.clicked.connect(self._cancel)
        self._busy_job: Job | None = None
        self._heard: set[Job] = set()
        self.groups = QHBoxLayout()
        self.groups.setContentsMargins(0, 0, 0, 0)
        self.groups.setSpacing(2)
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 2, 4, 0)
        row.addWidget(self.caption)
        row.addWidget(self.picker)
        row.addWidget(self.refresh_button)
        row.addWidget(self.as_of, 1)
        row.addWidget(self.busy_bar)
        row.addWidget(self.busy_text, 1)
        row.addWidget(self.busy_cancel)
        row.addLayout(self.groups)
        for widget in (self.busy_bar, self.busy_text, self.busy_cancel):
            # Hidden but keeping their place: work starting never moves the menus.
            policy = widget.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            widget.setSizePolicy(policy)
            widget.hide()

    def set_sources(self, sources: Sequence[Source], current: Source) -> None:
        self.sources = list(sources)
        self.picker.blockSignals(True)
        self.picker.clear()
        for number, source in enumerate(self.sources):
            self.picker.addItem(source.label, source.key)
            self.picker.setItemData(number, source.tooltip, _tooltip_role())
        self.picker.setCurrentIndex(max(0, self.picker.findData(current.key)))
        self.picker.blockSignals(False)

    def _activated(self, index: int) -> None:
        if 0 <= index < len(self.sources):
            self.picked.emit(self.sources[index])

    def set_busy(self, jobs: Sequence[Job]) -> None:
        """The panel's running jobs: the newest shows, with its progress and Cancel."""
        job = jobs[-1] if jobs else None
        self._busy_job = job
        for widget in (self.busy_bar, self.busy_text, self.busy_cancel):
            widget.setVisible(job is not None)
        if job is None:
            return
        more = f" (+{len(jobs) - 1} more)" if len(jobs) > 1 else ""
        self.busy_text.setText(f"{job.title}…{more}")
        self.busy_cancel.setEnabled(job.cancellable)
        self.busy_cancel.setToolTip(f"Stop “{job.title}”")
        if job not in self._heard:
            # Once per job, never disconnected: a job the bar no longer shows is ignored.
            self._heard.add(job)
            job.progressed.connect(lambda _update, job=job: self._progressed(job))
            job.finished.connect(lambda job=job: self._heard.discard(job))
        self._progressed(job)

    def _progressed(self, job: Job) -> None:
        if job is not self._busy_job:
            return
        set_progress(self.busy_bar, job.progress)
        if job.progress is not None and job.progress.message:
            self.busy_text.setText(job.progress.message + "…")

    def _cancel(self) -> None:
        if self._busy_job is not None:
            self.busy_text.setText(f"Stopping {self._busy_job.title.lower()}…")
            self._busy_job.cancel()


def _tooltip_role() -> int:
    from promodesk.qt import Qt

    return int(Qt.ItemDataRole.ToolTipRole.value)
