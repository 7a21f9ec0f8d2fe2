"""The Insights chart widget on its own (Qt Charts): the empty state, the window's palette,
day labels that fit the width, and lines with days missing. What the views put in it is
tested through the views (tests/ui/test_insights.py)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from promodesk.qt import QColor, QLineSeries, QPalette
from promodesk.ui.insights.chart import DASHED, LINE, DayChart, Marker, Series, short_day

DAYS = [(date(2026, 10, 1) + timedelta(days=n)).isoformat() for n in range(60)]
HANDED_OUT = [float(n % 7 + 1) for n in range(60)]


def shown(qtbot: Any, width: int = 1100, height: int = 360) -> DayChart:
    chart = DayChart()
    qtbot.addWidget(chart)
    chart.resize(width, height)
    chart.show()
    qtbot.waitExposed(chart)
    return chart


def colours(chart: DayChart) -> set[str]:
    image = chart.grab().toImage()
    return {
        image.pixelColor(x, y).name()
        for x in range(0, image.width(), 3)
        for y in range(0, image.height(), 3)
    }


def test_an_empty_chart_says_so_on_its_own_background(qtbot: Any) -> None:
    chart = shown(qtbot)
    chart.set_data(DAYS, [Series("handed out", HANDED_OUT, "#3a7bd5")])
    chart.set_data([], [], empty_text="No codes handed out yet.")
    assert chart.chart().series() == []
    assert not chart.x_axis.isVisible() and not chart.chart().legend().isVisible()
    assert chart.empty_text == "No codes handed out yet."
    assert chart.tooltip_at(chart.width() // 2) == ""
    drawn = colours(chart)
    base = chart.palette().color(QPalette.ColorRole.Base).name()
    text = chart.palette().color(QPalette.ColorRole.WindowText).name()
    assert base in drawn and text in drawn  # the message, in the text colour
    assert "#3a7bd5" not in drawn
    # All zeros is nothing to chart either.
    chart.set_data(DAYS[:3], [Series("handed out", [0.0, 0.0, 0.0], "#3a7bd5")])
    assert chart.chart().series() == [] and chart.ceiling == 0


def test_the_chart_follows_the_windows_palette(qtbot: Any) -> None:
    chart = shown(qtbot)
    chart.set_data(DAYS, [Series("handed out", HANDED_OUT, "#3a7bd5")], title="Per day")
    dark = QPalette(chart.palette())
    dark.setColor(QPalette.ColorRole.Base, QColor("#202124"))
    dark.setColor(QPalette.ColorRole.WindowText, QColor("#e8eaed"))
    chart.setPalette(dark)
    inner = chart.chart()
    assert inner.backgroundBrush().color().name() == "#202124"
    assert inner.titleBrush().color().name() == "#e8eaed"
    assert inner.legend().labelColor().name() == "#e8eaed"
    assert chart.x_axis.labelsColor().name() == "#e8eaed"
    assert chart.y_axis.labelsColor().name() == "#e8eaed"
    drawn = colours(chart)
    assert "#202124" in drawn and "#ffffff" not in drawn


def test_day_labels_are_dates_and_thin_out_to_fit_the_width(qtbot: Any) -> None:
    # 61 days across 1,156 pixels: the reconciliation view at 1366x768, where Qt Charts cut
    # every third label short ("11 N...") when they were spaced by their own width alone.
    days = [(date(2026, 9, 21) + timedelta(days=n)).isoformat() for n in range(61)]
    chart = shown(qtbot, width=1156)
    chart.set_data(days, [Series("allocated", [300.0] * 61, "#3a7bd5")])
    wide = chart.x_axis.categoriesLabels()
    assert not chart.x_axis.labelsTruncated()
    chart.resize(420, 360)
    qtbot.waitUntil(lambda: chart.x_axis.categoriesLabels() != wide, timeout=5_000)
    narrow = chart.x_axis.categoriesLabels()
    # (the flag follows the layout after the new labels, a turn of the event loop later)
    qtbot.waitUntil(lambda: not chart.x_axis.labelsTruncated(), timeout=5_000)
    for labels in (wide, narrow):
        assert labels[0] == short_day(days[0]) == "21 Sep"
        assert set(labels) <= {short_day(day) for day in days}
    assert 4 <= len(narrow) < len(wide)
    assert not chart.y_axis.labelsTruncated()
    # The value axis: round steps from zero, with thousands separated.
    chart.set_data(DAYS[:2], [Series("allocated", [1200.0, 4100.0], "#3a7bd5")])
    assert chart.y_axis.categoriesLabels() == ["0", "2,000", "4,000", "6,000"]


def test_a_line_with_days_missing_is_drawn_in_pieces_named_once(qtbot: Any) -> None:
    chart = shown(qtbot)
    values: list[float | None] = [3.0, 4.0, None, None, 5.0, 6.0, 7.0, None, 2.0]
    chart.set_data(
        DAYS[:9],
        [Series("redemptions", values, "#d9822b", LINE), Series("pace", [4.0] * 9, "#888", DASHED)],
        markers=[Marker(DAYS[6], "runs dry"), Marker("2027-01-01", "not on the chart")],
    )
    lines = [series for series in chart.chart().series() if isinstance(series, QLineSeries)]
    pieces = [line for line in lines if line.name() == "redemptions"]
    assert [[(p.x(), p.y()) for p in line.points()] for line in pieces] == [
        [(0, 3.0), (1, 4.0)],
        [(4, 5.0), (5, 6.0), (6, 7.0)],
        [(8, 2.0)],
    ]
    assert pieces[-1].pointsVisible()  # a lone day still shows
    legend = [marker.label() for marker in chart.chart().legend().markers() if marker.isVisible()]
    assert legend == ["redemptions", "pace"]
    # Only the marker on a charted day is drawn.
    assert [label.text() for label, _, _ in chart.marker_labels] == ["runs dry"]
    tip = chart.tooltip_at(round(chart.x_of(4))).splitlines()
    assert tip == ["5 Oct 2026", "redemptions: 5", "pace: 4"]
