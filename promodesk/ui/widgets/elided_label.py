"""A one-line label for text that comes and goes (counts, searches, names): it never widens
its window. A QLabel's minimum width is its whole text, so a growing "1,234 allocations match
“…”" pushed the window from 1400 to 1560 px (kept on the next start). This one shrinks with
the layout, ends in "…" when it must, and then shows the whole text as its tooltip. Plain text
always: data is never read as markup.
"""

from __future__ import annotations

from typing import Any

from promodesk.qt import QLabel, QSize, QWidget
from promodesk.ui.widgets.plain import plain_tooltip


class ElidedLabel(QLabel):
    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""  # (a QLabel's size policy is Preferred already: it may shrink)
        self._plain = False
        self.setText(text)

    def text(self) -> str:  # type: ignore[override]
        return self._full

    def setText(self, text: str) -> None:  # type: ignore[override]
        if text == self._full and text == QLabel.text(self):
            return
        self._full = text
        self.updateGeometry()
        self._fit()

    def sizeHint(self) -> QSize:
        return QSize(
            self.fontMetrics().horizontalAdvance(self._full) + 4, super().sizeHint().height()
        )

    def minimumSizeHint(self) -> QSize:
        # The same whatever the text: a label that appears or grows never changes the
        # minimum width of what holds it (that moved splitters when a row was clicked).
        return QSize(
            self.fontMetrics().horizontalAdvance("…") + 4, super().minimumSizeHint().height()
        )

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if not self._plain and "<" in self._full:
            # Only text with a "<" can pass for markup; set then, not at construction: the
            # window's first frame may not touch Qt's enum namespace (DEVELOPERS.md).
            from promodesk.qt import Qt

            self.setTextFormat(Qt.TextFormat.PlainText)
            self._plain = True
        # Not laid out yet (the window is being built): whole, until it has its width.
        shown = (
            _elided(self.fontMetrics(), self._full, self.contentsRect().width())
            if self.isVisible()
            else self._full
        )
        if shown != QLabel.text(self):  # (each change lays the window out again)
            QLabel.setText(self, shown)
            self.setToolTip(plain_tooltip(self._full) if shown != self._full else "")


def _elided(metrics: Any, text: str, width: int) -> str:
    """`text` cut at the end to fit `width`, with "…" (by hand: QFontMetrics.elidedText
    needs Qt's enum namespace, which the first frame must not load)."""
    if metrics.horizontalAdvance(text) <= width:
        return text
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if metrics.horizontalAdvance(text[:middle] + "…") <= width:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + "…"


class WrappedLabel(QLabel):
    """Plain text that wraps between words and is never clipped: it asks for the height its
    text needs at its current width (a word-wrapped QLabel inside a form row otherwise keeps
    the height of one line and cuts the rest off)."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from promodesk.qt import Qt

        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.setText(text)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        needed = self.heightForWidth(self.width())
        if needed > 0 and needed != self.minimumHeight():
            self.setMinimumHeight(needed)
