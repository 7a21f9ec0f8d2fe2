#!/usr/bin/env python3
"""Draw the promodesk icon (a price tag with a percent sign) into resources/icons/.

QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/make_icon.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QGuiApplication,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
)

OUT = Path(__file__).resolve().parents[1] / "resources" / "icons"


def draw(size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / 256
    # Rounded square background.
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(QColor("#1f5fbf")))
    p.drawRoundedRect(QRectF(8 * s, 8 * s, 240 * s, 240 * s), 48 * s, 48 * s)
    # A tag: a pentagon pointing left, with a hole.
    tag = QPainterPath()
    tag.moveTo(QPointF(64 * s, 128 * s))
    tag.lineTo(QPointF(112 * s, 72 * s))
    tag.lineTo(QPointF(208 * s, 72 * s))
    tag.lineTo(QPointF(208 * s, 184 * s))
    tag.lineTo(QPointF(112 * s, 184 * s))
    tag.closeSubpath()
    hole = QPainterPath()
    hole.addEllipse(QPointF(104 * s, 128 * s), 12 * s, 12 * s)
    p.setBrush(QBrush(QColor("#ffffff")))
    p.drawPath(tag.subtracted(hole))
    # Percent sign on the tag.
    p.setPen(QPen(QColor("#1f5fbf")))
    font = QFont("DejaVu Sans")
    font.setBold(True)
    font.setPixelSize(int(80 * s))
    p.setFont(font)
    p.drawText(QRectF(118 * s, 72 * s, 90 * s, 112 * s), Qt.AlignmentFlag.AlignCenter, "%")
    p.end()
    return image


def main() -> None:
    QGuiApplication(sys.argv[:1])
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (16, 32, 48, 64, 128, 256):
        draw(size).save(str(OUT / f"promodesk-{size}.png"))
    draw(256).save(str(OUT / "promodesk.png"))
    draw(256).save(str(OUT / "promodesk.ico"))  # Windows builds (packaging/README.md)
    for path in sorted(OUT.iterdir()):
        print(f"{path.stat().st_size:>7,}  {path.name}")


if __name__ == "__main__":
    main()
