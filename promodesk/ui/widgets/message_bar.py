"""A bar above the panels for what just happened: imports done, files refused, errors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from promodesk.qt import QFrame, QWidget

if TYPE_CHECKING:
    from promodesk.qt import QStyle

Level = Literal["info", "warning", "error"]

_STYLES = {
    "info": "background: #e8f3ea; border: 1px solid #9fcfa9; color: #1f4d2a;",
    "warning": "background: #fff6e0; border: 1px solid #e8c66a; color: #5a4100;",
    "error": "background: #fde8e8; border: 1px solid #e59a9a; color: #6b1414;",
}


def _standard_icon(level: Level) -> QStyle.StandardPixmap:
    from promodesk.qt import QStyle  # its enums cost ~7 ms to load: not before it is needed

    return {
        "info": QStyle.StandardPixmap.SP_MessageBoxInformation,
        "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
        "error": QStyle.StandardPixmap.SP_MessageBoxCritical,
    }[level]


class MessageBar(QFrame):
    """Hidden until the first message; its contents are built then, not with the window,
    because they need Qt's enum namespace, which takes ~20 ms to load and would otherwise
    delay the window's first paint."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.level: Level = "info"
        self._built = False
        self.hide()

    def _build(self) -> None:
        from promodesk.qt import (
            QHBoxLayout,
            QLabel,
            QPlainTextEdit,
            Qt,
            QTimer,
            QToolButton,
            QVBoxLayout,
        )

        self._built = True
        self._icon = QLabel()
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._toggle = QToolButton()
        self._toggle.setText("Details")
        self._toggle.setCheckable(True)
        self._toggle.toggled.connect(self._show_details)
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("Dismiss (Esc)")
        close.setAutoRaise(True)
        close.clicked.connect(self.dismiss)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setMaximumHeight(140)
        self.details.hide()
        row = QHBoxLayout()
        row.addWidget(self._icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.text, 1)
        row.addWidget(self._toggle, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(row)
        layout.addWidget(self.details)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.dismiss)

    def show_message(self, level: Level, text: str, details: str = "") -> None:
        if not self._built:
            self._build()
        self.level = level
        self.setStyleSheet(f"QFrame#messageBar {{ {_STYLES[level]} border-radius: 4px; }}")
        from promodesk.qt import QStyle

        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        self._icon.setPixmap(self.style().standardIcon(_standard_icon(level)).pixmap(size, size))
        self.text.setText(text)
        self.details.setPlainText(details)
        self._toggle.setVisible(bool(details))
        self._toggle.setChecked(False)
        self.details.hide()
        self.show()
        # Good news fades; problems stay until the user has seen them.
        if level == "info" and not details:
            self._timer.start(12_000)
        else:
            self._timer.stop()

    def _show_details(self, shown: bool) -> None:
        self.details.setVisible(shown)

    def dismiss(self) -> None:
        if self._built:
            self._timer.stop()
        self.hide()
