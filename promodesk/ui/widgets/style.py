"""Text styles shared by the window and its dialogs.

Secondary text (help under a field, row counts, notes) used `palette(mid)`, a border grey that
reads at about 2.5:1 against the window: too light to read. It is now the text colour blended
towards the background only so far that it keeps WCAG AA contrast (4.5:1) in light and dark
themes alike.
"""

from __future__ import annotations

from promodesk.qt import QColor, QPalette, QWidget

SECONDARY_TEXT_WEIGHT = 0.68  # how much of the text colour is kept


def _luminance(color: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(color.redF())
        + 0.7152 * channel(color.greenF())
        + 0.0722 * channel(color.blueF())
    )


def contrast(foreground: QColor, background: QColor) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def secondary_text_color(widget: QWidget) -> QColor:
    palette = widget.palette()
    text = palette.color(QPalette.ColorRole.WindowText)
    background = palette.color(QPalette.ColorRole.Window)
    weight = SECONDARY_TEXT_WEIGHT
    return QColor.fromRgbF(
        text.redF() * weight + background.redF() * (1 - weight),
        text.greenF() * weight + background.greenF() * (1 - weight),
        text.blueF() * weight + background.blueF() * (1 - weight),
    )


def secondary_text_style(widget: QWidget) -> str:
    return f"color: {secondary_text_color(widget).name()};"
