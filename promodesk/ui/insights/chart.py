"""A small chart of values per day, painted with QPainter: bars, lines, dashed lines for
projections, and day markers ("runs dry").

Why not a plotting library (measured for issue 12): pyqtgraph needs numpy (~85 MB
installed, +0.3 s to import) and QtCharts is not in PySide6-Essentials (PySide6-Addons is a
175 MB wheel, 422 MB installed); the bundle is within 2 MB of its 150 MB target. The charts
here need a few hundred points, one axis and a tooltip: this module is one import of a few
milliseconds, loaded with the first view that shows a chart, never at start-up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from promodesk.qt import QColor, QPainter, QPen, QPoint, QRect, QSize, Qt, QToolTip, QWidget

BARS, LINE, DASHED = "bars", "line", "dashed"
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 56, 16, 28, 34


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]  # one per day of the chart (None: nothing that day)
    color: str
    style: str = BARS  # BARS | LINE | DASHED


@dataclass(frozen=True)
class Marker:
    day: str  # YYYY-MM-DD
    label: str
    color: str = "#c0392b"


def nice_step(top: float, ticks: int = 4) -> float:
    """A round step (1, 2 or 5 times a power of ten) for about `ticks` grid lines."""
    if top <= 0:
        return 1.0
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return max(1.0, factor * power)
    return 10 * power


def short_day(day: str) -> str:
    try:
        return date.fromisoformat(day).strftime("%d %b").lstrip("0")
    except ValueError:
        return day


class DayChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dayChart")
        self.setMouseTracking(True)
        self.setMinimumHeight(160)
        self.days: list[str] = []
        self.series: list[Series] = []
        self.markers: list[Marker] = []
        self.title = ""
        self.empty_text = "Nothing to chart."

    def sizeHint(self) -> QSize:
        return QSize(600, 220)

    def set_data(
        self,
        days: Sequence[str],
        series: Sequence[Series],
        *,
        markers: Sequence[Marker] = (),
        title: str = "",
        empty_text: str = "",
    ) -> None:
        self.days = list(days)
        self.series = [entry for entry in series if len(entry.values) == len(self.days)]
        self.markers = list(markers)
        self.title = title
        if empty_text:
            self.empty_text = empty_text
        self.update()

    # -- geometry ------------------------------------------------------------------------------

    def plot_rect(self) -> QRect:
        return self.rect().adjusted(MARGIN_LEFT, MARGIN_TOP, -MARGIN_RIGHT, -MARGIN_BOTTOM)

    def top_value(self) -> float:
        values = [v for entry in self.series for v in entry.values if v is not None]
        return max(values, default=0.0)

    def x_of(self, index: int, plot: QRect) -> float:
        width = plot.width() / max(1, len(self.days))
        return plot.left() + width * (index + 0.5)

    def day_at(self, x: int) -> int | None:
        plot = self.plot_rect()
        if not self.days or not plot.left() <= x <= plot.right():
            return None
        width = plot.width() / len(self.days)
        return min(len(self.days) - 1, max(0, int((x - plot.left()) / width)))

    # -- painting ------------------------------------------------------------------------------

    def paintEvent(self, _event: Any) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.color(palette.ColorRole.WindowText)
        faint = QColor(text)
        faint.setAlpha(40)
        painter.fillRect(self.rect(), palette.color(palette.ColorRole.Base))
        metrics = self.fontMetrics()
        painter.setPen(text)
        if self.title:
            painter.drawText(QPoint(MARGIN_LEFT, metrics.ascent() + 6), self.title)
        plot = self.plot_rect()
        top = self.top_value()
        if not self.days or top <= 0 or plot.width() < 40 or plot.height() < 40:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)
            painter.end()
            return
        step = nice_step(top)
        ceiling = step * math.ceil(top / step)

        def y_of(value: float) -> float:
            return plot.bottom() - plot.height() * value / ceiling

        # Grid and the value axis.
        tick = 0.0
        while tick <= ceiling + step / 2:
            y = round(y_of(tick))
            painter.setPen(QPen(faint, 1))
            painter.drawLine(plot.left(), y, plot.right(), y)
            painter.setPen(text)
            label = f"{tick:,.0f}"
            painter.drawText(
                QRect(0, y - metrics.height() // 2, MARGIN_LEFT - 6, metrics.height()),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                label,
            )
            tick += step
        # Day labels: as many as fit.
        label_width = metrics.horizontalAdvance("28 Nov") + 12
        every = max(1, math.ceil(len(self.days) * label_width / max(1, plot.width())))
        for index in range(0, len(self.days), every):
            x = round(self.x_of(index, plot))
            painter.drawText(
                QRect(x - label_width // 2, plot.bottom() + 4, label_width, metrics.height()),
                Qt.AlignmentFlag.AlignCenter,
                short_day(self.days[index]),
            )
        bars = [entry for entry in self.series if entry.style == BARS]
        slot = plot.width() / len(self.days)
        bar_width = max(1.0, slot * 0.8 / max(1, len(bars)))
        for number, entry in enumerate(bars):
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(entry.color))
            for index, value in enumerate(entry.values):
                if not value:
                    continue
                left = plot.left() + slot * index + slot * 0.1 + bar_width * number
                y = y_of(value)
                painter.drawRect(
                    round(left), round(y), max(1, round(bar_width)), round(plot.bottom() - y)
                )
        for entry in self.series:
            if entry.style == BARS:
                continue
            pen = QPen(QColor(entry.color), 2)
            if entry.style == DASHED:
                pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            # One polyline per unbroken run: a dash pattern runs on along it (drawn as
            # separate short lines, each started a new dash and the line looked solid).
            run: list[QPoint] = []
            for index, value in enumerate([*entry.values, None]):
                if value is not None:
                    run.append(QPoint(round(self.x_of(index, plot)), round(y_of(value))))
                    continue
                if len(run) > 1:
                    painter.drawPolyline(run)
                elif run:
                    painter.drawPoint(run[0])
                run = []
        for marker in self.markers:
            if marker.day not in self.days:
                continue
            x = round(self.x_of(self.days.index(marker.day), plot))
            pen = QPen(QColor(marker.color), 1)
            pen.setStyle(Qt.PenStyle.DotLine)
            painter.setPen(pen)
            painter.drawLine(x, plot.top(), x, plot.bottom())
            painter.setPen(QColor(marker.color))
            # Inside the plot, beside its line (left of it when there is room): never over
            # the legend above the plot.
            width = metrics.horizontalAdvance(marker.label) + 8
            left = x - width - 2 if x - width - 2 >= plot.left() else x + 4
            painter.drawText(
                QRect(left, plot.top() + 2, width, metrics.height()),
                Qt.AlignmentFlag.AlignCenter,
                marker.label,
            )
        self._legend(painter, plot, text)
        painter.end()

    def _legend(self, painter: QPainter, plot: QRect, text: QColor) -> None:
        metrics = self.fontMetrics()
        x = plot.right()
        y = metrics.ascent() + 6
        for entry in reversed(self.series):
            width = metrics.horizontalAdvance(entry.label)
            x -= width
            painter.setPen(text)
            painter.drawText(QPoint(x, y), entry.label)
            x -= 22
            pen = QPen(QColor(entry.color), 2 if entry.style != BARS else 8)
            if entry.style == DASHED:
                pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            middle = y - metrics.ascent() // 2 + 1
            painter.drawLine(x, middle, x + 14, middle)
            x -= 16

    # -- the value under the pointer -----------------------------------------------------------

    def tooltip_at(self, x: int) -> str:
        index = self.day_at(x)
        if index is None:
            return ""
        lines = [short_day(self.days[index]) + " " + self.days[index][:4]]
        for entry in self.series:
            value = entry.values[index]
            if value is not None:
                lines.append(f"{entry.label}: {value:,.0f}")
        return "\n".join(lines)

    def mouseMoveEvent(self, event: Any) -> None:
        tip = self.tooltip_at(round(event.position().x()))
        if tip:
            QToolTip.showText(event.globalPosition().toPoint(), tip, self)
        else:
            QToolTip.hideText()
        super().mouseMoveEvent(event)
