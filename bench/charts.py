#!/usr/bin/env python3
"""What the first chart costs: importing the chart module (with its plotting library) and
drawing its first chart, beside a bare QPainter widget drawing the same bars, each in a fresh
process, runs interleaved, medians.

    .venv/bin/python bench/charts.py [--repeat 7] [--variant NAME=CHECKOUT] [--onedir NAME=DIR]

A view imports promodesk.ui.insights.chart when it is first shown, so this is what opening Pool
runway or Reconciliation adds the first time; the window's own start is bench/cold_start.py.
The child starts a QApplication, paints one plain widget and builds Qt's enum namespace first
(the window has paid for those by then), then times `import promodesk.ui.insights.chart` and, from
creating a DayChart with 90 days of bars, a dashed projection and a marker, to the end of its
first paint. The bare child draws the same 90 bars with QPainter instead of importing anything.

--variant NAME=CHECKOUT runs the chart child on another checkout with its own .venv (used to
compare libraries: one checkout per candidate, all in the same run). --onedir NAME=DIR adds
the size of built bundles (packaging/build) and each one's difference to the first.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bundle import size_mb
from common import REPO, emit, median

CHILD = r"""
import json, resource, sys, time
from datetime import date, timedelta

from promodesk.qt import QApplication, QColor, QEvent, QObject, QPainter, QTimer, QWidget

kind = sys.argv[1]
app = QApplication([sys.argv[0]])
DAYS = [(date(2026, 9, 1) + timedelta(days=n)).isoformat() for n in range(90)]
HANDED_OUT = [float(20 + (n * 37) % 50) for n in range(60)] + [None] * 30
PACE = [None] * 59 + [38.5] * 31


class Bars(QWidget):
    def paintEvent(self, _event):
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("white"))
        slot = self.width() / len(DAYS)
        for n, value in enumerate(HANDED_OUT):
            if value:
                height = round(self.height() * value / 80)
                painter.fillRect(round(n * slot), self.height() - height, max(1, round(slot * 0.8)),
                                 height, QColor("#3a7bd5"))
        painter.end()


class FirstPaint(QObject):
    # The moment the target's first paint has been handled (the next turn of the loop).
    def __init__(self, target):
        super().__init__()
        self.target, self.done = target, None
        target.installEventFilter(self)

    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and self.done is None:
            QTimer.singleShot(0, self.finish)
        return False

    def finish(self):
        if self.done is None:
            self.done = time.perf_counter()


def painted(widget):
    # A QGraphicsView (Qt Charts, pyqtgraph) paints its scene in its viewport.
    views = [w for w in [widget, *widget.findChildren(QWidget)] if hasattr(w, "viewport")]
    watch = FirstPaint(views[0].viewport() if views else widget)
    widget.resize(1100, 360)
    widget.show()
    while watch.done is None:
        app.processEvents()
    return watch.done


painted(QWidget())  # the platform, fonts and the first window, paid before any chart
from promodesk.qt import Qt  # and Qt's enum namespace (~20 ms), which the window has built

Qt.AlignmentFlag.AlignCenter
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
modules_before = set(sys.modules)
started = time.perf_counter()
if kind == "chart":
    from promodesk.ui.insights.chart import DASHED, DayChart, Marker, Series
imported = time.perf_counter()
if kind == "chart":
    widget = DayChart()
    widget.set_data(
        DAYS,
        [Series("handed out", HANDED_OUT, "#3a7bd5"),
         Series("at 38.5 a day", PACE, "#888888", DASHED)],
        markers=[Marker(DAYS[85], "runs dry " + DAYS[85])],
        title="Promocode pc-demo: codes handed out per day",
    )
else:
    widget = Bars()
done = painted(widget)
new = set(sys.modules) - modules_before
print(json.dumps({
    "import_s": imported - started,
    "first_paint_s": done - imported,
    "total_s": done - started,
    "modules_loaded": len(new),
    "numpy_loaded": "numpy" in sys.modules,
    "qt_modules_loaded": sorted(m for m in new if m.startswith("PySide6.Qt")),
    "peak_rss_growth_mb": round(
        (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024, 1),
}))
"""


def run(python: str, checkout: Path, kind: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [python, "-c", CHILD, kind],
        capture_output=True,
        text=True,
        cwd=checkout,
        env=env,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{kind} child on {checkout} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def pairs(values: list[str]) -> dict[str, Path]:
    result = {}
    for value in values:
        name, _, path = value.partition("=")
        if not path:
            sys.exit(f"expected NAME=PATH, got {value!r}")
        result[name] = Path(path).resolve()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--name", default="this checkout", help="what to call this checkout")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=CHECKOUT")
    parser.add_argument("--onedir", action="append", default=[], metavar="NAME=DIR")
    args = parser.parse_args()
    variants = {args.name: REPO, **pairs(args.variant)}
    pythons = {
        name: sys.executable if path == REPO else str(path / ".venv" / "bin" / "python")
        for name, path in variants.items()
    }
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    for name, path in variants.items():  # bytecode once, as a pip install leaves it
        subprocess.run(
            [pythons[name], "-m", "compileall", "-q", str(path / "promodesk")], check=True
        )
    runs: dict[str, list[dict[str, Any]]] = {"bare": [], **{name: [] for name in variants}}
    for _ in range(args.repeat):  # interleaved, so all see the same machine load
        runs["bare"].append(run(sys.executable, REPO, "bare", env))
        for name, path in variants.items():
            runs[name].append(run(pythons[name], path, "chart", env))
    result: dict[str, Any] = {
        "benchmark": "charts",
        "platform": env["QT_QPA_PLATFORM"],
        "repeat": args.repeat,
    }
    bare_total = median([entry["total_s"] for entry in runs["bare"]])
    for name, entries in runs.items():
        last = entries[-1]
        figures: dict[str, Any] = {
            key: median([entry[key] for entry in entries])
            for key in ("import_s", "first_paint_s", "total_s", "peak_rss_growth_mb")
        }
        figures.update(
            modules_loaded=last["modules_loaded"],
            numpy_loaded=last["numpy_loaded"],
            qt_modules_loaded=last["qt_modules_loaded"],
        )
        if name != "bare":
            figures["checkout"] = str(variants[name])
            figures["extra_s_over_bare"] = round(figures["total_s"] - bare_total, 4)
        result[name] = figures
    onedirs = pairs(args.onedir)
    if onedirs:
        sizes = {name: size_mb(path) for name, path in onedirs.items()}
        first = next(iter(sizes.values()))
        result["onedir_mb"] = sizes
        result["onedir_mb_over_first"] = {
            name: round(size - first, 1) for name, size in sizes.items()
        }
    emit(result)


if __name__ == "__main__":
    main()
