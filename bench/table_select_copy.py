#!/usr/bin/env python3
"""Select all, copy and export 1,000,000 rows in the window, and the longest event-loop stall.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/table_select_copy.py [--rows N] [--repeat R]

Drives the real main window on the workspace bench/table_1m.py builds (N allocations), with the
user's keys where there are keys:
- Ctrl+A on the focused table, then a refresh of the same rows (a layout change: with every
  row selected, Qt used to walk the whole selection, 71 s at a million rows);
- Ctrl+C on that selection (more than the clipboard takes: the offer to export instead);
- Ctrl+C on the first 100,000 rows (the clipboard's cap), until the text is on the clipboard;
- Export rows… of every row to a CSV file, until it is written.
The export is set against a bare `csv.writer` over the same query in the same run (same columns,
same order, no formula guard, no fsync): the target is <= 1.5x. A 5 ms Qt timer records the
longest stall of the event loop meanwhile (target <= 50 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import emit
from table_1m import StallMeter, workspace_with

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


async def until(signal, ready=lambda *_: True) -> tuple[float, tuple]:
    future = asyncio.get_running_loop().create_future()

    def done(*args: object) -> None:
        if not future.done() and ready(*args):
            future.set_result((time.perf_counter(), args))

    signal.connect(done)
    try:
        return await future
    finally:
        signal.disconnect(done)


async def measure(path: Path, repeat: int, scratch: Path) -> dict[str, object]:
    from PySide6.QtTest import QTest

    from promodesk.domain.vendors import Vendor
    from promodesk.qt import QItemSelectionModel, QSettings, Qt
    from promodesk.services.row_export import CLIPBOARD_MAX_ROWS
    from promodesk.ui.main_window import MainWindow
    from promodesk.ui.tasks import TaskRunner

    window = MainWindow(TaskRunner(), QSettings(str(scratch / "s.ini"), QSettings.Format.IniFormat))
    window.show()
    table = window.panels[Vendor.OPTIMOVE].allocations
    model, view = table.model, table.view
    shown = asyncio.ensure_future(until(model.query_applied, lambda: model.rowCount() > 0))
    await window.open_workspace(path).as_future()
    await shown
    rows = model.rowCount()
    window.activateWindow()
    view.setFocus()
    transfer = window.row_transfer
    stall = StallMeter()
    stall.start()
    results: dict[str, list[float]] = {
        "select_all_ms": [],
        "refresh_with_all_selected_ms": [],
        "copy_all_offer_export_ms": [],
        "copy_100k_s": [],
        "export_all_s": [],
    }
    worst: dict[str, float] = {}

    def phase(name: str) -> None:
        stall.phase = name

    for run in range(repeat):
        phase("select all")
        start = time.perf_counter()
        QTest.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        selected = table.selected_rows()
        results["select_all_ms"].append((time.perf_counter() - start) * 1000)
        assert selected is not None
        assert selected.everything
        assert selected.count == rows

        phase("refresh with every row selected")
        start = time.perf_counter()
        model.refresh()
        finished, _ = await until(model.query_applied)
        results["refresh_with_all_selected_ms"].append((finished - start) * 1000)

        phase("copy all: offer to export")
        QTest.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        start = time.perf_counter()
        QTest.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
        results["copy_all_offer_export_ms"].append((time.perf_counter() - start) * 1000)
        assert window.message_bar.action_button.text().startswith("Export")

        phase("copy 100,000 rows")
        view.selectionModel().select(
            _rows(model, 0, CLIPBOARD_MAX_ROWS - 1),
            QItemSelectionModel.SelectionFlag.ClearAndSelect,
        )
        start = time.perf_counter()
        QTest.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
        finished, (copied,) = await until(transfer.copied)
        results["copy_100k_s"].append(finished - start)
        assert copied == CLIPBOARD_MAX_ROWS

        phase("export all rows")
        target = scratch / f"export-{run}.csv"
        start = time.perf_counter()
        transfer.export("Allocations", table.all_rows(), table.shown_columns(), target)
        finished, (_target, written) = await until(transfer.exported)
        results["export_all_s"].append(finished - start)
        assert written == rows
        worst[stall.worst_phase] = max(worst.get(stall.worst_phase, 0.0), stall.worst)
        target.unlink()
    stall.timer.stop()
    columns = [column.name for column in table.shown_columns()]
    sort = model.query.sort_column
    direction = "DESC" if model.query.descending else "ASC"
    window.close()
    await window.shutdown()
    summary: dict[str, object] = {
        name: round(statistics.median(values), 3 if name.endswith("_s") else 1)
        for name, values in results.items()
    }
    bare = [bare_csv_writer(path, columns, sort, direction, scratch) for _ in range(repeat)]
    summary.update(
        {
            "rows": rows,
            "bare_csv_writer_s": round(statistics.median(bare), 3),
            "export_ratio_to_bare": round(
                statistics.median(results["export_all_s"]) / statistics.median(bare), 2
            ),
            "longest_stall_ms": round(stall.worst * 1000, 1),
            "longest_stall_during": stall.worst_phase,
        }
    )
    return summary


def _rows(model, first: int, last: int):
    from promodesk.qt import QItemSelection

    return QItemSelection(model.index(first, 0), model.index(last, model.columnCount() - 1))


def bare_csv_writer(
    path: Path, columns: list[str], sort: str, direction: str, scratch: Path
) -> float:
    """The floor: the same rows in the same order into a CSV, nothing else."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    target = scratch / "bare.csv"
    start = time.perf_counter()
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(columns)
        writer.writerows(
            conn.execute(
                f"SELECT {', '.join(columns)} FROM optimove_allocations "
                f"ORDER BY {sort} {direction}, id {direction}"
            )
        )
    elapsed = time.perf_counter() - start
    conn.close()
    target.unlink()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    path = workspace_with(args.rows)
    scratch = Path(tempfile.mkdtemp())
    copy = scratch / path.name
    shutil.copyfile(path, copy)
    with copy.open("rb+") as handle:
        os.fsync(handle.fileno())

    import qasync

    from promodesk.qt import QApplication

    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        summary = loop.run_until_complete(measure(copy, args.repeat, scratch))
    shutil.rmtree(scratch, ignore_errors=True)
    emit(
        {
            "benchmark": "table_select_copy",
            "platform": os.environ.get("QT_QPA_PLATFORM"),
            "repeat": args.repeat,
            **summary,
            "targets": {"longest_stall_ms": "<= 50", "export_ratio_to_bare": "<= 1.5"},
        }
    )


if __name__ == "__main__":
    main()
