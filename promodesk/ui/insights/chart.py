"""A chart of values per day, drawn with Qt Charts: bars, lines, dashed lines for
projections, and day markers ("runs dry").

Qt Charts (PySide6-Addons; the bundle takes only its QtCharts module) was chosen over
pyqtgraph by measuring both (bench/charts.py; README, Insights): it adds 3.4 MB to the bundle
where pyqtgraph and numpy add 56 MB, and its first chart costs ~35 ms where pyqtgraph's costs
~0.3 s (numpy's import). This module, and Qt Charts with it, loads with the first view that
shows a chart, never at start-up (tests/ui/test_insights.py holds the first frame to that).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from promodesk.qt import (
    QBarSeries,
    QBarSet,
    QCategoryAxis,
    QChart,
    QChartView,
    QColor,
    QEvent,
    QGraphicsSimpleTextItem,
    QLegend,
    QLineSeries,
    QMargins,
    QPainter,
    QPen,
    QPoint,
    QPointF,
    QRect,
    QSize,
    Qt,
    QToolTip,
    QWidget,
)

BARS, LINE, DASHED = "bars", "line", "dashed"
LABEL_GAP = 8  # pixels between two day labels
LABEL_PADDING = 5  # Qt Charts' space on either side of an axis label


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


def runs(values: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """The unbroken stretches of a line: (day index, value) of each day that has a value."""
    stretches: list[list[tuple[int, float]]] = []
    current: list[tuple[int, float]] = []
    for index, value in enumerate([*values, None]):
        if value is not None:
            current.append((index, value))
        elif current:
            stretches.append(current)
            current = []
    return stretches


class DayChart(QChartView):
    """Days along the bottom (as many date labels as fit), values up the side, on the
    window's palette. `set_data` replaces everything; an empty chart shows `empty_text`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(QChart(), parent)
        self.setObjectName("dayChart")
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMouseTracking(True)
        self.setMinimumHeight(160)
        self.days: list[str] = []
        self.series: list[Series] = []
        self.markers: list[Marker] = []
        self.title = ""
        self.empty_text = "Nothing to chart."
        self.ceiling = 0.0
        self.label_every = 0
        self.marker_labels: list[tuple[QGraphicsSimpleTextItem, int, QLineSeries]] = []
        chart = self.chart()
        chart.setBackgroundRoundness(0)
        chart.setMargins(QMargins(6, 4, 10, 4))
        chart.layout().setContentsMargins(0, 0, 0, 0)
        legend = chart.legend()
        legend.setAlignment(Qt.AlignmentFlag.AlignTop)
        legend.setMarkerShape(QLegend.MarkerShape.MarkerShapeFromSeries)
        self.x_axis = QCategoryAxis()
        self.y_axis = QCategoryAxis()
        for axis, side in (
            (self.x_axis, Qt.AlignmentFlag.AlignBottom),
            (self.y_axis, Qt.AlignmentFlag.AlignLeft),
        ):
            axis.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue)
            chart.addAxis(axis, side)
        self.x_axis.setGridLineVisible(False)
        chart.plotAreaChanged.connect(lambda _area: self._plot_area_changed())
        self._follow_palette()

    def sizeHint(self) -> QSize:
        return QSize(600, 220)

    # -- data ----------------------------------------------------------------------------------

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
        self.markers = [marker for marker in markers if marker.day in self.days]
        self.title = title
        if empty_text:
            self.empty_text = empty_text
        chart = self.chart()
        chart.removeAllSeries()
        for item, _index, _line in self.marker_labels:
            chart.scene().removeItem(item)
        self.marker_labels = []
        chart.setTitle(title)
        top = self.top_value()
        empty = not self.days or top <= 0
        self.x_axis.setVisible(not empty)
        self.y_axis.setVisible(not empty)
        chart.legend().setVisible(not empty)
        self.label_every = 0
        if empty:
            self.ceiling = 0.0
            self.viewport().update()
            return
        step = nice_step(top)
        self.ceiling = step * math.ceil(top / step)
        self._value_labels(step)
        self.x_axis.setStartValue(-0.5)
        self.x_axis.setRange(-0.5, len(self.days) - 0.5)
        self._add_bars()
        self._add_lines()
        self._add_markers()
        self._day_labels()
        self._follow_palette()
        # Lay the chart out now rather than on the next turn of the event loop, so that
        # what is read back or grabbed right after (tests, screenshots) is what is drawn.
        chart.layout().activate()

    def top_value(self) -> float:
        values = [v for entry in self.series for v in entry.values if v is not None]
        return max(values, default=0.0)

    def _attach(self, series: Any) -> None:
        self.chart().addSeries(series)
        series.attachAxis(self.x_axis)
        series.attachAxis(self.y_axis)

    def _hide_from_legend(self, series: Any) -> None:
        for marker in self.chart().legend().markers(series):
            marker.setVisible(False)

    def _add_bars(self) -> None:
        bars = [entry for entry in self.series if entry.style == BARS]
        if not bars:
            return
        group = QBarSeries()
        group.setBarWidth(0.8)
        for entry in bars:
            bar_set = QBarSet(entry.label)
            bar_set.setColor(QColor(entry.color))
            bar_set.setBorderColor(QColor(entry.color))
            bar_set.append([value or 0.0 for value in entry.values])
            group.append(bar_set)
        self._attach(group)
        for marker in self.chart().legend().markers(group):
            # A bar's own "shape from series" draws an empty box.
            marker.setShape(QLegend.MarkerShape.MarkerShapeRectangle)

    def _add_lines(self) -> None:
        for entry in self.series:
            if entry.style == BARS:
                continue
            pen = QPen(QColor(entry.color), 2)
            if entry.style == DASHED:
                pen.setStyle(Qt.PenStyle.DashLine)
            # One line per unbroken stretch (a dash pattern runs on along each); the legend
            # names the first.
            for number, stretch in enumerate(runs(entry.values)):
                line = QLineSeries()
                line.setName(entry.label)
                line.setPen(pen)
                line.append([QPointF(index, value) for index, value in stretch])
                line.setPointsVisible(len(stretch) == 1)
                self._attach(line)
                if number:
                    self._hide_from_legend(line)

    def _add_markers(self) -> None:
        for marker in self.markers:
            index = self.days.index(marker.day)
            pen = QPen(QColor(marker.color), 1)
            pen.setStyle(Qt.PenStyle.DotLine)
            line = QLineSeries()
            line.setName(marker.label)
            line.setPen(pen)
            line.append([QPointF(index, 0.0), QPointF(index, self.ceiling)])
            self._attach(line)
            self._hide_from_legend(line)
            # The label sits inside the plot beside its line, never over the legend.
            label = QGraphicsSimpleTextItem(marker.label, self.chart())
            label.setBrush(QColor(marker.color))
            label.setFont(self.font())
            label.setZValue(10)
            self.marker_labels.append((label, index, line))
        self._place_marker_labels()

    def _value_labels(self, step: float) -> None:
        axis = self.y_axis
        for label in axis.categoriesLabels():
            axis.remove(label)
        axis.setStartValue(0.0)
        tick = 0.0
        while tick <= self.ceiling + step / 2:
            axis.append(f"{tick:,.0f}", tick)
            tick += step
        axis.setRange(0.0, self.ceiling)

    def _day_labels(self) -> None:
        """As many day labels as fit the plot's width, evenly spaced (worked out again when
        the plot's width changes)."""
        width = self.chart().plotArea().width()
        if not self.days or width <= 0:
            return
        # Qt Charts gives each label of n an (n + 1)th of the axis, less its padding, and cuts
        # a label that is wider short with "...".
        metrics = self.fontMetrics()
        widest = max(metrics.horizontalAdvance(short_day(day)) for day in self.days)
        every = 1
        while every < len(self.days):
            count = math.ceil(len(self.days) / every)
            if width / (count + 1) - 2 * LABEL_PADDING >= widest + LABEL_GAP:
                break
            every += 1
        if every == self.label_every:
            return
        self.label_every = every
        axis = self.x_axis
        for label in axis.categoriesLabels():
            axis.remove(label)
        axis.setStartValue(-0.5)
        for index in range(0, len(self.days), every):
            axis.append(short_day(self.days[index]), index)
        axis.setRange(-0.5, len(self.days) - 0.5)

    def _plot_area_changed(self) -> None:
        self._day_labels()
        self._place_marker_labels()

    def _place_marker_labels(self) -> None:
        plot = self.chart().plotArea()
        for label, index, line in self.marker_labels:
            x = self.chart().mapToPosition(QPointF(index, 0.0), line).x()
            width = label.boundingRect().width()
            left = x - width - 4 if x - width - 4 >= plot.left() else x + 4
            label.setPos(left, plot.top() + 2)

    # -- palette -------------------------------------------------------------------------------

    def _follow_palette(self) -> None:
        palette = self.palette()
        text = palette.color(palette.ColorRole.WindowText)
        base = palette.color(palette.ColorRole.Base)
        faint = QColor(text)
        faint.setAlpha(40)
        chart = self.chart()
        chart.setBackgroundBrush(base)
        chart.setBackgroundPen(QPen(Qt.PenStyle.NoPen))
        self.setBackgroundBrush(base)
        chart.setTitleBrush(text)
        chart.setTitleFont(self.font())
        legend = chart.legend()
        legend.setLabelColor(text)
        legend.setFont(self.font())
        for axis in (self.x_axis, self.y_axis):
            axis.setLabelsColor(text)
            axis.setLabelsFont(self.font())
            axis.setGridLineColor(faint)
            axis.setLinePenColor(faint)

    def changeEvent(self, event: Any) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange):
            self._follow_palette()
        super().changeEvent(event)

    def drawForeground(self, painter: QPainter, rect: Any) -> None:
        super().drawForeground(painter, rect)
        if self.ceiling > 0:
            return
        painter.setPen(self.palette().color(self.palette().ColorRole.WindowText))
        painter.setFont(self.font())
        painter.drawText(self.sceneRect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)

    # -- where things are, and the value under the pointer --------------------------------------

    def plot_rect(self) -> QRect:
        """The plot area in the widget's coordinates."""
        area = self.chart().mapRectToScene(self.chart().plotArea())
        return self.mapFromScene(area).boundingRect()

    def x_of(self, index: int) -> float:
        """The middle of day `index` in the widget's coordinates."""
        area = self.chart().plotArea()
        slot = area.width() / max(1, len(self.days))
        scene = self.chart().mapToScene(QPointF(area.left() + slot * (index + 0.5), area.top()))
        return float(self.mapFromScene(scene).x())

    def day_at(self, x: int) -> int | None:
        plot = self.plot_rect()
        if self.ceiling <= 0 or not plot.left() <= x <= plot.right():
            return None
        width = plot.width() / len(self.days)
        return min(len(self.days) - 1, max(0, int((x - plot.left()) / width)))

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

    def point_of(self, index: int, value: float) -> QPoint:
        """Where (day `index`, `value`) is drawn, in the widget's coordinates."""
        chart = self.chart()
        position = chart.mapToPosition(QPointF(index, value), chart.series()[0])
        return self.mapFromScene(chart.mapToScene(position))
