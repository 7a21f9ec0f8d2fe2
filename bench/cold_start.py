#!/usr/bin/env python3
"""Cold start to the first painted window, beside a bare PySide6 window in the same run.

    .venv/bin/python bench/cold_start.py [--repeat 5] [--command "dist/promodesk/promodesk"]

Each run is a new process, timed from spawn until it reports its first paint (both print the
moment from inside the paint event). The bare window is a QMainWindow of the same size and
nothing else: the floor any Qt app pays. promodesk starts on a copy of the demo workspace.
Also reported: until the first table shows rows. Target (issue #2): median <= 1.5x bare.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from common import REPO, emit, median

BARE = """
import sys, time
started = time.perf_counter()
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.resize(1400, 860)
class Watch(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            print(f"first-paint {time.perf_counter() - started:.4f}", flush=True)
            QTimer.singleShot(0, app.quit)
        return False
watch = Watch()
window.installEventFilter(watch)
window.show()
app.exec()
"""

# The same, with a table of text: the first paint then also pays for fonts and item views,
# as any real window does. Context for the ratio, not the baseline.
BARE_TABLE = BARE.replace(
    "window = QMainWindow()",
    "window = QMainWindow()\n"
    "from PySide6.QtGui import QStandardItem, QStandardItemModel\n"
    "from PySide6.QtWidgets import QTableView\n"
    "model = QStandardItemModel(40, 8)\n"
    "[model.setItem(r, c, QStandardItem(f'cell {r}:{c}')) for r in range(40) for c in range(8)]\n"
    "view = QTableView(); view.setModel(model); window.setCentralWidget(view)",
)


def timed(command: list[str], marker: str, env: dict[str, str]) -> float:
    """Seconds from spawn to the line `marker ...` on the child's stdout."""
    start = time.perf_counter()
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    ) as child:
        assert child.stdout is not None
        killer = threading.Timer(60, child.kill)  # a hang fails the run instead of stalling it
        killer.start()
        for line in child.stdout:
            if line.startswith(marker):
                elapsed = time.perf_counter() - start
                break
        else:
            raise RuntimeError(f"{command[0]} never printed {marker!r}")
        child.wait(timeout=60)
        killer.cancel()
    return elapsed


@contextlib.contextmanager
def start_setting() -> Iterator[tuple[dict[str, str], Path]]:
    """(environment, workspace) for timing starts: a fresh copy of the demo workspace and
    settings folders of its own (removed afterwards), the platform from QT_QPA_PLATFORM
    (default offscreen), and promodesk compiled to bytecode once, as a pip install does."""
    folder = Path(tempfile.mkdtemp(prefix="promodesk-bench-"))
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
        "XDG_CONFIG_HOME": str(folder / "config"),
        "XDG_DATA_HOME": str(folder / "data"),
    }
    sys.path.insert(0, str(REPO))
    from promodesk.services.demo import build_demo_workspace

    workspace = build_demo_workspace(folder / "Demo.promodesk")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "promodesk")], check=True)
    try:
        yield env, workspace
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--command",
        default=f"{sys.executable} -m promodesk",
        help="how to start promodesk (e.g. the bundle: dist/promodesk/promodesk)",
    )
    args = parser.parse_args()
    with start_setting() as (env, workspace):
        ours = [*shlex.split(args.command), "--workspace", str(workspace)]
        bare, bare_table, first, rows = [], [], [], []
        for _ in range(args.repeat):  # interleaved, so all see the same machine load
            bare.append(timed([sys.executable, "-c", BARE], "first-paint", env))
            bare_table.append(timed([sys.executable, "-c", BARE_TABLE], "first-paint", env))
            first.append(timed([*ours, "--exit-after", "first-paint"], "first-paint", env))
            rows.append(timed([*ours, "--exit-after", "rows"], "rows", env))
    emit(
        {
            "benchmark": "cold_start",
            "platform": env["QT_QPA_PLATFORM"],
            "command": args.command,
            "repeat": args.repeat,
            "bare_pyside6_first_paint_s": median(bare),
            "bare_pyside6_with_table_first_paint_s": median(bare_table),
            "promodesk_first_paint_s": median(first),
            "ratio_to_bare": round(median(first) / median(bare), 2),
            "promodesk_rows_on_screen_s": median(rows),
            "targets": {"ratio_to_bare": "<= 1.5"},
        }
    )


if __name__ == "__main__":
    main()
