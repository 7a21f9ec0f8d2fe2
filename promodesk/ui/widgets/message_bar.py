"""A bar for what just happened: imports done, files refused, errors, with one optional action.

In the main window it floats over the bottom edge of the content instead of taking a place in
the layout: showing or hiding it never moves the tables under the pointer. Text is always
plain (a file named `<font size=7>…` reads as its name, not as markup).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from promodesk.qt import QFrame, QWidget

if TYPE_CHECKING:
    from promodesk.qt import QStyle

Level = Literal["info", "warning", "error"]
Action = tuple[str, Callable[[], Any]]  # (button text, what it does)

_STYLES = {
    "info": "background: #e8f3ea; border: 1px solid #9fcfa9; color: #1f4d2a;",
    "warning": "background: #fff6e0; border: 1px solid #e8c66a; color: #5a4100;",
    "error": "background: #fde8e8; border: 1px solid #e59a9a; color: #6b1414;",
}
_MARGIN = 10  # from the edges of the widget it floats over
INFO_SHOWN_MS = 12_000


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
        self._floating = False
        self._top = False
        self._action: Action | None = None
        self.hide()

    def float_over(self, host: QWidget, *, top: bool = False) -> None:
        """Show over the bottom (or the top) of `host`, outside any layout, and follow its
        size."""
        self.setParent(host)
        self._floating = True
        self._top = top
        self.hide()

    def _build(self) -> None:
        from promodesk.qt import (
            QHBoxLayout,
            QLabel,
            QPlainTextEdit,
            QPushButton,
            Qt,
            QTimer,
            QToolButton,
            QVBoxLayout,
        )

        self._built = True
        if self._floating and self.parentWidget() is not None:
            # Follows its host's size from the first message on; watching the host's events
            # from the first frame would build PySide's event types (~5 ms) before the paint.
            self.parentWidget().installEventFilter(self)
        self._icon = QLabel()
        self.text = QLabel()
        self.text.setObjectName("messageText")
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action_button = QPushButton()
        self.action_button.setObjectName("messageAction")
        self.action_button.clicked.connect(self._act)
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
        row.addWidget(self.action_button, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self._toggle, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(row)
        layout.addWidget(self.details)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.dismiss)

    def show_message(
        self, level: Level, text: str, details: str = "", action: Action | None = None
    ) -> None:
        if not self._built:
            self._build()
        self.level = level
        self.setStyleSheet(f"QFrame#messageBar {{ {_STYLES[level]} border-radius: 4px; }}")
        from promodesk.qt import QStyle

        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        self._icon.setPixmap(self.style().standardIcon(_standard_icon(level)).pixmap(size, size))
        self.text.setText(text)
        self.details.setPlainText(details)
        self._action = action
        self.action_button.setText(action[0] if action else "")
        self.action_button.setVisible(action is not None)
        self._toggle.setVisible(bool(details))
        self._toggle.setChecked(False)
        self.details.hide()
        self.show()
        self._place()
        # Good news fades (it floats, so nothing moves when it goes); problems stay until
        # the user has seen them.
        if level == "info" and not details:
            self._timer.start(INFO_SHOWN_MS)
        else:
            self._timer.stop()

    def enterEvent(self, event: Any) -> None:
        if self._built:
            self._timer.stop()  # not while the pointer is on it (about to click its button)
        super().enterEvent(event)

    def leaveEvent(self, event: Any) -> None:
        if self._built and self.level == "info" and not self.details.toPlainText():
            self._timer.start(INFO_SHOWN_MS)
        super().leaveEvent(event)

    def _act(self) -> None:
        action = self._action
        self.dismiss()
        if action is not None:
            action[1]()

    def _show_details(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self._place()

    def _place(self) -> None:
        host = self.parentWidget()
        if not self._floating or host is None:
            return
        width = max(0, host.width() - 2 * _MARGIN)
        layout = self.layout()
        height = layout.heightForWidth(width) if layout is not None else -1
        height = max(height, self.minimumSizeHint().height())
        y = _MARGIN if self._top else max(0, host.height() - height - _MARGIN)
        self.setGeometry(_MARGIN, y, width, height)
        self.raise_()

    def eventFilter(self, watched: Any, event: Any) -> bool:
        if watched is self.parentWidget() and event.type() == event.Type.Resize:
            self._place()
        return super().eventFilter(watched, event)

    def dismiss(self) -> None:
        if self._built:
            self._timer.stop()
        self.hide()
