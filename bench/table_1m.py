#!/usr/bin/env python3
"""The codes table with 1,000,000 rows: open, scroll to the end, sort, filter.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/table_1m.py [--rows N] [--repeat R]

Drives the real main window on a workspace holding N allocations (built once with the real
importer and index builder, kept in bench/out/). Each operation is timed from the user's action
to the rows being on screen (the table's first paint after the rows arrived). A Qt timer ticking
every 5 ms records the longest stall of the event loop while all of it runs: the time the window
could not have reacted to anything. Targets (issue #2): <= 100 ms each, no stall over 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import OUT, allocation_export, emit

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def workspace_with(rows: int) -> Path:
    from promodesk.store.db import connect
    from promodesk.store.importers.dispatch import import_file
    from promodesk.store.indexer import build_indexes
    from promodesk.store.workspace import create_workspace

    path = OUT / f"workspace_{rows}.promodesk"
    if path.exists():
        return path
    temp = OUT / f".workspace_{rows}.building"
    temp.unlink(missing_ok=True)
    create_workspace(temp, label=f"{rows:,} allocations")
    conn = connect(temp)
    import_file(conn, allocation_export(rows))
    build_indexes(conn)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    os.replace(temp, path)
    return path


class StallMeter:
    """Longest gap between 5 ms timer ticks, minus the 5 ms: how long the loop was blocked."""

    def __init__(self) -> None:
        from promodesk.qt import QTimer

        self.worst = 0.0
        self.phase = ""
        self.worst_phase = ""
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        if now - self._last - 0.005 > self.worst:
            self.worst = now - self._last - 0.005
            self.worst_phase = self.phase
        self._last = now

    def start(self) -> None:
        self._last = time.perf_counter()
        self.timer.start()


async def signalled(signal, ready=lambda: True) -> float:
    """When `signal` fired with `ready()` true (timed inside the handler, before any paint)."""
    future = asyncio.get_running_loop().create_future()

    def done(*_args: object) -> None:
        if not future.done() and ready():
            future.set_result(time.perf_counter())

    signal.connect(done)
    try:
        return await future
    finally:
        signal.disconnect(done)


class PaintLog:
    """When the table's viewport last painted: rows are on screen at the first paint after
    they arrived (forcing a repaint would paint twice and time the benchmark, not the app)."""

    def __init__(self, widget) -> None:
        from promodesk.qt import QEvent, QObject

        self.times: list[float] = []
        log = self.times

        class Watch(QObject):
            def eventFilter(self, _watched, event) -> bool:
                if event.type() == QEvent.Type.Paint:
                    log.append(time.perf_counter())
                return False

        self._watch = Watch()
        widget.installEventFilter(self._watch)

    async def after(self, moment: float) -> float:
        widget_update_deadline = time.perf_counter() + 5
        while time.perf_counter() < widget_update_deadline:
            later = [t for t in self.times if t >= moment]
            if later:
                return later[0]
            await asyncio.sleep(0.001)
        raise TimeoutError("the table did not repaint")


async def measure(path: Path, repeat: int) -> dict[str, object]:
    from promodesk.domain.vendors import Vendor
    from promodesk.qt import QPoint, QSettings, Qt
    from promodesk.ui.main_window import MainWindow
    from promodesk.ui.tasks import TaskRunner

    settings_dir = tempfile.mkdtemp()
    window = MainWindow(
        TaskRunner(), QSettings(f"{settings_dir}/s.ini", QSettings.Format.IniFormat)
    )
    window.resize(1400, 860)
    window.show()
    table = window.panels[Vendor.OPTIMOVE].allocations
    model, view = table.model, table.view
    stall = StallMeter()
    stall.start()
    paints = PaintLog(view.viewport())
    results: dict[str, list[float]] = {
        "open_ms": [],
        "scroll_to_end_ms": [],
        "sort_ms": [],
        "filter_ms": [],
    }
    for _ in range(repeat):
        stall.phase = "open"
        start = time.perf_counter()
        window.open_workspace(path)
        shown = await signalled(model.query_applied)
        results["open_ms"].append((await paints.after(shown) - start) * 1000)
        rows = model.rowCount()

        stall.phase = "scroll"
        start = time.perf_counter()
        view.scrollToBottom()
        last = model.index(rows - 1, 0)
        loaded = await signalled(model.page_loaded, lambda last=last: model.data(last) is not None)
        results["scroll_to_end_ms"].append((await paints.after(loaded) - start) * 1000)

        header = view.horizontalHeader()
        section = [column.name for column in model.columns].index("customer_id")
        position = QPoint(header.sectionViewportPosition(section) + 8, header.height() // 2)
        from PySide6.QtTest import QTest

        stall.phase = "sort"
        start = time.perf_counter()
        QTest.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=position)
        shown = await signalled(model.query_applied)
        results["sort_ms"].append((await paints.after(shown) - start) * 1000)
        assert model.query.sort_column == "customer_id"

        stall.phase = "filter"
        table.search_box.setText("QZ7")
        start = time.perf_counter()
        QTest.keyClick(table.search_box, Qt.Key.Key_Return)
        shown = await signalled(model.query_applied)
        results["filter_ms"].append((await paints.after(shown) - start) * 1000)
        matches = model.rowCount()
        table.search_box.clear()
        QTest.keyClick(table.search_box, Qt.Key.Key_Return)
        await signalled(model.query_applied)
        view.sortByColumn(
            [column.name for column in model.columns].index("allocated_at"),
            Qt.SortOrder.DescendingOrder,
        )
        await signalled(model.query_applied)
    stall.timer.stop()
    window.close()
    await window.shutdown()
    shutil.rmtree(settings_dir, ignore_errors=True)
    summary: dict[str, object] = {
        name: round(statistics.median(values), 1) for name, values in results.items()
    }
    summary.update(
        {
            "rows": rows,
            "filter_matches": matches,
            "longest_stall_ms": round(stall.worst * 1000, 1),
            "longest_stall_during": stall.worst_phase,
        }
    )
    return summary


async def bare_floor(repeat: int) -> dict[str, float]:
    """The same window size and four visible tables, but plain QTableViews over in-memory
    models (one of a million rows), all reset at once: what Qt alone costs when a workspace
    opens. Measured in the same run, as context for the targets."""
    from promodesk.qt import (
        QAbstractTableModel,
        QHeaderView,
        QMainWindow,
        QModelIndex,
        QSplitter,
        Qt,
        QTableView,
    )

    class Plain(QAbstractTableModel):
        def __init__(self, rows: int) -> None:
            super().__init__()
            self.rows = rows

        def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008
            return 0 if parent.isValid() else self.rows

        def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
            return 0 if parent.isValid() else 9

        def data(self, index, role=Qt.ItemDataRole.DisplayRole):
            if role == Qt.ItemDataRole.DisplayRole:
                return f"CODE{index.row():07d}-{index.column()}"
            return None

    window = QMainWindow()
    window.resize(1400, 860)
    splitter = QSplitter()
    models = [Plain(3), Plain(3), Plain(1_000_000), Plain(5)]
    for model in models:
        view = QTableView()
        view.setModel(model)
        view.setAlternatingRowColors(True)
        view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        view.verticalHeader().hide()
        splitter.addWidget(view)
    window.setCentralWidget(splitter)
    window.show()
    await asyncio.sleep(0.3)
    stall = StallMeter()
    stall.start()
    for _ in range(repeat):
        for model in models:
            model.beginResetModel()
            model.endResetModel()
        await asyncio.sleep(0.15)
    stall.timer.stop()
    window.close()
    return {"bare_qt_reset_four_tables_longest_stall_ms": round(stall.worst * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    path = workspace_with(args.rows)
    copy = Path(tempfile.mkdtemp()) / path.name
    shutil.copyfile(path, copy)
    # Flush the copy now: otherwise opening it (which fsyncs once, entering WAL mode) would
    # time the OS writing back this script's own 300 MB copy.
    with copy.open("rb+") as handle:
        os.fsync(handle.fileno())

    import qasync

    from promodesk.qt import QApplication

    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        summary = loop.run_until_complete(measure(copy, args.repeat))
        summary.update(loop.run_until_complete(bare_floor(args.repeat)))
    shutil.rmtree(copy.parent, ignore_errors=True)
    emit(
        {
            "benchmark": "table_1m",
            "platform": os.environ.get("QT_QPA_PLATFORM"),
            "repeat": args.repeat,
            **summary,
            "targets": {"each_ms": "<= 100", "longest_stall_ms": "<= 50"},
        }
    )


if __name__ == "__main__":
    main()
